//! The `healthsync` binary end to end on a private data directory: `up` on a fresh machine
//! state, clean stop, reuse of the data, recovery after `kill -9`, and the `db`, `migrate`
//! and `config` commands.

mod common;

use std::process::{Command, Output, Stdio};

use common::*;
use nix::sys::signal::Signal;

#[test]
fn up_runs_stops_cleanly_reuses_data_and_recovers_after_kill_9() {
    let (_guard, data) = data_dir();

    // First run on an empty data directory: initialises, migrates, serves.
    let up = Up::start(&data);
    assert_eq!(
        psql(
            &data,
            "SELECT hypertable_name FROM timescaledb_information.hypertables"
        ),
        "readings"
    );
    psql(
        &data,
        "INSERT INTO users (id, email, first_name, last_name, role) \
         VALUES (gen_random_uuid(), 'marker@example.org', 'Mark', 'Er', 'admin')",
    );
    let first = up.stop_with(Signal::SIGINT);
    assert!(first.contains("initialising PostgreSQL cluster"), "{first}");
    assert!(
        !cluster_running(&data),
        "Ctrl-C must stop the embedded PostgreSQL"
    );
    assert!(!data.join("pg/data/postmaster.pid").exists());

    // Second run reuses the cluster and its data.
    let up = Up::start(&data);
    assert!(
        !up.output().contains("initialising"),
        "second run re-initialised"
    );
    assert_eq!(
        psql(
            &data,
            "SELECT count(*) FROM users WHERE email = 'marker@example.org'"
        ),
        "1"
    );

    // A crash of the whole process group takes the server down with it...
    up.kill_process_group();
    wait_cluster_stopped(&data);
    // ...and may leave a lock file naming a PID that now belongs to another process.
    std::fs::write(
        data.join("pg/data/postmaster.pid"),
        format!(
            "{}\n{}\n",
            std::process::id(),
            data.join("pg/data").display()
        ),
    )
    .unwrap();

    // The third run recovers and still has the data.
    let up = Up::start(&data);
    assert!(
        up.output().contains("removing stale lock file"),
        "{}",
        up.output()
    );
    assert_eq!(
        psql(
            &data,
            "SELECT count(*) FROM users WHERE email = 'marker@example.org'"
        ),
        "1"
    );
    up.stop_with(Signal::SIGTERM);
    assert!(!cluster_running(&data));
}

#[test]
fn db_commands_manage_a_detached_cluster() {
    let (_guard, data) = data_dir();
    let status = healthsync(&data, &["db", "status"]);
    assert_eq!(status.status.code(), Some(3));
    assert!(stdout(&status).contains("not initialised"));

    let start = healthsync(&data, &["db", "start"]);
    assert!(start.status.success(), "{start:?}");
    let url = stdout(&healthsync(&data, &["db", "url"]));
    assert!(stdout(&start).contains(url.trim()), "start prints the URL");
    assert!(
        cluster_running(&data),
        "db start leaves the cluster running"
    );
    assert_eq!(psql(&data, "SELECT current_database()"), "healthsync");

    // A second start reuses the running cluster.
    assert!(healthsync(&data, &["db", "start"]).status.success());

    let stop = healthsync(&data, &["db", "stop"]);
    assert!(stdout(&stop).contains("stopped"), "{stop:?}");
    assert_eq!(healthsync(&data, &["db", "status"]).status.code(), Some(3));
    assert!(stdout(&healthsync(&data, &["db", "stop"])).contains("not running"));
}

#[test]
fn migrate_applies_once_then_is_a_no_op() {
    let (_guard, data) = data_dir();
    let migrations = std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/migrations"))
        .unwrap()
        .count();
    let first = healthsync(&data, &["migrate"]);
    assert!(first.status.success(), "{first:?}");
    assert_eq!(
        stdout(&first).trim(),
        format!("applied {migrations} migration(s)")
    );
    let second = healthsync(&data, &["migrate"]);
    assert!(second.status.success());
    assert_eq!(stdout(&second).trim(), "database is up to date");
    assert!(
        !cluster_running(&data),
        "migrate stops the cluster it started"
    );
}

#[test]
fn config_prints_effective_settings_with_secrets_redacted() {
    let (_guard, data) = data_dir();
    let out = Command::new(BIN)
        .args(["config", "--data-dir"])
        .arg(&data)
        .env(
            "HEALTHSYNC_DATABASE__URL",
            "postgres://app:hunter2@db.internal/hs",
        )
        .env("HEALTHSYNC_HTTP_ADDR", "127.0.0.1:9999")
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let text = stdout(&out);
    assert!(text.contains("http_addr = \"127.0.0.1:9999\""), "{text}");
    assert!(
        text.contains(&format!("data_dir = \"{}\"", data.display())),
        "{text}"
    );
    assert!(text.contains("app:***@db.internal"), "{text}");
    assert!(!text.contains("hunter2"), "{text}");

    let bad = Command::new(BIN)
        .args(["config"])
        .env("HEALTHSYNC_HTTP_ADDR", "nowhere")
        .output()
        .unwrap();
    assert_eq!(bad.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("http_addr"));
}

