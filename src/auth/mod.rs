//! Who is calling: the claims of a token, the verified `Principal` and its role checks. Signing and
//! verifying tokens is in `keys`, the argon2 hashing of API client secrets in `secrets`; the HTTP
//! extractor that reads the bearer token is in `api::extractors`.

mod keys;
mod secrets;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::db::audit::Actor;
use crate::error::AppError;

pub use keys::{KeyError, MissingSecret, SERVICE_AUDIENCE, SERVICE_ISSUER, TokenKeys};
pub use secrets::{hash_secret, new_client_secret, verify_secret};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Maintains organisations, frameworks, rounds, peer groups and clients; re-opens returns.
    Admin,
    /// Reads everything national; changes nothing.
    Analyst,
    /// Acts only for the organisations listed in its token.
    Submitter,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Analyst => "analyst",
            Role::Submitter => "submitter",
        }
    }

    pub fn parse(raw: &str) -> Option<Role> {
        [Role::Admin, Role::Analyst, Role::Submitter]
            .into_iter()
            .find(|r| r.as_str() == raw)
    }
}

/// Claims of every accepted token. External identity providers must carry `role` (and `orgs`
/// for submitters) in the same names.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Claims {
    pub sub: String,
    pub role: Role,
    #[serde(default)]
    pub orgs: Vec<String>,
    /// Optional for external tokens; `nbf` is checked when present.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub iat: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nbf: Option<i64>,
    pub exp: i64,
    pub iss: String,
    pub aud: Audience,
    /// The API client the token was issued to (RFC 9068 `client_id`); service tokens from
    /// `/api/v1/auth/token` carry it, CLI tokens do not.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_id: Option<String>,
    /// The authorised party: identity providers name the client here when they omit `client_id`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub azp: Option<String>,
}

/// `aud` as one string or, as many identity providers send it, a list (RFC 7519 §4.1.3).
/// Which audience must be present is checked by the verifier, not here.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Audience {
    One(String),
    Many(Vec<String>),
}

/// The verified caller.
#[derive(Debug, Clone)]
pub struct Principal {
    pub subject: String,
    pub role: Role,
    pub orgs: Vec<String>,
    /// The API client the token was issued to, when the token says.
    pub client_id: Option<String>,
    /// The id of the request being served (set by the extractor; none outside a request).
    pub request_id: Option<String>,
}

impl Principal {
    /// Who this caller is, as the audit trail records it.
    pub fn actor(&self) -> Actor {
        Actor {
            subject: self.subject.clone(),
            client_id: self.client_id.clone(),
            request_id: self.request_id.clone(),
        }
    }

    pub fn is_admin(&self) -> bool {
        self.role == Role::Admin
    }

    /// Admins and analysts read everything national.
    pub fn is_national_reader(&self) -> bool {
        matches!(self.role, Role::Admin | Role::Analyst)
    }

    pub fn require_admin(&self) -> Result<(), AppError> {
        if self.is_admin() {
            Ok(())
        } else {
            Err(AppError::Forbidden(
                "this action needs the admin role".into(),
            ))
        }
    }

    pub fn require_national_reader(&self) -> Result<(), AppError> {
        if self.is_national_reader() {
            Ok(())
        } else {
            Err(AppError::Forbidden(
                "this view needs the analyst or admin role".into(),
            ))
        }
    }

    /// A submitter acts only for the organisations in its token.
    pub fn acts_for(&self, ods: &str) -> bool {
        self.role == Role::Submitter && self.orgs.iter().any(|o| o == ods)
    }

    /// Reading one organisation's return or scores: national readers, or a submitter for its own.
    pub fn may_read_org(&self, ods: &str) -> bool {
        self.is_national_reader() || self.acts_for(ods)
    }
}
