//! Authentication of MQTT clients: client id = username = principal, password = API key.
//!
//! The broker keeps a mirror of every principal's stored key hash, loaded before it
//! listens and kept current by change notifications (register, rotate, revoke) and a
//! periodic reload. That lets the ACL wrapper decide at CONNECT, synchronously, and answer
//! a refusal with a proper CONNACK code — rumqttd's own auth hook can only drop the socket.
//! Keys are checked in constant time; a client id that fails too often is refused without
//! a check for a while.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use healthsync_core::api_keys::{KeyHasher, key_prefix};
use healthsync_core::ids::DeviceId;
use healthsync_core::services::CLIENT_ID_PREFIX;
use rumqttd::protocol::ConnectReturnCode;
use sqlx::PgPool;
use uuid::Uuid;

use crate::principal::Principal;
use crate::tracker::{EventKind, Tracker};

/// How long failures count against a client id, and how long it is then refused.
const FAILURE_WINDOW: Duration = Duration::from_secs(60);
/// Bound on the failure table, against floods of made-up client ids.
const MAX_TRACKED_FAILURES: usize = 100_000;
/// Client ids given to refused connections so they never displace a real session.
const QUARANTINE_PREFIX: &str = "refused-";
/// Database look-ups per second for client ids missing from the mirror (a device
/// registered a moment ago); beyond it a miss is refused, so made-up ids cannot make the
/// broker hammer the database.
const MISS_LOOKUPS_PER_SEC: u32 = 100;

#[derive(Clone, Debug)]
struct StoredCredential {
    active: bool,
    key_hash: Vec<u8>,
}

#[derive(Debug)]
struct Failures {
    count: u32,
    since: Instant,
}

/// Why a CONNECT was refused; also the `detail` of the `refused` device event.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Refusal {
    BadClientId,
    NoCredentials,
    RateLimited,
    UnknownPrincipal,
    Revoked,
    BadKey,
}

impl Refusal {
    pub fn as_str(self) -> &'static str {
        match self {
            Refusal::BadClientId => "bad_client_id",
            Refusal::NoCredentials => "no_credentials",
            Refusal::RateLimited => "rate_limited",
            Refusal::UnknownPrincipal => "unknown_principal",
            Refusal::Revoked => "revoked",
            Refusal::BadKey => "bad_key",
        }
    }

    /// The CONNACK code, one that MQTT 3.1.1 and 5 both have.
    pub fn connack_code(self) -> ConnectReturnCode {
        match self {
            Refusal::BadClientId => ConnectReturnCode::ClientIdentifierNotValid,
            Refusal::NoCredentials | Refusal::UnknownPrincipal | Refusal::BadKey => {
                ConnectReturnCode::BadUserNamePassword
            }
            Refusal::Revoked | Refusal::RateLimited => ConnectReturnCode::NotAuthorized,
        }
    }
}

pub struct Authenticator {
    pool: PgPool,
    hasher: KeyHasher,
    tracker: Tracker,
    max_failures: u32,
    /// Client id → stored credential, for every device and service principal.
    mirror: RwLock<HashMap<String, StoredCredential>>,
    failures: Mutex<HashMap<String, Failures>>,
    /// Client ids the ACL wrapper admitted at CONNECT (accepted, or quarantined to carry a
    /// refusal), with how many such connections rumqttd has not yet run its auth hook for.
    admitted: Mutex<HashMap<String, u32>>,
    miss_lookups: Mutex<(Instant, u32)>,
    /// Held from a reload's query to its write: a full reload that read the table before
    /// a rotation must not overwrite the newer key a notification wrote meanwhile.
    reloading: tokio::sync::Mutex<()>,
}

/// The mirror's answer before any database look-up.
enum Verdict {
    Accept(Principal),
    Refuse(Refusal),
    NotInMirror,
}