/// `healthsync user|device ...` against the data directory of a running `healthsync up`,
/// with a real MQTT client: a device added by one process connects to the broker of another
/// at once, and a key rotated or revoked from the command line ends the live session.
#[test]
fn operators_manage_devices_while_the_platform_runs() {
    let (_guard, data) = data_dir();
    let mqtt_port = free_port();
    let up = Up::start_with(&data, &["--mqtt-addr", &format!("127.0.0.1:{mqtt_port}")]);
    let json = |out: Output| -> serde_json::Value {
        assert!(out.status.success(), "{out:?}");
        serde_json::from_slice(&out.stdout).unwrap()
    };
    json(healthsync(
        &data,
        &[
            "user",
            "add",
            "--email",
            "Ada@Example.org",
            "--name",
            "Ada Lovelace",
            "--role",
            "patient",
            "--json",
        ],
    ));
    let added = json(healthsync(
        &data,
        &[
            "device",
            "add",
            "--patient",
            "ada@example.org",
            "--kind",
            "pulse_oximeter",
            "--json",
        ],
    ));
    let id = added["device_id"].as_str().unwrap().to_owned();
    let key = added["api_key"].as_str().unwrap().to_owned();

    let publish = |key: &str| {
        Command::new("mosquitto_pub")
            .args(["-h", "127.0.0.1", "-p", &mqtt_port.to_string()])
            .args(["-i", &id, "-u", &id, "-P", key, "-q", "1"])
            .args(["-t", &format!("devices/{id}/telemetry"), "-m", "{}"])
            .output()
            .unwrap()
    };
    assert!(
        publish(&key).status.success(),
        "a freshly added device cannot publish"
    );

    // A live session, then a rotation from another process.
    let mut session = Command::new("mosquitto_sub")
        .args(["-h", "127.0.0.1", "-p", &mqtt_port.to_string()])
        .args([
            "-i",
            &id,
            "-u",
            &id,
            "-P",
            &key,
            "-t",
            &format!("devices/{id}/ack"),
        ])
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    wait_until(|| device_online(&data, &id));
    let rotated = json(healthsync(&data, &["device", "rotate-key", &id, "--json"]));
    let new_key = rotated["api_key"].as_str().unwrap().to_owned();
    assert_ne!(new_key, key);
    wait_until(|| !device_online(&data, &id));
    let _ = session.kill();
    let _ = session.wait();
    let refused = publish(&key);
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stderr).contains("Connection Refused"));
    assert!(publish(&new_key).status.success());

    assert!(
        healthsync(&data, &["device", "revoke", &id])
            .status
            .success()
    );
    // The broker hears of the revocation through LISTEN/NOTIFY from the CLI's process: at
    // once, but not within the CLI's exit, so the first publish may still race it.
    wait_until(|| !publish(&new_key).status.success());
    let refused = publish(&new_key);
    assert!(
        String::from_utf8_lossy(&refused.stderr).contains("Connection Refused"),
        "a revoked device is refused at CONNECT"
    );
    let listed = json(healthsync(&data, &["device", "list", "--json"]));
    assert_eq!(listed[0]["status"], "revoked");
    assert_eq!(listed[0]["kind"], "pulse_oximeter");
    assert!(
        listed[0].get("api_key_hash").is_none(),
        "hashes are never shown"
    );

    // Bad input: a clear error, and nothing changes.
    let bad = healthsync(
        &data,
        &[
            "device",
            "add",
            "--patient",
            "ada@example.org",
            "--kind",
            "toaster",
        ],
    );
    assert!(!bad.status.success());
    assert!(
        String::from_utf8_lossy(&bad.stderr).contains("smartwatch"),
        "{bad:?}"
    );
    let nobody = healthsync(
        &data,
        &[
            "device",
            "add",
            "--patient",
            "nobody@example.org",
            "--kind",
            "scale",
        ],
    );
    assert!(String::from_utf8_lossy(&nobody.stderr).contains("no user with email"));
    assert_eq!(
        json(healthsync(&data, &["device", "list", "--json"]))
            .as_array()
            .unwrap()
            .len(),
        1
    );
    up.stop_with(Signal::SIGTERM);
}
