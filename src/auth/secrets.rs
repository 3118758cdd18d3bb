//! API client secrets: generated at random, stored only as argon2 hashes.

use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};

use crate::error::AppError;

/// Hashes a client secret with argon2 (a fresh salt each time).
pub fn hash_secret(secret: &str) -> Result<String, AppError> {
    argon2::Argon2::default()
        .hash_password(secret.as_bytes())
        .map(|h| h.to_string())
        .map_err(AppError::internal)
}

pub fn verify_secret(secret: &str, hash: &str) -> bool {
    PasswordHash::new(hash)
        .map(|parsed| {
            argon2::Argon2::default()
                .verify_password(secret.as_bytes(), &parsed)
                .is_ok()
        })
        .unwrap_or(false)
}

/// A new random client secret (48 hex characters).
pub fn new_client_secret() -> String {
    let mut bytes = [0u8; 24];
    rand::Rng::fill(&mut rand::rng(), &mut bytes);
    hex::encode(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_hash_and_verify() {
        let h = hash_secret("s3cret").unwrap();
        assert!(h.starts_with("$argon2"));
        assert!(!h.contains("s3cret"));
        assert!(verify_secret("s3cret", &h));
        assert!(!verify_secret("other", &h));
        assert!(!verify_secret("s3cret", "not a hash"));
    }
}
