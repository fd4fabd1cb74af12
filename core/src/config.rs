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
/// Environment variable that places the test harness's cluster; not a configuration key.
pub const TEST_DATA_DIR_ENV: &str = "HEALTHSYNC_TEST_DATA_DIR";
/// Environment variable that places the symptom assistant's model (read by analytics,
/// `assistant::embedding::MODEL_DIR_ENV`); not a configuration key.
pub const MODEL_DIR_ENV: &str = "HEALTHSYNC_MODEL_DIR";
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
    pub broker: BrokerSettings,
    pub ingest: IngestSettings,
    pub analytics: AnalyticsSettings,
    pub api: ApiSettings,
    pub secrets: SecretSettings,
    pub log: LogSettings,
}

/// The ingest pipeline.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct IngestSettings {
    /// Messages waiting between pipeline stages; when full, ingest stops taking more.
    pub queue_messages: usize,
    /// A batch is written when it holds this many readings...
    pub batch_max_readings: usize,
    /// ...or when its oldest message has waited this long.
    pub batch_max_delay_ms: u64,
    /// Readings older than this are rejected, and dropped from storage by a periodic job.
    pub retention_days: u32,
}

impl Default for IngestSettings {
    fn default() -> Self {
        Self {
            queue_messages: 10_000,
            batch_max_readings: 5_000,
            batch_max_delay_ms: 20,
            retention_days: 730,
        }
    }
}

/// The alert engine.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct AnalyticsSettings {
    /// A high alert nobody acknowledged within this long is escalated: the care team and
    /// every admin are notified again.
    pub escalate_after_secs: u64,
    /// On start, readings of this many last minutes are replayed through the engine, so
    /// conditions that were building up before a restart are not forgotten.
    pub restore_minutes: u32,
}

impl Default for AnalyticsSettings {
    fn default() -> Self {
        Self {
            escalate_after_secs: 600,
            restore_minutes: 15,
        }
    }
}

/// The HTTP API: sessions, lockout, CORS and rate limits.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct ApiSettings {
    /// Lifetime of an access token (a JWT, not revocable by itself: kept short).
    pub access_token_minutes: u32,
    /// Lifetime of a refresh token; each use replaces it with a new one.
    pub refresh_token_days: u32,
    /// Consecutive failed logins that lock an account ...
    pub lockout_failures: u32,
    /// ... for this long.
    pub lockout_minutes: u32,
    /// Origins allowed to call the API from a browser (`*` for any). Empty: same origin
    /// only, the default, since the dashboard is served by the API itself.
    pub cors_origins: Vec<String>,
    /// Requests per minute per client address, for the whole API.
    pub rate_limit_per_minute: u32,
    /// Requests per minute per client address to register, log in and refresh.
    pub auth_rate_limit_per_minute: u32,
}

impl Default for ApiSettings {
    fn default() -> Self {
        Self {
            access_token_minutes: 15,
            refresh_token_days: 30,
            lockout_failures: 5,
            lockout_minutes: 15,
            cors_origins: Vec::new(),
            rate_limit_per_minute: 1200,
            auth_rate_limit_per_minute: 30,
        }
    }
}

/// The embedded MQTT broker. Its plain listener is `mqtt_addr` (MQTT 3.1.1 and 5 on one
/// port).
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct BrokerSettings {
    /// A second listener speaking MQTT over TLS; needs `tls_cert` and `tls_key` (PEM).
    pub tls_addr: Option<SocketAddr>,
    pub tls_cert: Option<PathBuf>,
    pub tls_key: Option<PathBuf>,
    /// Largest PUBLISH payload accepted; larger ones disconnect the client.
    pub max_payload_bytes: usize,
    pub max_connections: usize,
    /// Largest keep-alive a client may ask for (rumqttd refuses 0, i.e. none).
    pub max_keep_alive_secs: u16,
    /// Unacknowledged QoS 1 messages in flight per connection.
    pub max_inflight: usize,
    /// Time a new connection has to send its CONNECT.
    pub connect_timeout_ms: u16,
    /// Failed CONNECTs per client id per minute before it is refused for a minute.
    pub max_failed_auth: u32,
}

/// Secrets; `healthsync config` never prints them.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct SecretSettings {
    /// Base64 key (≥ 32 bytes) for hashing API keys. Absent: generated once and kept in
    /// `<data_dir>/secrets/api-key-hmac`. Processes sharing a database must share it.
    pub api_key_hmac: Option<String>,
    /// Base64 key (≥ 32 bytes) that signs access tokens. Absent: generated once and kept
    /// in `<data_dir>/secrets/jwt-hmac`. API replicas must share it.
    pub jwt_hmac: Option<String>,
}

