//! Application assembly: the actix `App` (routes, extractor configs, middleware, docs), the
//! OpenAPI document, and the HTTP server with graceful shutdown. The shared state is in `state`.

use actix_web::body::{BoxBody, EitherBody, MessageBody};
use actix_web::dev::{ServiceFactory, ServiceRequest, ServiceResponse};
use actix_web::http::header;
use actix_web::middleware::{ErrorHandlerResponse, ErrorHandlers, Next, from_fn};
use actix_web::{App, HttpRequest, HttpResponse, HttpServer, ResponseError, web};
use utoipa::{Modify, OpenApi};
use utoipa_actix_web::AppExt;
use utoipa_swagger_ui::SwaggerUi;

use crate::api::{self, ApiDoc, text};
use crate::error::{AppError, PROBLEM_JSON};
use crate::state::AppState;
use crate::telemetry;

/// The OpenAPI document of every route, generated from the handlers' annotations.
pub fn openapi() -> utoipa::openapi::OpenApi {
    complete(
        App::new()
            .into_utoipa_app()
            .openapi(ApiDoc::openapi())
            .configure(api::configure)
            .split_for_parts()
            .1,
    )
}

/// What is added to the document once every route is in it: the responses any operation may give
/// (400, 408, 413, 415, 429, 503), as references to the shared components, and the text and date
/// patterns every string input must match.
fn complete(mut doc: utoipa::openapi::OpenApi) -> utoipa::openapi::OpenApi {
    api::problems::CommonResponses.modify(&mut doc);
    api::doc_patterns::TextPatterns.modify(&mut doc);
    doc
}

/// Builds the application exactly as production serves it (tests call this too).
pub fn build(
    state: web::Data<AppState>,
) -> App<
    impl ServiceFactory<
        ServiceRequest,
        Config = (),
        Response = ServiceResponse<impl MessageBody>,
        Error = actix_web::Error,
        InitError = (),
    >,
> {
    let limit = state.config.body_limit_bytes;
    let pages = crate::web::service(&state);
    let metrics = web::Data::from(state.metrics.clone());
    let (app, doc) = App::new()
        .into_utoipa_app()
        .openapi(ApiDoc::openapi())
        .app_data(state)
        .app_data(metrics)
        .app_data(api::extractors::query_config())
        .app_data(api::extractors::path_config())
        .app_data(api::extractors::form_config(limit))
        .app_data(web::PayloadConfig::new(limit))
        .configure(api::configure)
        .split_for_parts();
    let doc = complete(doc);
    let routes = web::Data::new(RouteTable::from_openapi(&doc));
    app.app_data(routes)
        .service(
            SwaggerUi::new("/docs/{_:.*}")
                .url("/api-docs/openapi.json", doc)
                .config(utoipa_swagger_ui::Config::default().validator_url("none")),
        )
        .route("/docs", web::get().to(docs_redirect))
        .service(pages)
        .default_service(web::to(fallback))
        .wrap(from_fn(reject_unknown_query_parameters))
        .wrap(from_fn(refuse_unreadable_requests))
        .wrap(from_fn(api::fair_use::rate_limit))
        .wrap(ErrorHandlers::new().default_handler(ensure_problem_json))
        // Under /fhir/, every problem document becomes an OperationOutcome.
        .wrap(from_fn(api::fhir::outcomes))
        // gzip, brotli or zstd when the client's Accept-Encoding asks for it.
        .wrap(actix_web::middleware::Compress::default())
        .wrap(from_fn(telemetry::request_middleware))
}

async fn docs_redirect() -> HttpResponse {
    HttpResponse::PermanentRedirect()
        .insert_header((header::LOCATION, "/docs/"))
        .finish()
}

/// Unknown paths get 404; known paths with another method get 405 with `Allow`.
async fn fallback(req: HttpRequest, routes: web::Data<RouteTable>) -> HttpResponse {
    let allowed = routes.methods_for(req.path());
    if allowed.is_empty() {
        return AppError::NotFound(format!("no resource at {}", req.path())).error_response();
    }
    let mut res = AppError::MethodNotAllowed(format!(
        "{} is not supported here; allowed: {}",
        req.method(),
        allowed.join(", ")
    ))
    .error_response();
    if let Ok(v) = header::HeaderValue::from_str(&allowed.join(", ")) {
        res.headers_mut().insert(header::ALLOW, v);
    }
    res
}

