//! Sign-in with OpenID Connect (authorisation code with PKCE), when `DMA_OIDC_ISSUER` is set.
//! Not yet wired: without a provider the sign-in page offers sign-in links only.

use actix_web::web;

use crate::state::AppState;

pub fn configure(_cfg: &mut web::ServiceConfig) {}

/// Whether signing out also ends the session at the identity provider.
pub fn signs_out_upstream(_state: &AppState) -> bool {
    false
}
