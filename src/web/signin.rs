//! Signing in and out. On the embedded default an operator runs `dma login-link --role analyst`
//! (or `--role submitter --org RXX`): it prints a link, valid for ten minutes and spent on first
//! use, to `/app/login/{token}`. Opening it shows a "Sign in" button; the link is spent only when
//! the button is pressed (a POST), so link scanners in mail and chat cannot use it up. Only the
//! token's SHA-256 hash is stored, and the access log never shows the token.

use actix_session::Session;
use actix_web::http::header;
use actix_web::{HttpResponse, web};
use maud::html;
use serde::Deserialize;

use super::layout::Page;
use super::oidc;
use super::session::{self, Identity, Viewer, safe_next};
use super::{WebError, WebResult};
use crate::auth::Role;
use crate::db::{self, web_sessions};
use crate::error::AppError;
use crate::state::AppState;

/// How long a sign-in link can be used.
pub const LINK_MINUTES: i64 = 10;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/sign-in", web::get().to(sign_in_page))
        .route("/login/{token}", web::get().to(confirm_page))
        .route("/login", web::post().to(redeem))
        .route("/sign-out", web::post().to(sign_out))
        .route("/signed-out", web::get().to(signed_out));
}

#[derive(Debug, Deserialize)]
struct NextQuery {
    next: Option<String>,
}

async fn sign_in_page(
    state: web::Data<AppState>,
    q: web::Query<NextQuery>,
) -> WebResult<HttpResponse> {
    let next = safe_next(q.next.as_deref());
    let oidc_on = state.config.oidc.is_some();
    Ok(Page {
        title: "Sign in",
        viewer: None,
        crumbs: vec![],
        body_class: "",
    }
    .render(html! {
        h1 { "Sign in" }
        @if oidc_on {
            p { "Sign in with your NHS account (NHS Care Identity Service 2)." }
            a class="nhsuk-button" href={ "/app/oidc/start" (super::layout::query(&[("next", Some(&next))])) } data-testid="oidc-sign-in" {
                "Sign in with your NHS account"
            }
        }
        h2 class="nhsuk-heading-m" { "With a sign-in link" }
        p {
            "An administrator of this service can give you a sign-in link. It works once, "
            "for " (LINK_MINUTES) " minutes. On the server, run:"
        }
        pre class="app-code" { code { "dma login-link --role analyst" } }
        p { "or, for a trust's submitter, " code { "dma login-link --role submitter --org RXX" } "." }
    }))
}

#[derive(Debug, Deserialize)]
struct TokenPath {
    token: String,
}

fn valid_token(t: &str) -> bool {
    t.len() == 64 && t.bytes().all(|b| b.is_ascii_hexdigit())
}

async fn confirm_page(path: web::Path<TokenPath>) -> WebResult<HttpResponse> {
    let token = path.into_inner().token;
    if !valid_token(&token) {
        return Err(WebError::NotFound(
            "This sign-in link is not valid. Ask for a new one.".into(),
        ));
    }
    Ok(Page {
        title: "Sign in with your link",
        viewer: None,
        crumbs: vec![],
        body_class: "",
    }
    .render(html! {
        h1 { "Sign in with your link" }
        p { "This link works once. Press the button to sign in on this browser." }
        form method="post" action="/app/login" novalidate {
            input type="hidden" name="token" value=(token);
            button class="nhsuk-button" type="submit" data-module="nhsuk-button" { "Sign in" }
        }
    }))
}

#[derive(Debug, Deserialize)]
struct RedeemForm {
    token: String,
}

