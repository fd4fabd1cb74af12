//! `healthsync bench api`: how fast the API answers a patient's dashboard and bucketed
//! vitals over a month of 1 Hz heart rate, measured from outside with `wrk` (Debian).
//!
//! Seeds `patients` × `days` of one reading per second (20 × 30 by default: 51.8 million
//! readings) straight into `readings` with `generate_series`, recomputes their five-minute
//! rollup (what ingest keeps as it writes), then serves the API in this process and lets
//! `wrk` request, round robin over the patients and each with the patient's own token: the
//! 7-day and 30-day dashboards and 5-minute buckets over 24 hours. A seeded data directory
//! can be kept (`--data-dir`) and measured again without seeding.

use std::fmt::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use chrono::{DateTime, DurationRound, Utc};
use clap::Args;
use healthsync_api::auth::caller::ClientMeta;
use healthsync_api::auth::sessions;
use healthsync_api::{AppState, AuthState};
use healthsync_core::api_keys::KeyHasher;
use healthsync_core::config::Settings;
use healthsync_core::db::Database;
use healthsync_core::ids::{DeviceId, UserId};
use healthsync_sim::broker_bench::procs;
use healthsync_sim::provision;
use indicatif::{ProgressBar, ProgressStyle};
use serde::Deserialize;
use sqlx::ConnectOptions;
use sqlx::PgPool;
use sqlx::postgres::PgPoolOptions;
use tokio::net::TcpListener;
use tokio::task::JoinSet;

use super::bench::write_report;

/// The e-mail domain of the seeded patients, to find them again in a kept directory.
const BENCH_RUN: &str = "apibench";

#[derive(Args)]
pub struct ApiArgs {
    /// Patients, each with a month of heart rate.
    #[arg(long, default_value_t = 20, value_name = "N")]
    patients: usize,
    /// Days of 1 Hz heart rate per patient, ending now.
    #[arg(long, default_value_t = 30, value_name = "D")]
    days: u32,
    /// How long wrk requests each endpoint.
    #[arg(long, default_value = "20s", value_parser = super::sim::parse_duration, value_name = "T")]
    duration: Duration,
    /// wrk's open connections.
    #[arg(long, default_value_t = 8, value_name = "C")]
    connections: u32,
    /// Keep the database in this directory; a directory seeded before is measured again
    /// without seeding. Without it, a scratch directory is used and removed.
    #[arg(long, value_name = "DIR")]
    data_dir: Option<PathBuf>,
    /// Also write the report as Markdown to this file.
    #[arg(long, value_name = "FILE.md")]
    report: Option<PathBuf>,
}

struct Seeded {
    patients: Vec<(UserId, DeviceId)>,
    readings: i64,
}

/// What the wrk script's `done` prints.
#[derive(Deserialize)]
struct WrkSummary {
    requests: u64,
    duration_us: u64,
    non_2xx: u64,
    socket_errors: u64,
    p50_us: u64,
    p95_us: u64,
    p99_us: u64,
}

