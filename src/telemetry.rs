//! Logging set-up, the per-request middleware (request id, tracing span, access log line,
//! metrics) and the Prometheus registry it feeds.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::time::Instant;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::middleware::Next;
use actix_web::{HttpMessage, web};
use tracing::Instrument;

use crate::config::LogFormat;

pub const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// Installs the global tracing subscriber (`RUST_LOG` filter, default `info`).
pub fn init(format: LogFormat) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let _ = match format {
        LogFormat::Json => builder.json().flatten_event(true).try_init(),
        LogFormat::Pretty => builder.try_init(),
    };
}

/// The request id of the current request (kept in request extensions).
#[derive(Debug, Clone)]
pub struct RequestId(pub String);

const LATENCY_BUCKETS: [f64; 12] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0,
];

#[derive(Debug, Default, Clone)]
struct Series {
    count: u64,
    sum: f64,
    buckets: [u64; LATENCY_BUCKETS.len()],
}

/// Request counts and latency histograms by method, route template and status.
#[derive(Debug, Default)]
pub struct Metrics {
    series: Mutex<BTreeMap<(String, String, u16), Series>>,
}

impl Metrics {
    pub fn observe(&self, method: &str, route: &str, status: u16, seconds: f64) {
        let Ok(mut map) = self.series.lock() else {
            return;
        };
        let s = map
            .entry((method.to_owned(), route.to_owned(), status))
            .or_default();
        s.count += 1;
        s.sum += seconds;
        for (i, le) in LATENCY_BUCKETS.iter().enumerate() {
            if seconds <= *le {
                s.buckets[i] += 1;
            }
        }
    }

    /// Prometheus text exposition format 0.0.4.
    pub fn render(&self) -> String {
        let map = match self.series.lock() {
            Ok(m) => m.clone(),
            Err(_) => BTreeMap::new(),
        };
        let mut out = String::new();
        out.push_str("# HELP dma_http_requests_total HTTP requests by method, route and status.\n");
        out.push_str("# TYPE dma_http_requests_total counter\n");
        for ((m, r, s), v) in &map {
            out.push_str(&format!(
                "dma_http_requests_total{{method=\"{m}\",route=\"{}\",status=\"{s}\"}} {}\n",
                escape(r),
                v.count
            ));
        }
        out.push_str("# HELP dma_http_request_duration_seconds HTTP request latency.\n");
        out.push_str("# TYPE dma_http_request_duration_seconds histogram\n");
        for ((m, r, s), v) in &map {
            let labels = format!("method=\"{m}\",route=\"{}\",status=\"{s}\"", escape(r));
            for (i, le) in LATENCY_BUCKETS.iter().enumerate() {
                out.push_str(&format!(
                    "dma_http_request_duration_seconds_bucket{{{labels},le=\"{le}\"}} {}\n",
                    v.buckets[i]
                ));
            }
            out.push_str(&format!(
                "dma_http_request_duration_seconds_bucket{{{labels},le=\"+Inf\"}} {}\n",
                v.count
            ));
            out.push_str(&format!(
                "dma_http_request_duration_seconds_sum{{{labels}}} {}\n",
                v.sum
            ));
            out.push_str(&format!(
                "dma_http_request_duration_seconds_count{{{labels}}} {}\n",
                v.count
            ));
        }
        out
    }
}

fn escape(label: &str) -> String {
    label.replace('\\', "\\\\").replace('"', "\\\"")
}

fn request_id_of(req: &ServiceRequest) -> String {
    req.headers()
        .get(&REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .filter(|v| !v.is_empty() && v.len() <= 128 && v.bytes().all(|b| b.is_ascii_graphic()))
        .map(str::to_owned)
        .unwrap_or_else(|| uuid::Uuid::new_v4().to_string())
}

/// Wraps every request: request id (kept if the client sent a sane one), a tracing span holding
/// it, an access log line, the metrics, and the `x-request-id` response header.
pub async fn request_middleware(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let started = Instant::now();
    let id = request_id_of(&req);
    req.extensions_mut().insert(RequestId(id.clone()));
    // Only the standard methods become metric labels, so arbitrary tokens cannot grow the table.
    let method = match req.method().as_str() {
        m @ ("GET" | "HEAD" | "POST" | "PUT" | "PATCH" | "DELETE" | "OPTIONS") => m.to_owned(),
        _ => "OTHER".to_owned(),
    };
    // A sign-in link's token is a secret until it is spent: it never reaches the logs, however
    // the path is spelt (any 64-hex-digit segment is written as `{token}`).
    let path = redact_tokens(req.path());
    let metrics = req.app_data::<web::Data<Metrics>>().cloned();
    let span = tracing::info_span!("request", request_id = %id, method = %method, path = %path);
    let result = next.call(req).instrument(span.clone()).await;
    let elapsed = started.elapsed().as_secs_f64();
    let mut res = result?;
    let status = res.status().as_u16();
    let route = res
        .request()
        .match_pattern()
        .unwrap_or_else(|| "unmatched".into());
    if let Some(metrics) = metrics {
        metrics.observe(&method, &route, status, elapsed);
    }
    if let Ok(v) = HeaderValue::from_str(&id) {
        res.headers_mut().insert(REQUEST_ID, v);
    }
    span.in_scope(
        || tracing::info!(status, route = %route, elapsed_ms = elapsed * 1000.0, "request"),
    );
    Ok(res)
}

/// The path with every segment that could be a secret token (64 hex digits, however
/// percent-encoded) replaced by `{token}`.
fn redact_tokens(path: &str) -> String {
    path.split('/')
        .map(|seg| {
            let hexish = seg.len() >= 64 && seg.bytes().all(|b| b.is_ascii_hexdigit() || b == b'%');
            if hexish { "{token}" } else { seg }
        })
        .collect::<Vec<_>>()
        .join("/")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sign_in_tokens_never_reach_the_log() {
        let t = "ab".repeat(32);
        assert_eq!(
            redact_tokens(&format!("/app/login/{t}")),
            "/app/login/{token}"
        );
        assert_eq!(
            redact_tokens(&format!("/app/%6Cogin/{t}")),
            "/app/%6Cogin/{token}"
        );
        assert_eq!(
            redact_tokens("/api/v1/organisations/RGT"),
            "/api/v1/organisations/RGT"
        );
    }

    #[test]
    fn metrics_render_counts_and_buckets() {
        let m = Metrics::default();
        m.observe("GET", "/api/v1/organisations", 200, 0.003);
        m.observe("GET", "/api/v1/organisations", 200, 0.2);
        let text = m.render();
        assert!(text.contains(
            "dma_http_requests_total{method=\"GET\",route=\"/api/v1/organisations\",status=\"200\"} 2"
        ));
        assert!(text.contains("le=\"0.005\"} 1"));
        assert!(text.contains("le=\"+Inf\"} 2"));
    }
}
