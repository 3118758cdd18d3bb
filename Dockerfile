# Build stage: a static-enough release binary (SQLite, libpq and OpenSSL are compiled in).
FROM rust:1.95-bookworm AS build
WORKDIR /src
COPY Cargo.toml Cargo.lock ./
COPY src ./src
COPY migrations ./migrations
COPY seeds ./seeds
COPY benches ./benches
RUN cargo build --release --locked --bin dma

# Runtime stage: a small image running as an unprivileged user.
FROM debian:bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends ca-certificates curl \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --uid 10001 --home /var/lib/dma dma \
    && mkdir -p /var/lib/dma && chown dma /var/lib/dma
COPY --from=build /src/target/release/dma /usr/local/bin/dma
USER dma
WORKDIR /var/lib/dma
ENV DMA_BIND=0.0.0.0:8080 DMA_DATA_DIR=/var/lib/dma DATABASE_URL=/var/lib/dma/dma.sqlite
EXPOSE 8080
HEALTHCHECK --interval=10s --timeout=3s CMD curl -fsS http://127.0.0.1:8080/health/ready || exit 1
ENTRYPOINT ["dma"]
CMD ["serve"]