impl Authenticator {
    /// Creates the authenticator with every credential loaded.
    pub async fn load(
        pool: PgPool,
        hasher: KeyHasher,
        tracker: Tracker,
        max_failures: u32,
    ) -> Result<Arc<Self>, sqlx::Error> {
        let auth = Arc::new(Self {
            pool,
            hasher,
            tracker,
            max_failures,
            mirror: RwLock::default(),
            failures: Mutex::default(),
            admitted: Mutex::default(),
            miss_lookups: Mutex::new((Instant::now(), 0)),
            reloading: tokio::sync::Mutex::default(),
        });
        auth.reload_all().await?;
        Ok(auth)
    }

    /// Replaces the mirror with the database's current credentials.
    pub async fn reload_all(&self) -> Result<(), sqlx::Error> {
        let _reloading = self.reloading.lock().await;
        let devices: Vec<(DeviceId, bool, Vec<u8>)> =
            sqlx::query_as("SELECT id, status = 'active', api_key_hash FROM devices")
                .fetch_all(&self.pool)
                .await?;
        let services: Vec<(String, bool, Vec<u8>)> =
            sqlx::query_as("SELECT name, revoked_at IS NULL, api_key_hash FROM service_principals")
                .fetch_all(&self.pool)
                .await?;
        let mirror: HashMap<String, StoredCredential> = devices
            .into_iter()
            .map(|(id, active, key_hash)| (id.to_string(), StoredCredential { active, key_hash }))
            .chain(services.into_iter().map(|(name, active, key_hash)| {
                (
                    format!("{CLIENT_ID_PREFIX}{name}"),
                    StoredCredential { active, key_hash },
                )
            }))
            .collect();
        metrics::gauge!("healthsync_broker_known_principals").set(mirror.len() as f64);
        *self.mirror.write().expect("mirror lock") = mirror;
        Ok(())
    }

    /// Refreshes one principal after a change notification.
    pub async fn reload(&self, client_id: &str) -> Result<(), sqlx::Error> {
        let _reloading = self.reloading.lock().await;
        let stored: Option<(bool, Vec<u8>)> = match Principal::parse(client_id) {
            Some(Principal::Device(id)) => {
                sqlx::query_as("SELECT status = 'active', api_key_hash FROM devices WHERE id = $1")
                    .bind(id)
                    .fetch_optional(&self.pool)
                    .await?
            }
            Some(Principal::Service(name)) => sqlx::query_as(
                "SELECT revoked_at IS NULL, api_key_hash FROM service_principals WHERE name = $1",
            )
            .bind(name)
            .fetch_optional(&self.pool)
            .await?,
            None => return Ok(()),
        };
        let mut mirror = self.mirror.write().expect("mirror lock");
        match stored {
            Some((active, key_hash)) => {
                mirror.insert(client_id.to_owned(), StoredCredential { active, key_hash });
            }
            None => {
                mirror.remove(client_id);
            }
        }
        Ok(())
    }

    /// The verdict on a CONNECT, with its bookkeeping (failure counts, metrics, events).
    /// Runs inside rumqttd's read path: a principal missing from the mirror is looked up
    /// in the database in place (rare: registered a moment ago).
    pub fn decide(
        &self,
        client_id: &str,
        login: Option<(&str, &str)>,
    ) -> Result<Principal, Refusal> {
        let verdict = match self.verdict(client_id, login) {
            Verdict::NotInMirror if self.may_look_up() => {
                let reloaded = tokio::task::block_in_place(|| {
                    tokio::runtime::Handle::current().block_on(self.reload(client_id))
                });
                if let Err(e) = reloaded {
                    tracing::warn!(%e, client_id, "cannot look up credentials");
                }
                self.verdict(client_id, login)
            }
            other => other,
        };
        let verdict = match verdict {
            Verdict::Accept(principal) => Ok(principal),
            Verdict::Refuse(refusal) => Err(refusal),
            Verdict::NotInMirror => Err(Refusal::UnknownPrincipal),
        };
        match &verdict {
            Ok(_) => {
                self.failures
                    .lock()
                    .expect("failures lock")
                    .remove(client_id);
            }
            Err(refusal) => {
                if *refusal != Refusal::RateLimited {
                    self.count_failure(client_id);
                }
                metrics::counter!("healthsync_broker_auth_refused_total", "reason" => refusal.as_str())
                    .increment(1);
                tracing::info!(
                    client_id,
                    reason = refusal.as_str(),
                    key_prefix = login.and_then(|(_, key)| key_prefix(key)),
                    "MQTT connect refused"
                );
                if let Some(Principal::Device(device)) = Principal::parse(client_id)
                    && *refusal != Refusal::UnknownPrincipal
                {
                    self.tracker.record(
                        device,
                        EventKind::Refused,
                        Some(refusal.as_str().to_owned()),
                    );
                }
            }
        }
        verdict
    }

