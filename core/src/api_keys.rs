//! API keys for devices and service principals.
//!
//! A key reads `hsk_<id>_<secret>`: `<id>` is 6 random bytes (8 base64url characters), not
//! secret, stored in clear and shown in logs as the key's prefix `hsk_<id>`; `<secret>` is
//! 256 bits from ring's `SystemRandom` (43 characters). The database keeps only
//! HMAC-SHA256(server secret, whole key), so a leaked table does not let anyone connect,
//! and verification is constant-time.

use std::fmt;
use std::path::Path;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ring::hmac;
use ring::rand::{SecureRandom, SystemRandom};

use crate::secrets::{self, SecretError};

const KEY_TAG: &str = "hsk_";
const ID_BYTES: usize = 6;
const SECRET_BYTES: usize = 32;
const ID_CHARS: usize = 8;
const SECRET_CHARS: usize = 43;
/// `hsk_` + id + `_` + secret.
const KEY_LEN: usize = KEY_TAG.len() + ID_CHARS + 1 + SECRET_CHARS;

#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("the system random number generator failed")]
    Random,
}

/// A freshly issued key: the only moment its full text exists outside the device.
pub struct IssuedKey {
    pub key: String,
    pub prefix: String,
    pub hash: Vec<u8>,
}

impl fmt::Debug for IssuedKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IssuedKey")
            .field("prefix", &self.prefix)
            .finish_non_exhaustive()
    }
}

/// The non-secret prefix of a well-formed key (`hsk_<id>`), or `None` for anything that
/// cannot be a key.
pub fn key_prefix(key: &str) -> Option<&str> {
    if key.len() != KEY_LEN || !key.starts_with(KEY_TAG) {
        return None;
    }
    let prefix_len = KEY_TAG.len() + ID_CHARS;
    let well_formed = key.as_bytes()[prefix_len] == b'_'
        && key[KEY_TAG.len()..]
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    well_formed.then(|| &key[..prefix_len])
}

/// Issues and verifies keys with the server secret.
#[derive(Clone)]
pub struct KeyHasher {
    key: hmac::Key,
    rng: SystemRandom,
}

impl fmt::Debug for KeyHasher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("KeyHasher(..)")
    }
}

impl KeyHasher {
    pub fn new(server_secret: &[u8]) -> Self {
        Self {
            key: hmac::Key::new(hmac::HMAC_SHA256, server_secret),
            rng: SystemRandom::new(),
        }
    }

    /// The server secret from configuration (base64) if given, else the one kept in
    /// `<data_dir>/secrets/api-key-hmac`, created on first use with mode 0600.
    pub fn load(configured: Option<&str>, data_dir: &Path) -> Result<Self, SecretError> {
        let secret = secrets::load(configured, "secrets.api_key_hmac", data_dir, "api-key-hmac")?;
        Ok(Self::new(&secret))
    }

    pub fn issue(&self) -> Result<IssuedKey, KeyError> {
        let mut id = [0u8; ID_BYTES];
        let mut secret = [0u8; SECRET_BYTES];
        self.rng.fill(&mut id).map_err(|_| KeyError::Random)?;
        self.rng.fill(&mut secret).map_err(|_| KeyError::Random)?;
        let key = format!(
            "{KEY_TAG}{}_{}",
            URL_SAFE_NO_PAD.encode(id),
            URL_SAFE_NO_PAD.encode(secret)
        );
        let prefix = key_prefix(&key)
            .expect("issued keys are well formed")
            .to_owned();
        let hash = self.hash(&key);
        Ok(IssuedKey { key, prefix, hash })
    }

    pub fn hash(&self, key: &str) -> Vec<u8> {
        hmac::sign(&self.key, key.as_bytes()).as_ref().to_vec()
    }

    /// Constant-time check of a presented key against a stored hash.
    pub fn verify(&self, presented: &str, stored_hash: &[u8]) -> bool {
        hmac::verify(&self.key, presented.as_bytes(), stored_hash).is_ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn issued_keys_verify_and_others_do_not() {
        let hasher = KeyHasher::new(&[7; 32]);
        let issued = hasher.issue().unwrap();
        assert_eq!(issued.key.len(), KEY_LEN);
        assert_eq!(key_prefix(&issued.key), Some(issued.prefix.as_str()));
        assert!(hasher.verify(&issued.key, &issued.hash));

        let other = hasher.issue().unwrap();
        assert_ne!(issued.key, other.key);
        assert!(!hasher.verify(&other.key, &issued.hash));
        assert!(!KeyHasher::new(&[8; 32]).verify(&issued.key, &issued.hash));
        assert!(!format!("{issued:?}").contains(&issued.key[13..]));
    }

    #[test]
    fn malformed_keys_have_no_prefix() {
        for key in [
            "",
            "hsk_",
            "password",
            &"x".repeat(KEY_LEN),
            "hsk_AAAAAAAA-AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
            "hsk_AAAAAAAA_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA é",
        ] {
            assert_eq!(key_prefix(key), None, "{key:?}");
        }
    }

    #[test]
    fn the_server_secret_is_kept_in_the_data_dir() {
        let dir = tempfile::tempdir().unwrap();
        let issued = KeyHasher::load(None, dir.path()).unwrap().issue().unwrap();
        assert!(dir.path().join("secrets/api-key-hmac").is_file());
        let again = KeyHasher::load(None, dir.path()).unwrap();
        assert!(again.verify(&issued.key, &issued.hash));
    }
}
