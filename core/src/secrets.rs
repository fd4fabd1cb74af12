//! Server secrets (the API-key HMAC key, the access-token signing key): taken from
//! configuration as base64 when given, otherwise generated once and kept in
//! `<data_dir>/secrets/<name>` readable by the owner only.

use std::path::Path;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use ring::rand::{SecureRandom, SystemRandom};

/// Shortest secret accepted: HMAC-SHA256's block of security.
pub const MIN_SECRET_BYTES: usize = 32;

#[derive(Debug, thiserror::Error)]
pub enum SecretError {
    #[error("the system random number generator failed")]
    Random,
    #[error("server secret {path}: {detail}")]
    Invalid { path: String, detail: String },
}

/// The secret configured under `config_key` (base64) if any, else the one in
/// `<data_dir>/secrets/<file_name>`, created on first use.
pub fn load(
    configured: Option<&str>,
    config_key: &str,
    data_dir: &Path,
    file_name: &str,
) -> Result<Vec<u8>, SecretError> {
    if let Some(b64) = configured {
        return decode(b64, config_key);
    }
    let path = data_dir.join("secrets").join(file_name);
    let shown = path.display().to_string();
    let io_err = |e: std::io::Error| SecretError::Invalid {
        path: shown.clone(),
        detail: e.to_string(),
    };
    match std::fs::read_to_string(&path) {
        Ok(text) => decode(&text, &shown),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let mut secret = [0u8; MIN_SECRET_BYTES];
            SystemRandom::new()
                .fill(&mut secret)
                .map_err(|_| SecretError::Random)?;
            write_private(&path, STANDARD.encode(secret).as_bytes()).map_err(io_err)?;
            // Two processes may have raced to create it: whichever file won is the secret
            // everyone uses.
            let text = std::fs::read_to_string(&path).map_err(io_err)?;
            decode(&text, &shown)
        }
        Err(e) => Err(io_err(e)),
    }
}

fn decode(b64: &str, source: &str) -> Result<Vec<u8>, SecretError> {
    let invalid = |detail: String| SecretError::Invalid {
        path: source.to_owned(),
        detail,
    };
    let secret = STANDARD
        .decode(b64.trim())
        .map_err(|e| invalid(format!("not base64: {e}")))?;
    if secret.len() < MIN_SECRET_BYTES {
        return Err(invalid(format!(
            "must be at least {MIN_SECRET_BYTES} bytes"
        )));
    }
    Ok(secret)
}

/// Creates `path` (and its directory) readable by its owner only; leaves an existing file.
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
    fn a_generated_secret_is_kept_and_private() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let first = load(None, "secrets.x", dir.path(), "x").unwrap();
        assert_eq!(first.len(), MIN_SECRET_BYTES);
        assert_eq!(load(None, "secrets.x", dir.path(), "x").unwrap(), first);
        let mode = std::fs::metadata(dir.path().join("secrets/x"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
        assert_ne!(load(None, "secrets.y", dir.path(), "y").unwrap(), first);
    }

    #[test]
    fn configured_secrets_must_be_long_base64() {
        let dir = tempfile::tempdir().unwrap();
        let long = STANDARD.encode([9u8; 40]);
        assert_eq!(
            load(Some(&long), "secrets.x", dir.path(), "x").unwrap(),
            [9u8; 40]
        );
        let err = load(Some("c2hvcnQ="), "secrets.x", dir.path(), "x").unwrap_err();
        assert!(err.to_string().contains("secrets.x"), "{err}");
        assert!(load(Some("not base64!"), "secrets.x", dir.path(), "x").is_err());
        assert!(!dir.path().join("secrets/x").exists());
    }
}
