//! Browser sessions. The cookie (`dma-session`: encrypted and signed by actix-session with a key
//! derived from the service secret, `HttpOnly`, `SameSite=Lax`, `Secure` when the public URL is
//! https) holds only a random session id; the session itself (who, role, organisations, CSRF
//! token, expiry) is a row in `web_sessions`, so signing out ends it everywhere and a copied
//! cookie dies with it. A page gets the signed-in person as a [`Viewer`], whose `who` is the same
//! [`Principal`] the API's bearer tokens give, checked by the same functions.

use std::future::Future;
use std::pin::Pin;

use actix_session::{Session, SessionExt};
use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpRequest, web};
use chrono::TimeDelta;
use sha2::{Digest, Sha256};

use super::{WebError, WebResult};
use crate::auth::{Principal, Role};
use crate::db::{self, web_sessions};
use crate::error::AppError;
use crate::state::AppState;

/// How long a session lasts from sign-in, whatever its use.
pub const SESSION_HOURS: i64 = 8;
/// The session key under which the cookie keeps the session id.
const SID: &str = "sid";

/// Who is signing in, as an identity provider or a sign-in link says.
#[derive(Debug, Clone)]
pub struct Identity {
    pub subject: String,
    pub role: Role,
    pub orgs: Vec<String>,
    /// `login_link` or `oidc`.
    pub method: &'static str,
}

/// The signed-in person of a request.
#[derive(Debug, Clone)]
pub struct Viewer {
    pub who: Principal,
    /// The token each form of this session sends back (`csrf_token`).
    pub csrf: String,
}

impl Viewer {
    /// Refuses a form whose CSRF token is not this session's (compared in constant time).
    pub fn check_csrf(&self, sent: &str) -> WebResult<()> {
        let (a, b) = (self.csrf.as_bytes(), sent.as_bytes());
        let same =
            a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0;
        if same {
            Ok(())
        } else {
            Err(WebError::Forbidden(
                "This form has expired or did not come from this service. Go back, reload the \
                 page and try again."
                    .into(),
            ))
        }
    }

    /// National pages: analysts and admins (the API's rule).
    pub fn require_national(&self) -> WebResult<()> {
        self.who.require_national_reader().map_err(|_| {
            WebError::Forbidden(
                "This page shows every organisation's results and is for national analysts \
                 and administrators. You can see your own organisation's pages."
                    .into(),
            )
        })
    }
}

pub fn random_hex() -> String {
    hex::encode(rand::random::<[u8; 32]>())
}

pub fn hash(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

/// Starts a session for `id`: a new row and a new cookie (a fresh id, so a session id planted
/// before sign-in is never carried over).
pub async fn start(state: &web::Data<AppState>, session: &Session, id: Identity) -> WebResult<()> {
    // Signing in again in the same browser ends the session it had.
    let previous = session.get::<String>(SID).ok().flatten().map(|s| hash(&s));
    let sid = random_hex();
    let now = db::now();
    let row = web_sessions::SessionRow {
        id_hash: hash(&sid),
        subject: id.subject,
        role: id.role.as_str().to_owned(),
        organisations: serde_json::to_string(&id.orgs)
            .map_err(|e| AppError::Internal(e.to_string()))?,
        csrf_token: random_hex(),
        method: id.method.to_owned(),
        created_at: now,
        expires_at: now + TimeDelta::hours(SESSION_HOURS),
    };
    crate::api::with_conn(state, move |c| {
        web_sessions::purge_expired(c, now)?;
        if let Some(h) = &previous {
            web_sessions::delete_session(c, h)?;
        }
        web_sessions::insert_session(c, &row)?;
        Ok(())
    })
    .await?;
    session.renew();
    session
        .insert(SID, sid)
        .map_err(|e| AppError::Internal(e.to_string()))?;
    Ok(())
}

/// Ends the request's session: its row goes, and the cookie is cleared.
pub async fn end(state: &web::Data<AppState>, session: &Session) -> WebResult<()> {
    if let Ok(Some(sid)) = session.get::<String>(SID) {
        let h = hash(&sid);
        crate::api::with_conn(state, move |c| Ok(web_sessions::delete_session(c, &h)?)).await?;
    }
    session.purge();
    Ok(())
}

/// The session's person, if the cookie names a live session.
pub async fn current(req: &HttpRequest) -> WebResult<Option<Viewer>> {
    let Some(state) = req.app_data::<web::Data<AppState>>().cloned() else {
        return Err(AppError::Internal("no application state".into()).into());
    };
    let Ok(Some(sid)) = req.get_session().get::<String>(SID) else {
        return Ok(None);
    };
    let h = hash(&sid);
    let row = crate::api::with_conn(&state, move |c| {
        Ok(web_sessions::find_session(c, &h, db::now())?)
    })
    .await?;
    let Some(row) = row else {
        return Ok(None);
    };
    let Some(role) = Role::parse(&row.role) else {
        return Err(AppError::Internal(format!("stored role `{}`", row.role)).into());
    };
    let orgs = row.organisation_codes()?;
    Ok(Some(Viewer {
        who: Principal {
            subject: row.subject,
            role,
            orgs,
            client_id: None,
            request_id: None,
        },
        csrf: row.csrf_token,
    }))
}

impl FromRequest for Viewer {
    type Error = WebError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, Self::Error>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move {
            match current(&req).await? {
                Some(v) => Ok(v),
                None => {
                    let next = match req.query_string() {
                        "" => req.path().to_owned(),
                        q => format!("{}?{q}", req.path()),
                    };
                    Err(WebError::SignIn { next })
                }
            }
        })
    }
}

/// Where to go after signing in: a path of this front end only (never another site).
pub fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(n)
            if n.starts_with("/app")
                && !n.starts_with("//")
                && !n.contains("://")
                && !n.contains('\\')
                && n.chars().all(|c| !c.is_control()) =>
        {
            n.to_owned()
        }
        _ => "/app".to_owned(),
    }
}
