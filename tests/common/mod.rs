//! What the binary's integration tests share: private data directories, a `healthsync up`
//! child process in its own process group, and small blocking helpers around it.
#![allow(dead_code)] // each test crate uses its own subset

use std::net::TcpListener;
use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use nix::sys::signal::{Signal, kill, killpg};
use nix::unistd::Pid;

pub const BIN: &str = env!("CARGO_BIN_EXE_healthsync");
pub const READY_TIMEOUT: Duration = Duration::from_secs(120);
/// How often a start whose port was taken is tried ([`Up::retrying`]), and what it says.
const PORT_ATTEMPTS: u32 = 3;
const PORT_TAKEN: &str = "Address already in use";

/// A data directory the unprivileged `postgres` user can reach when the tests run as root.
pub fn data_dir() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::Builder::new()
        .prefix("healthsync-it-")
        .tempdir_in("/tmp")
        .unwrap();
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let data = dir.path().join("data");
    (dir, data)
}

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

pub fn healthsync(data: &Path, args: &[&str]) -> Output {
    Command::new(BIN)
        .args(args)
        .arg("--data-dir")
        .arg(data)
        .env_remove("HEALTHSYNC_DATABASE__URL")
        .output()
        .unwrap()
}

pub fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

pub fn psql(data: &Path, sql: &str) -> String {
    let url = stdout(&healthsync(data, &["db", "url"]));
    let out = Command::new("psql")
        .args([url.trim(), "-XAtc", sql])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "psql failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    stdout(&out).trim().to_owned()
}

/// A running `healthsync up`, in its own process group so that the whole group can be
/// killed like a crashed service.
pub struct Up {
    pub child: Child,
    pub port: u16,
    pub log: PathBuf,
}

impl Up {
    pub fn start(data: &Path) -> Up {
        Up::retrying(data, || {
            let mqtt = format!("127.0.0.1:{}", free_port());
            Up::spawn(data, &["--mqtt-addr", &mqtt], &[])
        })
    }

    pub fn start_with(data: &Path, extra: &[&str]) -> Up {
        Up::start_with_env(data, extra, &[])
    }

    /// Starts with extra arguments and environment variables (configuration keys).
    pub fn start_with_env(data: &Path, extra: &[&str], env: &[(&str, &str)]) -> Up {
        Up::retrying(data, || Up::spawn(data, extra, env))
    }

    /// A port found free may be taken by a parallel test before the platform binds it,
    /// once its model has loaded (seconds): the start is then tried again on new ports,
    /// after the PostgreSQL of the failed one has stopped.
    fn retrying(data: &Path, mut spawn: impl FnMut() -> Result<Up, String>) -> Up {
        let mut attempts = 1;
        loop {
            match spawn() {
                Ok(up) => return up,
                Err(output) if attempts < PORT_ATTEMPTS && output.contains(PORT_TAKEN) => {
                    attempts += 1;
                    wait_cluster_stopped(data);
                }
                Err(output) => panic!("healthsync up exited {output}"),
            }
        }
    }

    /// Spawns `healthsync up` and waits until it is ready; its output if it exits first.
    fn spawn(data: &Path, extra: &[&str], env: &[(&str, &str)]) -> Result<Up, String> {
        let port = free_port();
        let log = data.with_file_name(format!("up-{port}.log"));
        let out = std::fs::File::create(&log).unwrap();
        let child = Command::new(BIN)
            .args(["up", "--http-addr", &format!("127.0.0.1:{port}")])
            .args(extra)
            .arg("--data-dir")
            .arg(data)
            .env_remove("HEALTHSYNC_DATABASE__URL")
            .envs(env.iter().copied())
            .stdout(out.try_clone().unwrap())
            .stderr(out)
            .stdin(Stdio::null())
            .process_group(0)
            .spawn()
            .unwrap();
        let mut up = Up { child, port, log };
        up.ready()?;
        Ok(up)
    }

    fn ready(&mut self) -> Result<(), String> {
        let deadline = Instant::now() + READY_TIMEOUT;
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return Err(format!("with {status}:\n{}", self.output()));
            }
            if let Ok(200) = http_status(&format!("http://127.0.0.1:{}/readyz", self.port)) {
                return Ok(());
            }
            assert!(
                Instant::now() < deadline,
                "not ready in time:\n{}",
                self.output()
            );
            std::thread::sleep(Duration::from_millis(200));
        }
    }

    pub fn output(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    pub fn pid(&self) -> Pid {
        Pid::from_raw(self.child.id() as i32)
    }

    /// Sends `signal` and waits for a clean exit.
    pub fn stop_with(mut self, signal: Signal) -> String {
        kill(self.pid(), signal).unwrap();
        let status = wait_exit(&mut self.child, Duration::from_secs(90));
        assert!(status.success(), "exit {status}:\n{}", self.output());
        self.output()
    }

    pub fn kill_process_group(mut self) {
        killpg(self.pid(), Signal::SIGKILL).unwrap();
        wait_exit(&mut self.child, Duration::from_secs(10));
    }
}