impl Default for BrokerSettings {
    fn default() -> Self {
        Self {
            tls_addr: None,
            tls_cert: None,
            tls_key: None,
            max_payload_bytes: 64 * 1024,
            max_connections: 20_000,
            max_keep_alive_secs: 900,
            max_inflight: 100,
            connect_timeout_ms: 5_000,
            max_failed_auth: 5,
        }
    }
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
            broker: BrokerSettings::default(),
            ingest: IngestSettings::default(),
            analytics: AnalyticsSettings::default(),
            api: ApiSettings::default(),
            secrets: SecretSettings::default(),
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
            // rumqttd logs every accept and every disconnect; healthsync records those
            // itself (device events), so its own logs are off unless asked for.
            level: "info,rumqttd=off,sqlx=warn".to_owned(),
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
                .list_separator(",")
                .with_list_parse_key("api.cors_origins")
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
        let broker = &self.broker;
        if broker.tls_addr.is_some() && (broker.tls_cert.is_none() || broker.tls_key.is_none()) {
            return Err(ConfigError::Rule(
                "broker.tls_addr needs broker.tls_cert and broker.tls_key".into(),
            ));
        }
        let api = &self.api;
        for (key, value) in [
            ("api.access_token_minutes", api.access_token_minutes),
            ("api.refresh_token_days", api.refresh_token_days),
            ("api.lockout_failures", api.lockout_failures),
            ("api.rate_limit_per_minute", api.rate_limit_per_minute),
            (
                "api.auth_rate_limit_per_minute",
                api.auth_rate_limit_per_minute,
            ),
        ] {
            if value == 0 {
                return Err(ConfigError::Rule(format!("{key} must be at least 1")));
            }
        }
        for (key, value) in [
            ("broker.max_payload_bytes", broker.max_payload_bytes),
            ("broker.max_connections", broker.max_connections),
            ("broker.max_inflight", broker.max_inflight),
            (
                "broker.max_keep_alive_secs",
                usize::from(broker.max_keep_alive_secs),
            ),
            (
                "broker.connect_timeout_ms",
                usize::from(broker.connect_timeout_ms),
            ),
        ] {
            if value == 0 {
                return Err(ConfigError::Rule(format!("{key} must be at least 1")));
            }
        }
        Ok(())
    }

    /// The settings as TOML, with secrets (passwords in URLs) replaced by `***`.
    pub fn to_redacted_toml(&self) -> String {
        let mut shown = self.clone();
        shown.database.url = shown.database.url.as_deref().map(redact_url_password);
        for secret in [&mut shown.secrets.api_key_hmac, &mut shown.secrets.jwt_hmac] {
            if secret.is_some() {
                *secret = Some("***".into());
            }
        }
        toml::to_string_pretty(&shown).unwrap_or_else(|e| format!("# cannot render: {e}\n"))
    }
}

/// `HEALTHSYNC_*` variables with the prefix removed and keys lower-cased; the variables
/// that are not keys (configuration file, test harness, assistant model) are left out.
fn healthsync_env(env: impl IntoIterator<Item = (String, String)>) -> HashMap<String, String> {
    env.into_iter()
        .filter(|(name, _)| {
            ![CONFIG_FILE_ENV, TEST_DATA_DIR_ENV, MODEL_DIR_ENV].contains(&name.as_str())
        })
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
                ("HEALTHSYNC_TEST_DATA_DIR", "/tmp/not-a-key"),
                ("HEALTHSYNC_MODEL_DIR", "/tmp/not-a-key-either"),
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

        let err = Settings::load_from(
            None,
            env(&[("HEALTHSYNC_BROKER__TLS_ADDR", "127.0.0.1:8883")]),
            &Overrides::default(),
        )
        .unwrap_err();
        assert!(err.to_string().contains("tls_cert"), "{err}");
    }

    #[test]
    fn cors_origins_are_a_comma_separated_list_in_the_environment() {
        let s = Settings::load_from(
            None,
            env(&[(
                "HEALTHSYNC_API__CORS_ORIGINS",
                "https://a.example,https://b.example",
            )]),
            &Overrides::default(),
        )
        .unwrap();
        assert_eq!(
            s.api.cors_origins,
            ["https://a.example", "https://b.example"]
        );
        let err = Settings::load_from(
            None,
            env(&[("HEALTHSYNC_API__LOCKOUT_FAILURES", "0")]),
            &Overrides::default(),
        )
        .unwrap_err();
        assert!(err.to_string().contains("api.lockout_failures"), "{err}");
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
            secrets: SecretSettings {
                api_key_hmac: Some("c2VjcmV0LWhtYWMta2V5".into()),
                jwt_hmac: Some("and0LXNpZ25pbmcta2V5".into()),
            },
            ..Settings::default()
        };
        let shown = s.to_redacted_toml();
        assert!(!shown.contains("s3cret"), "{shown}");
        assert!(!shown.contains("c2VjcmV0LWhtYWMta2V5"), "{shown}");
        assert!(!shown.contains("and0LXNpZ25pbmcta2V5"), "{shown}");
        assert!(shown.contains("app:***@db/hs"), "{shown}");
    }
}