/// The safety net: any error response not already a problem document (an error raised inside
/// actix itself) is rewritten as one, keeping its status.
fn ensure_problem_json<B: MessageBody + 'static>(
    res: ServiceResponse<B>,
) -> actix_web::Result<ErrorHandlerResponse<B>> {
    let is_problem = res
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.starts_with(PROBLEM_JSON)
                || v.starts_with(crate::fhir::FHIR_JSON)
                // The web front end's own error pages.
                || v.starts_with("text/html")
        });
    if is_problem {
        return Ok(ErrorHandlerResponse::Response(res.map_into_left_body()));
    }
    let status = res.status();
    let err = match status.as_u16() {
        400 => AppError::BadRequest("the request is malformed".into()),
        408 => AppError::RequestTimeout("the request was not received in time".into()),
        401 => AppError::Unauthorized("a valid bearer token is required".into()),
        403 => AppError::Forbidden("not allowed".into()),
        404 => AppError::NotFound("no such resource".into()),
        405 => AppError::MethodNotAllowed("method not allowed".into()),
        413 => AppError::PayloadTooLarge("the request body is too large".into()),
        414 => AppError::UriTooLong("the request URI is too long".into()),
        415 => AppError::UnsupportedMediaType(
            "the request body's content type is not read here".into(),
        ),
        431 => AppError::HeaderFieldsTooLarge("the request headers are too large".into()),
        429 => AppError::TooManyRequests {
            detail: "too many requests; slow down".into(),
            retry_after: 1,
        },
        s if s >= 500 => AppError::internal(format!("unhandled {s} response")),
        _ => AppError::BadRequest(status.canonical_reason().unwrap_or("error").into()),
    };
    let mut problem = err.problem();
    problem.status = status.as_u16();
    let body: BoxBody = BoxBody::new(serde_json::to_string(&problem).unwrap_or_default());
    let (req, old) = res.into_parts();
    let mut new = HttpResponse::with_body(status, body);
    for (k, v) in old.headers() {
        if k != header::CONTENT_TYPE && k != header::CONTENT_LENGTH {
            new.headers_mut().append(k.clone(), v.clone());
        }
    }
    new.headers_mut().insert(
        header::CONTENT_TYPE,
        header::HeaderValue::from_static(PROBLEM_JSON),
    );
    Ok(ErrorHandlerResponse::Response(
        ServiceResponse::new(req, new).map_into_right_body(),
    ))
}

/// The documented routes: path templates, their methods, and each operation's query parameters;
/// for 405 answers and for refusing query parameters an operation does not take.
#[derive(Debug, Default)]
pub struct RouteTable {
    routes: Vec<Route>,
}

#[derive(Debug)]
struct Route {
    segments: Vec<String>,
    /// Method → the names of the query parameters its operation declares.
    operations: Vec<(String, Vec<String>)>,
}

impl Route {
    /// How well a concrete path fits this template: `None` when it does not, otherwise the number
    /// of literal segments matched (so `/divergence/icbs` beats `/divergence/{ods}`).
    fn fit(&self, wanted: &[&str]) -> Option<usize> {
        if self.segments.len() != wanted.len() {
            return None;
        }
        let mut literal = 0;
        for (s, w) in self.segments.iter().zip(wanted) {
            if s.starts_with('{') && !w.is_empty() {
                continue;
            }
            if s != w {
                return None;
            }
            literal += 1;
        }
        Some(literal)
    }
}

impl RouteTable {
    fn from_openapi(doc: &utoipa::openapi::OpenApi) -> Self {
        use utoipa::openapi::RefOr;
        use utoipa::openapi::path::ParameterIn;
        let routes = doc
            .paths
            .paths
            .iter()
            .map(|(path, item)| {
                let mut operations = Vec::new();
                for (m, op) in [
                    ("GET", &item.get),
                    ("POST", &item.post),
                    ("PUT", &item.put),
                    ("DELETE", &item.delete),
                    ("PATCH", &item.patch),
                ] {
                    if let Some(op) = op {
                        let query = op
                            .parameters
                            .iter()
                            .flatten()
                            .filter_map(|p| match p {
                                RefOr::T(p) if matches!(p.parameter_in, ParameterIn::Query) => {
                                    Some(p.name.clone())
                                }
                                _ => None,
                            })
                            .collect();
                        operations.push((m.to_owned(), query));
                    }
                }
                Route {
                    segments: path.split('/').map(str::to_owned).collect(),
                    operations,
                }
            })
            .collect();
        Self { routes }
    }