async fn redeem(
    state: web::Data<AppState>,
    req: actix_web::HttpRequest,
    session: Session,
    form: web::Form<RedeemForm>,
) -> WebResult<HttpResponse> {
    // Only this service's own sign-in page may post a link (no signing a victim's browser in as
    // someone else from another site); browsers say where a form came from.
    if req
        .headers()
        .get("sec-fetch-site")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v == "cross-site" || v == "same-site")
    {
        return Err(WebError::Forbidden(
            "Sign in from the link itself, not from another site.".into(),
        ));
    }
    let token = form.into_inner().token;
    let spent_link = if valid_token(&token) {
        let h = session::hash(&token);
        crate::api::with_conn(&state, move |c| {
            Ok(web_sessions::redeem_link(c, &h, db::now())?)
        })
        .await?
    } else {
        None
    };
    let Some(link) = spent_link else {
        return Err(WebError::Forbidden(
            "This sign-in link has been used, has expired (links last 10 minutes) or is not \
             valid. Ask for a new one."
                .into(),
        ));
    };
    let role = Role::parse(&link.role)
        .ok_or_else(|| AppError::Internal(format!("stored role `{}`", link.role)))?;
    let orgs = link.organisation_codes()?;
    session::start(
        &state,
        &session,
        Identity {
            subject: link.subject,
            role,
            orgs,
            method: "login_link",
        },
    )
    .await?;
    Ok(HttpResponse::SeeOther()
        .insert_header((header::LOCATION, "/app"))
        .finish())
}

#[derive(Debug, Deserialize)]
struct CsrfForm {
    csrf_token: String,
}

async fn sign_out(
    state: web::Data<AppState>,
    session: Session,
    viewer: Viewer,
    form: web::Form<CsrfForm>,
) -> WebResult<HttpResponse> {
    viewer.check_csrf(&form.csrf_token)?;
    session::end(&state, &session).await?;
    let to = if oidc::signs_out_upstream(&state) {
        "/app/oidc/signed-out"
    } else {
        "/app/signed-out"
    };
    Ok(HttpResponse::SeeOther()
        .insert_header((header::LOCATION, to))
        .finish())
}

async fn signed_out() -> HttpResponse {
    Page {
        title: "You have signed out",
        viewer: None,
        crumbs: vec![],
        body_class: "",
    }
    .render(html! {
        h1 { "You have signed out" }
        p { "Your session has ended on this service." }
        p { a href="/app/sign-in" { "Sign in again" } }
    })
}

/// Mints a sign-in link (the `dma login-link` command): stores its hash and returns the token.
/// A submitter's link must name organisations that exist; other roles' links name none.
pub fn login_link(
    conn: &mut crate::db::DbConnection,
    subject: &str,
    role: Role,
    orgs: &[String],
) -> Result<String, AppError> {
    match role {
        Role::Submitter if orgs.is_empty() => {
            return Err(AppError::BadRequest(
                "a submitter's link needs at least one --org".into(),
            ));
        }
        Role::Admin | Role::Analyst if !orgs.is_empty() => {
            return Err(AppError::BadRequest(
                "--org is for submitters: analysts and admins see every organisation".into(),
            ));
        }
        _ => {}
    }
    for o in orgs {
        crate::domain::organisation::OdsCode::parse(o)
            .map_err(|e| AppError::BadRequest(e.to_string()))?;
        if !crate::db::organisations::exists(conn, o)? {
            return Err(AppError::BadRequest(format!("no organisation `{o}`")));
        }
    }
    if subject.trim().is_empty() || subject.len() > 128 || subject.chars().any(char::is_control) {
        return Err(AppError::BadRequest(
            "--subject must be 1 to 128 printable characters".into(),
        ));
    }
    let token = session::random_hex();
    let now = db::now();
    web_sessions::insert_link(
        conn,
        &web_sessions::LinkRow {
            token_hash: session::hash(&token),
            subject: subject.to_owned(),
            role: role.as_str().to_owned(),
            organisations: serde_json::to_string(orgs)
                .map_err(|e| AppError::Internal(e.to_string()))?,
            created_at: now,
            expires_at: now + chrono::TimeDelta::minutes(LINK_MINUTES),
            used_at: None,
        },
    )?;
    Ok(token)
}