pub async fn run(args: ApiArgs) -> anyhow::Result<ExitCode> {
    anyhow::ensure!(
        args.patients > 0 && args.days > 0,
        "--patients and --days must be at least 1"
    );
    which_wrk()?;
    let scratch;
    let data_dir = match &args.data_dir {
        Some(dir) => dir.clone(),
        None => {
            scratch = procs::scratch_dir("healthsync-bench-api-")?;
            scratch.path().join("data")
        }
    };
    let mut settings = Settings {
        data_dir,
        ..Settings::default()
    };
    // wrk is one client sending as fast as it can; the access token outlives the run.
    settings.api.rate_limit_per_minute = u32::MAX;
    settings.api.access_token_minutes = 24 * 60;
    eprintln!("bench api: database in {}", settings.data_dir.display());
    let db = Database::open(&settings).await?;
    let pool = db.pool.clone();
    let hasher = KeyHasher::load(None, &settings.data_dir)?;
    let seeded = match find_seeded(&pool).await? {
        Some(seeded) if seeded.patients.len() == args.patients => {
            eprintln!(
                "bench api: reusing {} patients and {} readings seeded before",
                seeded.patients.len(),
                seeded.readings
            );
            seeded
        }
        Some(_) => bail!(
            "{} was seeded with another number of patients; use a fresh --data-dir",
            settings.data_dir.display()
        ),
        None => seed(&pool, &hasher, args.patients, args.days).await?,
    };

    let state = AppState::new(pool.clone(), AuthState::new(&settings.api, &[7; 32]));
    let mut tokens = Vec::new();
    for (patient, _) in &seeded.patients {
        let pair = sessions::start(&state, *patient, &ClientMeta::default())
            .await
            .map_err(|e| anyhow::anyhow!("cannot start a session: {e}"))?;
        tokens.push(pair.access);
    }
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(healthsync_api::serve(listener, state, async {
        let _ = stopped.await;
    }));

    let now = Utc::now().duration_trunc(chrono::Duration::seconds(1))?;
    let day_ago = (now - chrono::Duration::hours(24)).format("%Y-%m-%dT%H:%M:%SZ");
    let endpoints: [(&str, String); 3] = [
        ("Dashboard, 7-day trend", "/dashboard".into()),
        ("Dashboard, 30-day trend", "/dashboard?days=30".into()),
        (
            "Heart rate, 5-minute buckets over 24 h (first page: 200 buckets)",
            format!("/metrics?metric=heart_rate&bucket=5m&from={day_ago}&limit=200"),
        ),
    ];
    let scratch_lua = tempfile::tempdir()?;
    let mut rows = Vec::new();
    for (name, suffix) in &endpoints {
        let paths: Vec<String> = seeded
            .patients
            .iter()
            .map(|(patient, _)| format!("/api/patients/{patient}{suffix}"))
            .collect();
        let script = scratch_lua.path().join("requests.lua");
        std::fs::write(&script, lua_script(&paths, &tokens))?;
        // A short warm-up fills the caches and the connection pool; it is not reported.
        wrk(
            addr,
            &script,
            args.connections,
            Duration::from_secs(3),
            None,
        )
        .await?;
        let summary = wrk(addr, &script, args.connections, args.duration, Some(name)).await?;
        rows.push((name.to_string(), summary));
    }
    let raw_ms = raw_scan_reference(&pool, &seeded).await?;
    let _ = stop.send(());
    server.await??;
    let sizes = storage_sizes(&pool).await?;
    db.close().await?;

    let report = markdown(&args, &seeded, &rows, raw_ms, &sizes);
    println!("{report}");
    if let Some(path) = &args.report {
        write_report(path, &report)?;
    }
    let failed = rows
        .iter()
        .any(|(_, s)| s.non_2xx > 0 || s.socket_errors > 0);
    Ok(if failed {
        eprintln!("bench api: some requests failed (see the table)");
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}

fn which_wrk() -> anyhow::Result<()> {
    let found = std::process::Command::new("wrk")
        .arg("--version")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).contains("wrk"))
        .unwrap_or(false);
    anyhow::ensure!(
        found,
        "wrk is not installed: run deploy/setup.sh (Debian's wrk)"
    );
    Ok(())
}

/// The patients and devices a kept directory was seeded with, if any.
async fn find_seeded(pool: &PgPool) -> anyhow::Result<Option<Seeded>> {
    let patients: Vec<(UserId, DeviceId)> = sqlx::query_as(
        "SELECT u.id, d.id FROM users u JOIN devices d ON d.patient_id = u.id
         WHERE u.email LIKE '%.' || $1 || '@sim.healthsync.test'
         ORDER BY u.email",
    )
    .bind(BENCH_RUN)
    .fetch_all(pool)
    .await?;
    if patients.is_empty() {
        return Ok(None);
    }
    let readings: i64 = sqlx::query_scalar("SELECT coalesce(sum(count), 0)::int8 FROM readings_5m")
        .fetch_one(pool)
        .await?;
    Ok(Some(Seeded { patients, readings }))
}

