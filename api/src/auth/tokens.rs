//! Access tokens: compact JWTs (RFC 7519) signed with HMAC-SHA256 by ring. Only `HS256`
//! is accepted, so a token cannot choose a weaker algorithm (or `none`) for itself. An
//! access token names its user and session; whether that session and user are still
//! good is checked on every request (see `caller`), which is what makes logout, reuse
//! detection and disabling take effect at once.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use ring::hmac;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

const HEADER: &str = r#"{"alg":"HS256","typ":"JWT"}"#;
/// Tokens larger than this are not parsed at all.
const MAX_TOKEN_LEN: usize = 2048;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claims {
    /// The user.
    pub sub: Uuid,
    /// The session (refresh-token family) the token was issued in.
    pub sid: Uuid,
    pub iat: i64,
    pub exp: i64,
}

#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    #[error("malformed token")]
    Malformed,
    #[error("unsupported token algorithm")]
    Algorithm,
    #[error("bad token signature")]
    Signature,
    #[error("token expired")]
    Expired,
}

#[derive(Clone)]
pub struct TokenSigner {
    key: hmac::Key,
    lifetime: chrono::Duration,
}

impl TokenSigner {
    pub fn new(secret: &[u8], lifetime: chrono::Duration) -> Self {
        Self {
            key: hmac::Key::new(hmac::HMAC_SHA256, secret),
            lifetime,
        }
    }

    /// A token for `user` in `session`, valid from `now` for the configured lifetime.
    pub fn sign(&self, user: Uuid, session: Uuid, now: DateTime<Utc>) -> String {
        let claims = Claims {
            sub: user,
            sid: session,
            iat: now.timestamp(),
            exp: (now + self.lifetime).timestamp(),
        };
        let payload = serde_json::to_vec(&claims).expect("claims serialise");
        let signing_input = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(HEADER),
            URL_SAFE_NO_PAD.encode(payload)
        );
        let signature = hmac::sign(&self.key, signing_input.as_bytes());
        format!(
            "{signing_input}.{}",
            URL_SAFE_NO_PAD.encode(signature.as_ref())
        )
    }

    /// The claims of a token this signer issued that has not expired at `now`.
    pub fn verify(&self, token: &str, now: DateTime<Utc>) -> Result<Claims, TokenError> {
        if token.len() > MAX_TOKEN_LEN {
            return Err(TokenError::Malformed);
        }
        let mut parts = token.split('.');
        let (Some(header), Some(payload), Some(signature), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(TokenError::Malformed);
        };
        let decode = |part: &str| {
            URL_SAFE_NO_PAD
                .decode(part)
                .map_err(|_| TokenError::Malformed)
        };
        #[derive(Deserialize)]
        struct Header {
            alg: String,
        }
        let header: Header =
            serde_json::from_slice(&decode(header)?).map_err(|_| TokenError::Malformed)?;
        if header.alg != "HS256" {
            return Err(TokenError::Algorithm);
        }
        let signing_input = &token[..token.len() - signature.len() - 1];
        hmac::verify(&self.key, signing_input.as_bytes(), &decode(signature)?)
            .map_err(|_| TokenError::Signature)?;
        let claims: Claims =
            serde_json::from_slice(&decode(payload)?).map_err(|_| TokenError::Malformed)?;
        if claims.exp <= now.timestamp() {
            return Err(TokenError::Expired);
        }
        Ok(claims)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn signer() -> TokenSigner {
        TokenSigner::new(&[3; 32], chrono::Duration::minutes(15))
    }

    #[test]
    fn a_signed_token_verifies_until_it_expires() {
        let (user, session, now) = (Uuid::new_v4(), Uuid::new_v4(), Utc::now());
        let token = signer().sign(user, session, now);
        let claims = signer().verify(&token, now).unwrap();
        assert_eq!((claims.sub, claims.sid), (user, session));
        assert_eq!(claims.exp - claims.iat, 15 * 60);
        let later = now + chrono::Duration::minutes(15);
        assert_eq!(signer().verify(&token, later), Err(TokenError::Expired));
    }

    #[test]
    fn forged_and_altered_tokens_are_refused() {
        let now = Utc::now();
        let token = signer().sign(Uuid::new_v4(), Uuid::new_v4(), now);
        let other_key = TokenSigner::new(&[4; 32], chrono::Duration::minutes(15));
        assert_eq!(other_key.verify(&token, now), Err(TokenError::Signature));

        // Someone else's claims under this token's signature.
        let parts: Vec<&str> = token.split('.').collect();
        let forged_claims = signer().sign(Uuid::new_v4(), Uuid::new_v4(), now);
        let forged_payload = forged_claims.split('.').nth(1).unwrap();
        let swapped = format!("{}.{}.{}", parts[0], forged_payload, parts[2]);
        assert_eq!(signer().verify(&swapped, now), Err(TokenError::Signature));

        // alg "none" with no signature.
        let none = format!(
            "{}.{}.",
            URL_SAFE_NO_PAD.encode(r#"{"alg":"none","typ":"JWT"}"#),
            parts[1]
        );
        assert_eq!(signer().verify(&none, now), Err(TokenError::Algorithm));

        for garbage in ["", "a.b", "a.b.c.d", "!!.??.**", &"x".repeat(5000)] {
            assert_eq!(
                signer().verify(garbage, now),
                Err(TokenError::Malformed),
                "{garbage:.20}"
            );
        }
    }
}
