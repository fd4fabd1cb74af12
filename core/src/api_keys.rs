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
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use ring::hmac;
use ring::rand::{SecureRandom, SystemRandom};

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
    #[error("server secret {path}: {detail}")]
    Secret { path: String, detail: String },
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
    pub fn load(configured: Option<&str>, data_dir: &Path) -> Result<Self, KeyError> {
        if let Some(b64) = configured {
            let secret = STANDARD.decode(b64.trim()).map_err(|e| KeyError::Secret {
                path: "secrets.api_key_hmac".into(),
                detail: format!("not base64: {e}"),
            })?;
            if secret.len() < 32 {
                return Err(KeyError::Secret {
                    path: "secrets.api_key_hmac".into(),
                    detail: "must be at least 32 bytes".into(),
                });
            }
            return Ok(Self::new(&secret));
        }
        let path = data_dir.join("secrets").join("api-key-hmac");
        let secret_err = |detail: String| KeyError::Secret {
            path: path.display().to_string(),
            detail,
        };
        match std::fs::read_to_string(&path) {
            Ok(text) => {
                let secret = STANDARD
                    .decode(text.trim())
                    .map_err(|e| secret_err(format!("not base64: {e}")))?;
                Ok(Self::new(&secret))
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let mut secret = [0u8; 32];
                SystemRandom::new()
                    .fill(&mut secret)
                    .map_err(|_| KeyError::Random)?;
                write_private(&path, STANDARD.encode(secret).as_bytes())
                    .map_err(|e| secret_err(e.to_string()))?;
                // Two processes may have raced to create it: whichever file won is the
                // secret everyone uses.
                let text = std::fs::read_to_string(&path).map_err(|e| secret_err(e.to_string()))?;
                let secret = STANDARD
                    .decode(text.trim())
                    .map_err(|e| secret_err(format!("not base64: {e}")))?;
                Ok(Self::new(&secret))
            }
            Err(e) => Err(secret_err(e.to_string())),
        }
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

/// Creates `path` (and its directory) readable by its owner only; fails if it exists.
fn write_private(path: &Path, contents: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
    if let Some(dir) = path.parent() {
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)?;
    }
    match std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
    {
        Ok(mut file) => {
            file.write_all(contents)?;
            file.sync_all()
        }
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(e) => Err(e),
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
    fn the_server_secret_is_created_once_and_private() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let first = KeyHasher::load(None, dir.path()).unwrap();
        let issued = first.issue().unwrap();
        let again = KeyHasher::load(None, dir.path()).unwrap();
        assert!(again.verify(&issued.key, &issued.hash));
        let mode = std::fs::metadata(dir.path().join("secrets/api-key-hmac"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);

        let configured = KeyHasher::load(Some(&STANDARD.encode([1u8; 32])), dir.path()).unwrap();
        assert!(!configured.verify(&issued.key, &issued.hash));
        assert!(KeyHasher::load(Some("c2hvcnQ="), dir.path()).is_err());
    }
}