async fn seed(
    pool: &PgPool,
    hasher: &KeyHasher,
    patients: usize,
    days: u32,
) -> anyhow::Result<Seeded> {
    let roster = provision::provision(
        pool,
        hasher,
        provision::smartwatches("api", patients),
        BENCH_RUN,
        &ProgressBar::hidden(),
    )
    .await?;
    let patients: Vec<(UserId, DeviceId)> = roster
        .patients
        .iter()
        .map(|p| (p.id, p.devices[0].id))
        .collect();
    // Exactly `days` × 86,400 readings per patient, the last one a second before now.
    let now = Utc::now().duration_trunc(chrono::Duration::seconds(1))?;
    let day = chrono::Duration::days(1);
    let first = now - day * days as i32;
    let day_windows: Vec<(DateTime<Utc>, DateTime<Utc>)> = (0..days as i32)
        .map(|d| (first + day * d, first + day * (d + 1)))
        .collect();
    let jobs: Vec<(UserId, DeviceId, DateTime<Utc>, DateTime<Utc>)> = patients
        .iter()
        .flat_map(|&(p, d)| day_windows.iter().map(move |&(s, e)| (p, d, s, e)))
        .collect();
    let total: i64 = jobs.iter().map(|j| (j.3 - j.2).num_seconds()).sum();
    eprintln!(
        "bench api: seeding {} patients × {days} days of 1 Hz heart rate = {total} readings",
        patients.len()
    );
    let bar = ProgressBar::new(total as u64).with_style(
        ProgressStyle::with_template(
            "{spinner} seeding [{bar:40}] {human_pos}/{human_len} readings, {per_sec}, eta {eta}",
        )?
        .progress_chars("=> "),
    );
    let started = Instant::now();
    // Seeding statements are slow by design: their own pool, without slow-statement logs.
    let options = (*pool.connect_options())
        .clone()
        .disable_statement_logging();
    let pool = &PgPoolOptions::new()
        .max_connections(2)
        .connect_with(options)
        .await?;
    // One worker per core: the database is the bottleneck, and two inserts keep it busy.
    let jobs = std::sync::Arc::new(std::sync::Mutex::new(jobs));
    let mut workers = JoinSet::new();
    for _ in 0..2 {
        let (pool, jobs, bar) = (pool.clone(), jobs.clone(), bar.clone());
        workers.spawn(async move {
            loop {
                let job = jobs.lock().map(|mut j| j.pop()).unwrap_or(None);
                let Some((patient, device, start, end)) = job else {
                    return Ok::<_, sqlx::Error>(());
                };
                let mut tx = pool.begin().await?;
                sqlx::query("SET LOCAL synchronous_commit = off")
                    .execute(&mut *tx)
                    .await?;
                // A resting rate of about 64 with a daily rhythm (lowest before dawn) and
                // noise: realistic enough for the planner and the aggregates.
                let inserted = sqlx::query(
                    "INSERT INTO readings (measured_at, device_id, patient_id, metric, value, seq)
                     SELECT t, $1, $2, 'heart_rate',
                            round((64 + 9 * sin(2 * pi() * (extract(epoch FROM t) / 86400 - 0.375))
                                   + random() * 8)::numeric, 0),
                            extract(epoch FROM t)::int8
                     FROM generate_series($3::timestamptz, $4::timestamptz - interval '1 second',
                                          interval '1 second') AS t",
                )
                .bind(device)
                .bind(patient)
                .bind(start)
                .bind(end)
                .execute(&mut *tx)
                .await?
                .rows_affected();
                tx.commit().await?;
                bar.inc(inserted);
            }
        });
    }
    while let Some(joined) = workers.join_next().await {
        joined.context("seeding task failed")??;
    }
    bar.finish_and_clear();
    eprintln!(
        "bench api: seeded {total} readings in {:.0} s; rolling up",
        started.elapsed().as_secs_f64()
    );
    let bar = ProgressBar::new(day_windows.len() as u64).with_style(
        ProgressStyle::with_template("{spinner} rollup [{bar:40}] {pos}/{len} days, eta {eta}")?
            .progress_chars("=> "),
    );
    // Recomputed a day at a time, on slot boundaries: from the slot holding the first
    // reading to the end of the slot holding the last.
    let five_minutes = chrono::Duration::minutes(5);
    let base = first.duration_trunc(five_minutes)?;
    let end = (now + chrono::Duration::seconds(299)).duration_trunc(five_minutes)?;
    for d in 0..days as i32 {
        let start = base + day * d;
        let stop = if d + 1 == days as i32 {
            end
        } else {
            start + day
        };
        sqlx::query("SELECT rollup_readings($1, $2)")
            .bind(start)
            .bind(stop)
            .execute(pool)
            .await?;
        bar.inc(1);
    }
    bar.finish_and_clear();
    sqlx::query("ANALYZE readings").execute(pool).await?;
    sqlx::query("ANALYZE readings_5m").execute(pool).await?;
    Ok(Seeded {
        patients,
        readings: total,
    })
}

/// wrk's request script: round robin over the patients' paths, each with its patient's
/// token; `done` prints the summary as one JSON line.
fn lua_script(paths: &[String], tokens: &[String]) -> String {
    let list = |items: &[String]| {
        items
            .iter()
            .map(|s| format!("{s:?}"))
            .collect::<Vec<_>>()
            .join(",\n  ")
    };
    format!(
        r#"local paths = {{
  {}
}}
local tokens = {{
  {}
}}
local i = 0
request = function()
  i = i % #paths + 1
  return wrk.format("GET", paths[i], {{ ["Authorization"] = "Bearer " .. tokens[i] }})
end
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    '{{"requests":%d,"duration_us":%d,"non_2xx":%d,"socket_errors":%d,"p50_us":%d,"p95_us":%d,"p99_us":%d}}\n',
    summary.requests, summary.duration, e.status, e.connect + e.read + e.write + e.timeout,
    latency:percentile(50), latency:percentile(95), latency:percentile(99)))
end
"#,
        list(paths),
        list(tokens)
    )
}