    /// The documented route a concrete path belongs to (the most specific template).
    fn route_for(&self, path: &str) -> Option<&Route> {
        let wanted: Vec<&str> = path.split('/').collect();
        self.routes
            .iter()
            .filter_map(|r| r.fit(&wanted).map(|n| (n, r)))
            .max_by_key(|(n, _)| *n)
            .map(|(_, r)| r)
    }

    fn methods_for(&self, path: &str) -> Vec<String> {
        let mut out: Vec<String> = self
            .route_for(path)
            .map(|r| r.operations.iter().map(|(m, _)| m.clone()).collect())
            .unwrap_or_default();
        out.sort();
        out
    }

    /// The query parameters of a request that its operation does not declare, or `None` when the
    /// request is not a documented operation (404 and 405 are answered elsewhere).
    fn unknown_query_parameters(
        &self,
        method: &str,
        path: &str,
        query: &str,
    ) -> Option<Vec<String>> {
        let route = self.route_for(path)?;
        let (_, known) = route.operations.iter().find(|(m, _)| m == method)?;
        let mut unknown: Vec<String> = form_urlencoded_keys(query)
            .into_iter()
            .filter(|k| !known.contains(k))
            .collect();
        unknown.sort();
        unknown.dedup();
        Some(unknown)
    }
}

/// The decoded names of a query string's parameters (empty pieces skipped).
fn form_urlencoded_keys(query: &str) -> Vec<String> {
    serde_urlencoded::from_str::<Vec<(String, String)>>(query)
        .map(|pairs| pairs.into_iter().map(|(k, _)| k).collect())
        .unwrap_or_else(|_| {
            // Not decodable as a form: judge the raw names, so a malformed name is still refused.
            query
                .split('&')
                .filter(|p| !p.is_empty())
                .map(|p| p.split('=').next().unwrap_or(p).to_owned())
                .collect()
        })
}

/// The longest request target (path and query) served: longer is a 414 problem document. (Past
/// actix's own 128 KiB limit on a request head, actix answers 431 with an empty body; see
/// ARCHITECTURE.md, "Errors at the edge".)
pub const MAX_URI_BYTES: usize = 8 * 1024;

/// The most header bytes (names, values and separators) served: more is a 431 problem document.
pub const MAX_HEADER_BYTES: usize = 32 * 1024;