    fn verdict(&self, client_id: &str, login: Option<(&str, &str)>) -> Verdict {
        let Some(principal) = Principal::parse(client_id) else {
            return Verdict::Refuse(Refusal::BadClientId);
        };
        let Some((username, password)) = login else {
            return Verdict::Refuse(Refusal::NoCredentials);
        };
        if username != client_id {
            return Verdict::Refuse(Refusal::BadClientId);
        }
        if self.is_rate_limited(client_id) {
            return Verdict::Refuse(Refusal::RateLimited);
        }
        let stored = self
            .mirror
            .read()
            .expect("mirror lock")
            .get(client_id)
            .cloned();
        match stored {
            None => {
                // Same work as a real check, so timing does not tell which ids exist.
                self.hasher.verify(password, &[0; 32]);
                Verdict::NotInMirror
            }
            Some(c) if !c.active => Verdict::Refuse(Refusal::Revoked),
            Some(c) if self.hasher.verify(password, &c.key_hash) => Verdict::Accept(principal),
            Some(_) => Verdict::Refuse(Refusal::BadKey),
        }
    }

    fn may_look_up(&self) -> bool {
        let mut window = self.miss_lookups.lock().expect("lookup lock");
        if window.0.elapsed() >= Duration::from_secs(1) {
            *window = (Instant::now(), 0);
        }
        window.1 += 1;
        window.1 <= MISS_LOOKUPS_PER_SEC
    }

    /// A one-time client id for a refused connection: rumqttd registers the connection
    /// under it (so the real principal's session is untouched) until it is closed.
    pub fn quarantine(&self) -> String {
        let id = format!("{QUARANTINE_PREFIX}{}", Uuid::new_v4().simple());
        self.admit(&id);
        id
    }

    /// Records that the ACL wrapper let this CONNECT through to rumqttd.
    pub fn admit(&self, client_id: &str) {
        *self
            .admitted
            .lock()
            .expect("admitted lock")
            .entry(client_id.to_owned())
            .or_default() += 1;
    }

    /// rumqttd's auth hook. The decision was taken at CONNECT by the ACL wrapper, which
    /// admitted the connection (accepted, or quarantined so that its refusal CONNACK is
    /// written); this only consumes that admission, so nothing is checked twice and no
    /// connection gets past without the wrapper's decision.
    pub async fn confirm(&self, client_id: String) -> bool {
        let mut admitted = self.admitted.lock().expect("admitted lock");
        match admitted.get_mut(&client_id) {
            Some(1) => {
                admitted.remove(&client_id);
                true
            }
            Some(count) => {
                *count -= 1;
                true
            }
            None => false,
        }
    }

    fn is_rate_limited(&self, client_id: &str) -> bool {
        let failures = self.failures.lock().expect("failures lock");
        failures
            .get(client_id)
            .is_some_and(|f| f.count >= self.max_failures && f.since.elapsed() < FAILURE_WINDOW)
    }

    fn count_failure(&self, client_id: &str) {
        let mut failures = self.failures.lock().expect("failures lock");
        if failures.len() >= MAX_TRACKED_FAILURES {
            failures.retain(|_, f| f.since.elapsed() < FAILURE_WINDOW);
        }
        let entry = failures.entry(client_id.to_owned()).or_insert(Failures {
            count: 0,
            since: Instant::now(),
        });
        if entry.since.elapsed() >= FAILURE_WINDOW {
            *entry = Failures {
                count: 0,
                since: Instant::now(),
            };
        }
        entry.count += 1;
    }
}