/// Runs wrk (2 threads) and reads its summary; shows a progress bar when `name` is given.
async fn wrk(
    addr: std::net::SocketAddr,
    script: &std::path::Path,
    connections: u32,
    duration: Duration,
    name: Option<&str>,
) -> anyhow::Result<WrkSummary> {
    let child = tokio::process::Command::new("wrk")
        .arg("--threads=2")
        .arg(format!("--connections={connections}"))
        .arg(format!("--duration={}s", duration.as_secs().max(1)))
        .arg("--timeout=10s")
        .arg("--script")
        .arg(script)
        .arg(format!("http://{addr}"))
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .context("cannot start wrk")?;
    let bar = match name {
        Some(name) => ProgressBar::new(duration.as_secs()).with_style(
            ProgressStyle::with_template(&format!(
                "{{spinner}} {name} [{{bar:30}}] {{pos}}/{{len}} s"
            ))?
            .progress_chars("=> "),
        ),
        None => ProgressBar::hidden(),
    };
    let ticker = {
        let bar = bar.clone();
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(Duration::from_secs(1)).await;
                bar.inc(1);
            }
        })
    };
    let output = child.wait_with_output().await?;
    ticker.abort();
    bar.finish_and_clear();
    let stdout = String::from_utf8_lossy(&output.stdout);
    if !output.status.success() {
        bail!(
            "wrk failed: {}{}",
            stdout,
            String::from_utf8_lossy(&output.stderr)
        );
    }
    let line = stdout
        .lines()
        .rev()
        .find(|l| l.starts_with('{'))
        .with_context(|| format!("wrk printed no summary: {stdout}"))?;
    Ok(serde_json::from_str(line)?)
}

/// The 30-day daily aggregate of one patient straight from the raw readings, as the
/// dashboard would compute it without the rollup: median of three patients, in ms.
async fn raw_scan_reference(pool: &PgPool, seeded: &Seeded) -> anyhow::Result<f64> {
    let mut times = Vec::new();
    for (patient, _) in seeded.patients.iter().take(3) {
        let started = Instant::now();
        sqlx::query(
            "SELECT time_bucket(interval '1 day', measured_at), metric, count(*), min(value),
                    max(value), avg(value)
             FROM readings WHERE patient_id = $1 AND measured_at >= now() - interval '30 days'
             GROUP BY 1, 2",
        )
        .bind(patient)
        .fetch_all(pool)
        .await?;
        times.push(started.elapsed().as_secs_f64() * 1e3);
    }
    times.sort_by(f64::total_cmp);
    Ok(times[times.len() / 2])
}

async fn storage_sizes(pool: &PgPool) -> anyhow::Result<(String, String)> {
    // hypertable_size counts every chunk; on plain PostgreSQL the table is all there is.
    Ok(sqlx::query_as(
        "SELECT pg_size_pretty(CASE WHEN to_regproc('hypertable_size') IS NOT NULL
                                    THEN hypertable_size('readings')
                                    ELSE pg_total_relation_size('readings') END),
                pg_size_pretty(pg_total_relation_size('readings_5m'))",
    )
    .fetch_one(pool)
    .await?)
}

fn markdown(
    args: &ApiArgs,
    seeded: &Seeded,
    rows: &[(String, WrkSummary)],
    raw_ms: f64,
    (readings_size, rollup_size): &(String, String),
) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "## API benchmark (`healthsync bench api`)\n");
    let _ = writeln!(
        out,
        "{} patients × {} days of 1 Hz heart rate: {} readings ({readings_size}; the \
         five-minute rollup {rollup_size}). wrk 4.1, 2 threads, {} connections, {} s per \
         endpoint after a 3 s warm-up, round robin over the patients, each request with \
         its patient's token (so each is authorized and audited).\n",
        seeded.patients.len(),
        args.days,
        seeded.readings,
        args.connections,
        args.duration.as_secs(),
    );
    let _ = writeln!(
        out,
        "| Endpoint | Requests/s | p50 | p95 | p99 | Non-2xx | Socket errors |"
    );
    let _ = writeln!(out, "|---|---:|---:|---:|---:|---:|---:|");
    for (name, s) in rows {
        let per_sec = s.requests as f64 / (s.duration_us as f64 / 1e6);
        let _ = writeln!(
            out,
            "| {name} | {per_sec:.0} | {:.1} ms | {:.1} ms | {:.1} ms | {} | {} |",
            s.p50_us as f64 / 1e3,
            s.p95_us as f64 / 1e3,
            s.p99_us as f64 / 1e3,
            s.non_2xx,
            s.socket_errors
        );
    }
    let _ = writeln!(
        out,
        "\nFor comparison, the same 30-day daily aggregate of one patient computed from the \
         raw readings instead of the rollup (one query, no HTTP): {raw_ms:.0} ms (median of 3)."
    );
    out
}
