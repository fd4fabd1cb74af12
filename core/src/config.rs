//! Configuration: built-in defaults, then an optional TOML file, then `HEALTHSYNC_*`
//! environment variables, then command-line flags, each layer overriding the one before.
//!
//! Environment variables name a key by its path, upper-cased, with `__` between sections:
//! `HEALTHSYNC_HTTP_ADDR`, `HEALTHSYNC_DATABASE__URL`, `HEALTHSYNC_LOG__FORMAT`.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// Environment variable that names the configuration file. It is read by the CLI, not
/// treated as a configuration key.
pub const CONFIG_FILE_ENV: &str = "HEALTHSYNC_CONFIG";
const ENV_PREFIX: &str = "HEALTHSYNC_";

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("configuration file {0} does not exist")]
    MissingFile(PathBuf),
    #[error("invalid configuration: {0}")]
    Invalid(#[from] config::ConfigError),
    #[error("invalid configuration: {key}: {message}")]
    Key { key: String, message: String },
    #[error("invalid configuration: {0}")]
    Rule(String),
}

/// The whole effective configuration of a healthsync process.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct Settings {
    /// Where healthsync keeps its state: the embedded PostgreSQL cluster (`pg/`), secrets.
    pub data_dir: PathBuf,
    /// Address of the HTTP API, dashboard and health endpoints.
    pub http_addr: SocketAddr,
    /// Address of the MQTT listener devices connect to.
    pub mqtt_addr: SocketAddr,
    pub database: DatabaseSettings,
    pub log: LogSettings,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct DatabaseSettings {
    /// PostgreSQL URL of an external database. Absent: run the embedded cluster.
    pub url: Option<String>,
    /// Run on plain PostgreSQL tables when TimescaleDB is not installed, instead of refusing.
    pub allow_plain_postgres: bool,
    /// Upper bound of the connection pool.
    pub max_connections: u32,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct LogSettings {
    /// A `tracing` filter such as `info` or `healthsync=debug,sqlx=warn`; `RUST_LOG` wins.
    pub level: String,
    pub format: LogFormat,
}

#[derive(Clone, Copy, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    Text,
    Json,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            data_dir: PathBuf::from("data"),
            http_addr: SocketAddr::from(([127, 0, 0, 1], 8080)),
            mqtt_addr: SocketAddr::from(([127, 0, 0, 1], 1883)),
            database: DatabaseSettings::default(),
            log: LogSettings::default(),
        }
    }
}

impl Default for DatabaseSettings {
    fn default() -> Self {
        Self {
            url: None,
            allow_plain_postgres: false,
            max_connections: 20,
        }
    }
}

impl Default for LogSettings {
    fn default() -> Self {
        Self {
            level: "info".to_owned(),
            format: LogFormat::Text,
        }
    }
}

/// Values given on the command line; they override every other layer.
#[derive(Clone, Debug, Default)]
pub struct Overrides {
    pub data_dir: Option<PathBuf>,
    pub http_addr: Option<SocketAddr>,
    pub mqtt_addr: Option<SocketAddr>,
}

impl Settings {
    /// Builds the effective settings from the process environment.
    pub fn load(file: Option<&Path>, overrides: &Overrides) -> Result<Self, ConfigError> {
        Self::load_from(file, std::env::vars(), overrides)
    }

    /// Builds the effective settings from the given environment (testable without touching
    /// the process environment).
    pub fn load_from(
        file: Option<&Path>,
        env: impl IntoIterator<Item = (String, String)>,
        overrides: &Overrides,
    ) -> Result<Self, ConfigError> {
        let mut builder =
            config::Config::builder().add_source(config::Config::try_from(&Settings::default())?);
        if let Some(path) = file {
            if !path.is_file() {
                return Err(ConfigError::MissingFile(path.to_owned()));
            }
            builder = builder.add_source(config::File::from(path).format(config::FileFormat::Toml));
        }
        builder = builder.add_source(
            config::Environment::default()
                .separator("__")
                .try_parsing(true)
                .source(Some(healthsync_env(env))),
        );
        if let Some(dir) = &overrides.data_dir {
            builder = builder.set_override("data_dir", dir.to_string_lossy().into_owned())?;
        }
        if let Some(addr) = overrides.http_addr {
            builder = builder.set_override("http_addr", addr.to_string())?;
        }
        if let Some(addr) = overrides.mqtt_addr {
            builder = builder.set_override("mqtt_addr", addr.to_string())?;
        }
        let settings: Settings =
            serde_path_to_error::deserialize(builder.build()?).map_err(|e| ConfigError::Key {
                key: e.path().to_string(),
                message: e.into_inner().to_string(),
            })?;
        settings.validate()?;
        Ok(settings)
    }

    fn validate(&self) -> Result<(), ConfigError> {
        if self.database.max_connections == 0 {
            return Err(ConfigError::Rule(
                "database.max_connections must be at least 1".into(),
            ));
        }
        if self.data_dir.as_os_str().is_empty() {
            return Err(ConfigError::Rule("data_dir must not be empty".into()));
        }
        Ok(())
    }