/// Refuses, before any extractor or handler sees them, requests whose URI or headers are too long
/// (414, 431) and any path segment or query parameter name or value that, percent-decoded, is not
/// UTF-8 or holds a control character (400 naming the parameter: the path template's name, such
/// as `ods`, or `path[i]` off the documented routes). So no control character reaches the
/// database through a path or a query, on either backend.
pub async fn refuse_unreadable_requests(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody>>, actix_web::Error> {
    let refusal = edge_refusal(&req);
    match refusal {
        None => Ok(next.call(req).await?.map_into_left_body()),
        Some(err) => Ok(req
            .into_response(err.error_response())
            .map_into_right_body()),
    }
}

fn edge_refusal(req: &ServiceRequest) -> Option<AppError> {
    let target = req.uri().path_and_query().map_or(0, |pq| pq.as_str().len());
    if target > MAX_URI_BYTES {
        return Some(AppError::UriTooLong(format!(
            "the request URI is {target} bytes; at most {MAX_URI_BYTES} are served"
        )));
    }
    let header_bytes: usize = req
        .headers()
        .iter()
        .map(|(k, v)| k.as_str().len() + v.len() + 4)
        .sum();
    if header_bytes > MAX_HEADER_BYTES {
        return Some(AppError::HeaderFieldsTooLarge(format!(
            "the request headers are {header_bytes} bytes; at most {MAX_HEADER_BYTES} are served"
        )));
    }
    let path = req.uri().path();
    let template = req
        .app_data::<web::Data<RouteTable>>()
        .and_then(|routes| routes.route_for(path));
    for (i, raw) in path.split('/').enumerate() {
        if !raw.contains('%') && raw.bytes().all(|b| !b.is_ascii_control()) {
            continue;
        }
        let name = template
            .and_then(|t| t.segments.get(i))
            .and_then(|s| s.strip_prefix('{')?.strip_suffix('}'))
            .map_or_else(|| format!("path[{i}]"), str::to_owned);
        let decoded = match String::from_utf8(text::percent_decode(raw.as_bytes(), false)) {
            Ok(d) => d,
            Err(_) => {
                return Some(AppError::bad_field(
                    name.clone(),
                    format!("the path parameter `{name}` is not UTF-8 once percent-decoded"),
                ));
            }
        };
        if let Some(c) = text::first_control(&decoded, false) {
            return Some(AppError::bad_field(
                name.clone(),
                format!("the path parameter `{name}` {}", text::control_message(c)),
            ));
        }
    }
    text::form_pairs(req.query_string().as_bytes(), "query parameter").err()
}

/// Refuses (400, naming them) query parameters the operation does not declare in the OpenAPI
/// document: a misspelt filter (`regoin=Y62`) must not silently return the national list.
pub async fn reject_unknown_query_parameters(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody>>, actix_web::Error> {
    let unknown = req
        .app_data::<web::Data<RouteTable>>()
        .and_then(|routes| {
            routes.unknown_query_parameters(req.method().as_str(), req.path(), req.query_string())
        })
        .unwrap_or_default();
    if unknown.is_empty() {
        return Ok(next.call(req).await?.map_into_left_body());
    }
    let names: Vec<String> = unknown.iter().map(|k| format!("`{k}`")).collect();
    let err = AppError::BadRequest(format!(
        "unknown query parameter{} {}: see the operation's parameters in the OpenAPI document",
        if unknown.len() == 1 { "" } else { "s" },
        names.join(", ")
    ));
    Ok(req
        .into_response(err.error_response())
        .map_into_right_body())
}

/// Runs the HTTP server until SIGTERM/SIGINT, then drains in-flight requests. Connections are
/// bounded (`config::ServerLimits`): a client has `header_timeout_ms` to send a request's head
/// (actix answers 408 and closes when it does not), idle keep-alive connections close, and each
/// worker holds at most `max_connections` (further ones wait in the listen backlog).
pub async fn serve(state: AppState) -> std::io::Result<()> {
    use std::time::Duration;
    let bind = state.config.bind;
    let limits = state.config.server;
    let state = web::Data::new(state);
    refresh_revocations(state.clone());
    sweep_caches(state.clone());
    tracing::info!(%bind, docs = %format!("http://{bind}/docs/"), ?limits, "listening");
    let keep_alive = match limits.keep_alive_seconds {
        0 => actix_web::http::KeepAlive::Disabled,
        s => Duration::from_secs(s).into(),
    };
    HttpServer::new(move || build(state.clone()))
        .client_request_timeout(Duration::from_millis(limits.header_timeout_ms))
        .client_disconnect_timeout(Duration::from_millis(limits.disconnect_timeout_ms))
        .keep_alive(keep_alive)
        .max_connections(limits.max_connections)
        .backlog(limits.backlog)
        .bind(bind)?
        .shutdown_timeout(limits.shutdown_grace_seconds)
        .run()
        .await
}

/// How often revocations made outside this process (the command line, another instance) are
/// read; this process's own revocations take effect at once.
const REVOCATION_REFRESH: std::time::Duration = std::time::Duration::from_secs(5);

/// Re-reads the revoked clients every few seconds, on a thread of its own (it ends with the
/// process).
/// Every half minute, drops divergence analyses (and stored bodies) nobody has asked for in
/// `DMA_DIVERGENCE_CACHE_IDLE_SECONDS`, so memory goes back near idle after analysts stop.
fn sweep_caches(state: web::Data<AppState>) {
    let idle = std::time::Duration::from_secs(state.config.divergence_cache_idle_seconds);
    let spawned = std::thread::Builder::new()
        .name("cache-sweep".into())
        .spawn(move || {
            loop {
                std::thread::sleep(std::time::Duration::from_secs(30).min(idle));
                let dropped = state.divergence.evict_idle(idle);
                if dropped > 0 {
                    state.bodies.clear();
                    tracing::info!(dropped, "idle divergence analyses dropped");
                }
            }
        });
    if let Err(e) = spawned {
        tracing::error!(error = %e, "cannot start the cache sweep");
    }
}

fn refresh_revocations(state: web::Data<AppState>) {
    let spawned = std::thread::Builder::new()
        .name("revocations".into())
        .spawn(move || {
            loop {
                std::thread::sleep(REVOCATION_REFRESH);
                let refreshed = state
                    .pool
                    .get()
                    .map_err(AppError::from)
                    .and_then(|mut c| state.revoked.refresh(&mut c));
                if let Err(e) = refreshed {
                    tracing::warn!(error = %e, "could not refresh the revoked clients");
                }
            }
        });
    if let Err(e) = spawned {
        tracing::error!(error = %e, "cannot start the revocation refresh");
    }
}
