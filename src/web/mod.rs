//! The web front end under `/app`: server-rendered HTML in the NHS.UK design system (vendored in
//! `web/vendor/nhsuk-frontend`), for people rather than programs. Pages read the same analyses,
//! with the same role and disclosure rules, as the JSON API (`crate::api`): this module renders,
//! it does not decide who may see what.
//!
//! - `session`: browser sessions (an encrypted cookie naming a server-side session) and CSRF;
//! - `signin`: single-use sign-in links (`dma login-link`) and sign-out; `oidc`: OpenID Connect;
//! - `pages`: the analysts' dashboard (round overview, heatmap, targeting, areas, organisation);
//! - `charts`: server-side SVG charts (plotters), each shown beside a table of its figures;
//! - `layout`: the page frame (header, skip link, breadcrumbs, footer) and formatting helpers;
//! - `assets`: the vendored design system and the service's own CSS and JS, compiled in.

mod assets;
mod charts;
mod layout;
pub mod oidc;
mod pages;
pub mod session;
mod signin;

use actix_session::SessionMiddleware;
use actix_session::config::{BrowserSession, CookieContentSecurity};
use actix_session::storage::CookieSessionStore;
use actix_web::body::MessageBody;
use actix_web::cookie::{Key, SameSite};
use actix_web::dev::{HttpServiceFactory, ServiceRequest, ServiceResponse};
use actix_web::http::{StatusCode, header};
use actix_web::middleware::{Next, from_fn};
use actix_web::{HttpResponse, ResponseError, web};

use crate::error::AppError;
use crate::state::AppState;

pub use signin::{LINK_MINUTES as LOGIN_LINK_MINUTES, login_link};

/// The session cookie's name.
pub const COOKIE: &str = "dma-session";

/// Every page and asset of the front end, under `/app`.
pub fn service(state: &AppState) -> impl HttpServiceFactory + 'static {
    // Secure unless the service is reached over plain http on this machine only (browsers treat
    // loopback as a secure context, so the cookie still works there over http).
    let secure =
        state.config.public_url.starts_with("https://") || !state.config.bind.ip().is_loopback();
    let sessions = SessionMiddleware::builder(
        CookieSessionStore::default(),
        Key::from(state.keys.cookie_key()),
    )
    .cookie_name(COOKIE.to_owned())
    .cookie_path("/app".to_owned())
    .cookie_secure(secure)
    .cookie_http_only(true)
    .cookie_same_site(SameSite::Lax)
    .cookie_content_security(CookieContentSecurity::Private)
    .session_lifecycle(BrowserSession::default())
    .build();
    web::scope("/app")
        .configure(assets::configure)
        .configure(signin::configure)
        .configure(oidc::configure)
        .configure(pages::configure)
        .default_service(web::to(not_found))
        .wrap(sessions)
        .wrap(from_fn(page_headers))
}

async fn not_found(req: actix_web::HttpRequest) -> HttpResponse {
    WebError::NotFound(format!("There is no page at {}.", req.path())).error_response()
}

/// Headers on every response under `/app`: a content security policy that allows nothing from
/// elsewhere (no inline script or style either), no framing, no sniffing, no referrer beyond this
/// service, and no caching of pages (they hold other organisations' data).
async fn page_headers(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let is_asset = req.path().starts_with("/app/assets/");
    let mut res = next.call(req).await?;
    let h = res.headers_mut();
    let set = |h: &mut header::HeaderMap, k: header::HeaderName, v: &'static str| {
        h.insert(k, header::HeaderValue::from_static(v));
    };
    set(
        h,
        header::CONTENT_SECURITY_POLICY,
        "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; \
         object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'",
    );
    set(h, header::X_CONTENT_TYPE_OPTIONS, "nosniff");
    set(h, header::X_FRAME_OPTIONS, "DENY");
    set(h, header::REFERRER_POLICY, "no-referrer");
    if !is_asset {
        set(h, header::CACHE_CONTROL, "no-store");
    }
    Ok(res)
}

/// What a page can fail with: sign-in needed (a redirect), or an error page in the design
/// system's style with the status of the API's equivalent error.
#[derive(Debug, thiserror::Error)]
pub enum WebError {
    /// Not signed in (or the session ended): go to the sign-in page, then back to `next`.
    #[error("sign in to see this page")]
    SignIn { next: String },
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    BadRequest(String),
    #[error(transparent)]
    App(#[from] AppError),
}

impl From<diesel::result::Error> for WebError {
    fn from(e: diesel::result::Error) -> Self {
        WebError::App(e.into())
    }
}

impl ResponseError for WebError {
    fn status_code(&self) -> StatusCode {
        match self {
            WebError::SignIn { .. } => StatusCode::SEE_OTHER,
            WebError::Forbidden(_) => StatusCode::FORBIDDEN,
            WebError::NotFound(_) => StatusCode::NOT_FOUND,
            WebError::BadRequest(_) => StatusCode::BAD_REQUEST,
            WebError::App(e) => e.status_code(),
        }
    }

    fn error_response(&self) -> HttpResponse {
        if let WebError::SignIn { next } = self {
            let to = format!(
                "/app/sign-in?{}",
                serde_urlencoded::to_string([("next", next.as_str())]).unwrap_or_default()
            );
            return HttpResponse::SeeOther()
                .insert_header((header::LOCATION, to))
                .finish();
        }
        let status = self.status_code();
        let (title, detail) = match self {
            WebError::App(AppError::Internal(cause)) => {
                tracing::error!(cause = %cause, "internal error on a page");
                (
                    "Sorry, there is a problem with the service",
                    "Try again later.".to_owned(),
                )
            }
            WebError::Forbidden(m) | WebError::App(AppError::Forbidden(m)) => {
                ("You cannot see this page", m.clone())
            }
            WebError::NotFound(m) | WebError::App(AppError::NotFound(m)) => {
                ("Page not found", m.clone())
            }
            WebError::App(e) if status.is_server_error() => {
                ("Sorry, the service is busy", e.to_string())
            }
            other => ("There is a problem", other.to_string()),
        };
        let mut out = HttpResponse::build(status);
        out.content_type("text/html; charset=utf-8");
        if let WebError::App(
            AppError::TooManyRequests { retry_after, .. }
            | AppError::Overloaded { retry_after, .. },
        ) = self
        {
            out.insert_header((header::RETRY_AFTER, retry_after.to_string()));
        }
        out.body(layout::error_page(title, &detail).into_string())
    }
}

pub type WebResult<T> = Result<T, WebError>;