    /// The settings as TOML, with secrets (passwords in URLs) replaced by `***`.
    pub fn to_redacted_toml(&self) -> String {
        let mut shown = self.clone();
        shown.database.url = shown.database.url.as_deref().map(redact_url_password);
        toml::to_string_pretty(&shown).unwrap_or_else(|e| format!("# cannot render: {e}\n"))
    }
}

/// `HEALTHSYNC_*` variables with the prefix removed and keys lower-cased; the variable
/// naming the configuration file is not a key and is left out.
fn healthsync_env(env: impl IntoIterator<Item = (String, String)>) -> HashMap<String, String> {
    env.into_iter()
        .filter(|(name, _)| name != CONFIG_FILE_ENV)
        .filter_map(|(name, value)| {
            let key = name.strip_prefix(ENV_PREFIX)?;
            Some((key.to_ascii_lowercase(), value))
        })
        .collect()
}

/// Replaces the password of a `scheme://user:password@host/...` URL with `***`.
pub fn redact_url_password(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let authority_end = rest.find(['/', '?']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(authority_end);
    match authority.rsplit_once('@') {
        Some((userinfo, host)) => match userinfo.split_once(':') {
            Some((user, _password)) => format!("{scheme}://{user}:***@{host}{tail}"),
            None => url.to_owned(),
        },
        None => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn defaults_need_no_file() {
        let s = Settings::load_from(None, env(&[]), &Overrides::default()).unwrap();
        assert_eq!(s, Settings::default());
        assert!(s.database.url.is_none());
    }

    #[test]
    fn layers_override_in_order() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("healthsync.toml");
        std::fs::write(
            &file,
            "http_addr = \"127.0.0.1:9000\"\nmqtt_addr = \"0.0.0.0:1884\"\n[log]\nformat = \"json\"\n[database]\nmax_connections = 5\n",
        )
        .unwrap();
        let s = Settings::load_from(
            Some(&file),
            env(&[
                ("HEALTHSYNC_HTTP_ADDR", "127.0.0.1:9001"),
                ("HEALTHSYNC_DATABASE__MAX_CONNECTIONS", "7"),
                ("HEALTHSYNC_CONFIG", "ignored-as-a-key.toml"),
                ("OTHER_HTTP_ADDR", "1.2.3.4:1"),
            ]),
            &Overrides {
                mqtt_addr: Some("127.0.0.1:1999".parse().unwrap()),
                ..Overrides::default()
            },
        )
        .unwrap();
        assert_eq!(
            s.http_addr,
            "127.0.0.1:9001".parse().unwrap(),
            "env beats file"
        );
        assert_eq!(
            s.mqtt_addr,
            "127.0.0.1:1999".parse().unwrap(),
            "flag beats file"
        );
        assert_eq!(s.log.format, LogFormat::Json, "file beats default");
        assert_eq!(s.database.max_connections, 7);
    }

    #[test]
    fn unknown_keys_and_bad_values_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("typo.toml");
        std::fs::write(&file, "htp_addr = \"127.0.0.1:9000\"\n").unwrap();
        let err = Settings::load_from(Some(&file), env(&[]), &Overrides::default()).unwrap_err();
        assert!(err.to_string().contains("htp_addr"), "{err}");

        let err = Settings::load_from(
            None,
            env(&[("HEALTHSYNC_HTTP_ADDR", "not-an-address")]),
            &Overrides::default(),
        )
        .unwrap_err();
        assert_eq!(
            err.to_string(),
            "invalid configuration: http_addr: invalid socket address syntax"
        );

        let err = Settings::load_from(
            None,
            env(&[("HEALTHSYNC_DATABASE__MAX_CONNECTIONS", "0")]),
            &Overrides::default(),
        )
        .unwrap_err();
        assert!(err.to_string().contains("max_connections"), "{err}");
    }

    #[test]
    fn missing_explicit_file_is_an_error() {
        let err = Settings::load_from(
            Some(Path::new("/nonexistent/healthsync.toml")),
            env(&[]),
            &Overrides::default(),
        )
        .unwrap_err();
        assert!(matches!(err, ConfigError::MissingFile(_)));
    }

    #[test]
    fn redaction_hides_passwords_only() {
        assert_eq!(
            redact_url_password("postgres://app:s3cret@db:5432/hs?sslmode=require"),
            "postgres://app:***@db:5432/hs?sslmode=require"
        );
        assert_eq!(
            redact_url_password("postgres://app@db/hs"),
            "postgres://app@db/hs"
        );
        let s = Settings {
            database: DatabaseSettings {
                url: Some("postgres://app:s3cret@db/hs".into()),
                ..DatabaseSettings::default()
            },
            ..Settings::default()
        };
        let shown = s.to_redacted_toml();
        assert!(!shown.contains("s3cret"), "{shown}");
        assert!(shown.contains("app:***@db/hs"), "{shown}");
    }
}
