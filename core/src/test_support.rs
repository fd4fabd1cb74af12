//! Integration-test harness: one embedded cluster shared by every test process of a run
//! (started on first use, reused after), and a fresh database per test, cloned from a
//! template that holds the current migrations.
//!
//! The cluster lives under `<cargo target dir>/healthsync-test` (override with
//! `HEALTHSYNC_TEST_DATA_DIR`) and keeps running after the tests so the next run starts fast;
//! `healthsync db stop --data-dir target/healthsync-test` stops it. Without PostgreSQL or
//! TimescaleDB installed the harness fails with the setup instruction: it never skips.

use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::{SystemTime, UNIX_EPOCH};

use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use tokio::sync::OnceCell;

use crate::db::{self, EmbeddedCluster, StartMode, embedded};

/// Test databases older than this are dropped by later tests (a test that panicked never
/// dropped its own).
const STALE_AFTER_SECS: u64 = 3600;

/// A database of its own for one test. Dropped from the cluster by [`TestDb::drop_database`]
/// or, if the test failed before that, by a later test once it is stale.
pub struct TestDb {
    pub pool: PgPool,
    pub name: String,
    pub url: String,
}

struct Shared {
    cluster: EmbeddedCluster,
    template: String,
}

static SHARED: OnceCell<Shared> = OnceCell::const_new();

/// The data directory of the shared test cluster.
pub fn test_data_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os(crate::config::TEST_DATA_DIR_ENV) {
        return PathBuf::from(dir);
    }
    // Test executables live in <target>/<profile>/deps/.
    let target = std::env::current_exe()
        .ok()
        .and_then(|exe| exe.ancestors().nth(3).map(Path::to_owned));
    match target {
        Some(target) if embedded::searchable_by_others(&target) => target.join("healthsync-test"),
        // E.g. a checkout under /root while running as root: the server's user could not
        // reach a cluster there.
        _ => PathBuf::from(format!(
            "/tmp/healthsync-test-{}",
            nix::unistd::Uid::effective()
        )),
    }
}

/// The shared test cluster, started if needed.
pub async fn test_cluster() -> &'static EmbeddedCluster {
    &shared().await.cluster
}

async fn shared() -> &'static Shared {
    SHARED
        .get_or_init(|| async {
            let dir = test_data_dir();
            let cluster = EmbeddedCluster::new(&dir, true).unwrap_or_else(|e| {
                panic!("healthsync tests need PostgreSQL with TimescaleDB: {e}")
            });
            let start = cluster.clone();
            tokio::task::spawn_blocking(move || start.start(StartMode::Detached))
                .await
                .expect("cluster start task")
                .unwrap_or_else(|e| {
                    panic!("cannot start the test cluster in {}: {e}", dir.display())
                });
            let template = ensure_template(&cluster).await;
            Shared { cluster, template }
        })
        .await
}

fn options(cluster: &EmbeddedCluster, database: &str) -> PgConnectOptions {
    PgConnectOptions::from_str(&cluster.url(database)).expect("embedded cluster URL")
}

/// The template is named after the migrations' checksums, so a changed migration gets a
/// fresh template instead of a stale one.
async fn ensure_template(cluster: &EmbeddedCluster) -> String {
    let digest = db::MIGRATOR.iter().fold(0xcbf2_9ce4_8422_2325_u64, |h, m| {
        m.checksum.iter().fold(h ^ m.version as u64, |h, &b| {
            (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3)
        })
    });
    let name = format!("healthsync_template_{digest:016x}");
    let admin = admin_pool(cluster).await;
    // Serialise template creation across concurrent test processes.
    let mut tx = admin.begin().await.expect("begin");
    sqlx::query("SELECT pg_advisory_xact_lock(7461826)")
        .execute(&mut *tx)
        .await
        .expect("advisory lock");
    let exists: bool = sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1 AND datistemplate)",
    )
    .bind(&name)
    .fetch_one(&mut *tx)
    .await
    .expect("look up template");
    if !exists {
        sqlx::query(&format!("DROP DATABASE IF EXISTS {name}"))
            .execute(&admin)
            .await
            .expect("drop half-made template");
        sqlx::query(&format!("CREATE DATABASE {name}"))
            .execute(&admin)
            .await
            .expect("create template");
        let pool = PgPoolOptions::new()
            .max_connections(1)
            .connect_with(options(cluster, &name))
            .await
            .expect("connect to template");
        db::prepare_storage(&pool, false)
            .await
            .unwrap_or_else(|e| panic!("template storage: {e}"));
        db::migrate(&pool)
            .await
            .unwrap_or_else(|e| panic!("template migrations: {e}"));
        pool.close().await;
        sqlx::query(&format!(
            "ALTER DATABASE {name} WITH IS_TEMPLATE true ALLOW_CONNECTIONS false"
        ))
        .execute(&admin)
        .await
        .expect("mark template");
    }
    tx.commit().await.expect("commit");
    admin.close().await;
    name
}