/// A test that fails before stopping its platform must not leave it running, with its
/// PostgreSQL, ports and data directory: stop it as an operator would, then for sure.
impl Drop for Up {
    fn drop(&mut self) {
        if !matches!(self.child.try_wait(), Ok(None)) {
            return;
        }
        let _ = kill(self.pid(), Signal::SIGTERM);
        let deadline = Instant::now() + Duration::from_secs(30);
        while matches!(self.child.try_wait(), Ok(None)) && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(100));
        }
        let _ = killpg(self.pid(), Signal::SIGKILL);
        let _ = self.child.wait();
    }
}

pub fn wait_exit(child: &mut Child, within: Duration) -> std::process::ExitStatus {
    let deadline = Instant::now() + within;
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("process did not exit within {within:?}");
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

pub fn cluster_running(data: &Path) -> bool {
    healthsync(data, &["db", "status"]).status.success()
}

pub fn wait_cluster_stopped(data: &Path) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while cluster_running(data) {
        assert!(
            Instant::now() < deadline,
            "PostgreSQL still runs after healthsync ended"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// The status code of a GET; the platform speaks plain HTTP on loopback.
pub fn http_status(url: &str) -> Result<u16, reqwest::Error> {
    http_get(url).map(|(status, _)| status)
}

pub fn http_get(url: &str) -> Result<(u16, String), reqwest::Error> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async {
        let response = reqwest::get(url).await?;
        let status = response.status().as_u16();
        Ok((status, response.text().await?))
    })
}

/// GETs JSON with a bearer token; the answer, which must be 200.
pub fn http_get_json(url: &str, token: &str) -> serde_json::Value {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async {
        let response = reqwest::Client::new()
            .get(url)
            .bearer_auth(token)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200, "{url}");
        response.json().await.unwrap()
    })
}

pub fn device_online(data: &Path, id: &str) -> bool {
    psql(
        data,
        &format!("SELECT online FROM devices WHERE id = '{id}'"),
    ) == "t"
}

pub fn wait_until(mut condition: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while !condition() {
        assert!(Instant::now() < deadline, "condition not met in time");
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// Headless Chromium as the tests run it: nothing started in the background, no network
/// of its own (`--no-sandbox`: the tests may run as root).
pub const HEADLESS_CHROMIUM: [&str; 7] = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
];

pub const PASSWORD: &str = "a long enough password";

/// A user with [`PASSWORD`], through the CLI; their id.
pub fn add_user(data: &Path, email: &str, role: &str) -> String {
    let out = healthsync(
        data,
        &[
            "user",
            "add",
            "--email",
            email,
            "--name",
            "Test Person",
            "--role",
            role,
            "--password",
            PASSWORD,
            "--json",
        ],
    );
    assert!(out.status.success(), "{out:?}");
    let created: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    created["user_id"].as_str().unwrap().to_owned()
}

/// A device of `kind` for the patient `email`, through the CLI: its id and API key.
pub fn add_device(data: &Path, email: &str, kind: &str) -> (String, String) {
    let out = healthsync(
        data,
        &[
            "device",
            "add",
            "--patient",
            email,
            "--kind",
            kind,
            "--json",
        ],
    );
    assert!(out.status.success(), "{out:?}");
    let device: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    (
        device["device_id"].as_str().unwrap().to_owned(),
        device["api_key"].as_str().unwrap().to_owned(),
    )
}

/// How many readings of the device are stored.
pub fn stored_readings(data: &Path, device: &str) -> u64 {
    psql(
        data,
        &format!("SELECT count(*) FROM readings WHERE device_id = '{device}'"),
    )
    .parse()
    .unwrap()
}

/// POSTs JSON (with a bearer token when given); the status and the JSON answer.
pub fn http_post_json(
    url: &str,
    token: Option<&str>,
    body: serde_json::Value,
) -> (u16, serde_json::Value) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let mut request = reqwest::Client::new().post(url).json(&body);
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        let response = request.send().await.unwrap();
        let status = response.status().as_u16();
        (
            status,
            response.json().await.unwrap_or(serde_json::Value::Null),
        )
    })
}