async fn admin_pool(cluster: &EmbeddedCluster) -> PgPool {
    PgPoolOptions::new()
        .max_connections(2)
        .connect_with(options(cluster, "postgres"))
        .await
        .expect("connect to the test cluster")
}

/// A fresh, migrated database for one test.
pub async fn test_db() -> TestDb {
    let shared = shared().await;
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock")
        .as_secs();
    let name = format!("test_{now}_{}", uuid::Uuid::new_v4().simple());
    let admin = admin_pool(&shared.cluster).await;
    drop_stale_databases(&admin, now).await;
    sqlx::query(&format!(
        "CREATE DATABASE {name} TEMPLATE {}",
        shared.template
    ))
    .execute(&admin)
    .await
    .expect("clone the template");
    admin.close().await;
    let url = shared.cluster.url(&name);
    let pool = PgPoolOptions::new()
        .max_connections(10)
        .connect_with(options(&shared.cluster, &name))
        .await
        .expect("connect to the test database");
    TestDb { pool, name, url }
}

async fn drop_stale_databases(admin: &PgPool, now: u64) {
    let names: Vec<String> =
        sqlx::query_scalar("SELECT datname FROM pg_database WHERE datname LIKE 'test\\_%'")
            .fetch_all(admin)
            .await
            .unwrap_or_default();
    for name in names {
        let created = name
            .split('_')
            .nth(1)
            .and_then(|s| s.parse::<u64>().ok())
            .unwrap_or(now);
        if now.saturating_sub(created) > STALE_AFTER_SECS {
            let _ = sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                .execute(admin)
                .await;
        }
    }
}

impl TestDb {
    /// Drops this test's database.
    pub async fn drop_database(self) {
        self.pool.close().await;
        let admin = admin_pool(&shared().await.cluster).await;
        sqlx::query(&format!(
            "DROP DATABASE IF EXISTS {} WITH (FORCE)",
            self.name
        ))
        .execute(&admin)
        .await
        .expect("drop test database");
        admin.close().await;
    }
}

/// A patient account with a unique email.
pub async fn test_patient(pool: &PgPool) -> crate::ids::UserId {
    let email =
        crate::users::Email::parse(&format!("patient-{}@example.org", uuid::Uuid::new_v4()))
            .expect("valid email");
    crate::users::create(
        pool,
        crate::users::NewUser {
            email,
            first_name: "Pat".into(),
            last_name: "Ient".into(),
            phone: None,
            role: crate::users::Role::Patient,
            status: crate::users::UserStatus::Active,
            password: None,
        },
    )
    .await
    .expect("create patient")
    .id
}

/// A device of `kind` registered for `patient`, with its API key.
pub async fn test_device(
    pool: &PgPool,
    hasher: &crate::api_keys::KeyHasher,
    patient: crate::ids::UserId,
    kind: crate::devices::DeviceKind,
) -> crate::devices::DeviceWithKey {
    let new = crate::devices::NewDevice {
        patient_id: patient,
        kind,
        display_name: None,
        manufacturer: None,
        model: None,
        firmware_version: None,
    };
    crate::devices::register(pool, hasher, new)
        .await
        .expect("register device")
}
