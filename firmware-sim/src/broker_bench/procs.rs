//! The brokers under test as child processes — `healthsync up` and Debian's Mosquitto —
//! each behind a guard that stops it (SIGTERM, then SIGKILL after a grace period) when the
//! run ends, also on error or Ctrl-C.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;

use super::BenchError;

/// How long a child gets to stop after SIGTERM before it is killed.
const STOP_GRACE: Duration = Duration::from_secs(30);
/// How long the platform may take to become ready (the first start runs initdb).
const PLATFORM_READY: Duration = Duration::from_secs(180);
const MOSQUITTO_READY: Duration = Duration::from_secs(15);

pub const MOSQUITTO: &str = "/usr/sbin/mosquitto";
pub const MOSQUITTO_PASSWD: &str = "/usr/bin/mosquitto_passwd";

/// A free loopback address (the port is released again at once; nothing else on this
/// machine is expected to grab it in between).
pub fn free_addr() -> Result<SocketAddr, BenchError> {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map_err(|e| BenchError::io("cannot find a free loopback port", e))
}

/// A child process that is stopped when the guard goes.
pub struct Guarded {
    name: &'static str,
    child: Option<Child>,
    pub log: PathBuf,
}

impl Guarded {
    fn spawn(name: &'static str, mut command: Command, log: &Path) -> Result<Self, BenchError> {
        let out = File::create(log).map_err(|e| BenchError::io(log.display(), e))?;
        let err = out
            .try_clone()
            .map_err(|e| BenchError::io(log.display(), e))?;
        let child = command
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            .spawn()
            .map_err(|e| BenchError::io(format!("cannot start {name}"), e))?;
        Ok(Self {
            name,
            child: Some(child),
            log: log.to_owned(),
        })
    }

    pub fn pid(&self) -> u32 {
        self.child.as_ref().map_or(0, Child::id)
    }

    /// Fails with the end of the child's log if it has exited.
    fn check_alive(&mut self) -> Result<(), BenchError> {
        let Some(child) = self.child.as_mut() else {
            return Err(BenchError::Failed(format!("{} was stopped", self.name)));
        };
        match child.try_wait() {
            Ok(None) => Ok(()),
            Ok(Some(status)) => Err(BenchError::Failed(format!(
                "{} exited ({status}) before it was ready; end of its log {}:\n{}",
                self.name,
                self.log.display(),
                log_tail(&self.log)
            ))),
            Err(e) => Err(BenchError::io(format!("waiting for {}", self.name), e)),
        }
    }

    /// SIGTERM, then wait; SIGKILL after the grace period.
    pub fn stop(&mut self) -> Result<ExitStatus, BenchError> {
        let Some(mut child) = self.child.take() else {
            return Err(BenchError::Failed(format!("{} already stopped", self.name)));
        };
        let pid = Pid::from_raw(child.id() as i32);
        if let Ok(None) = child.try_wait() {
            let _ = kill(pid, Signal::SIGTERM);
        }
        let deadline = Instant::now() + STOP_GRACE;
        loop {
            match child.try_wait() {
                Ok(Some(status)) => return Ok(status),
                Ok(None) if Instant::now() < deadline => {
                    std::thread::sleep(Duration::from_millis(50));
                }
                Ok(None) => {
                    tracing::warn!(name = self.name, "did not stop after SIGTERM: killing it");
                    let _ = child.kill();
                    return child
                        .wait()
                        .map_err(|e| BenchError::io(format!("waiting for {}", self.name), e));
                }
                Err(e) => return Err(BenchError::io(format!("waiting for {}", self.name), e)),
            }
        }
    }
}

impl Drop for Guarded {
    fn drop(&mut self) {
        if self.child.is_some()
            && let Err(e) = self.stop()
        {
            tracing::warn!(name = self.name, %e, "cannot stop child process");
        }
    }
}

/// Warning and error lines of a broker's log without their timestamps, with how often
/// each occurred (at most `limit` distinct ones), for explaining failures.
pub fn log_problems(path: &Path, limit: usize) -> BTreeMap<String, usize> {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let mut problems = BTreeMap::new();
    for line in text.lines().map(strip_ansi) {
        // healthsync: `<time>  WARN target: message`; Mosquitto: `<time>: Error: message`.
        let message = match line
            .split_once(" WARN ")
            .or_else(|| line.split_once(" ERROR "))
        {
            Some((_, message)) => message.trim().to_owned(),
            None => match line
                .split_once(": Error: ")
                .or_else(|| line.split_once(": Warning: "))
            {
                Some((_, message)) => message.trim().to_owned(),
                None => continue,
            },
        };
        // rumqttd calls every connection a client closes without DISCONNECT an error.
        if message.contains(" disconnected ") {
            continue;
        }
        if problems.len() < limit || problems.contains_key(&message) {
            *problems.entry(message).or_insert(0) += 1;
        }
    }
    problems
}

fn strip_ansi(line: &str) -> String {
    let mut out = String::with_capacity(line.len());
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            // CSI: ESC [ ... final byte in @..~
            for c in chars.by_ref() {
                if ('@'..='~').contains(&c) && c != '[' {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

fn log_tail(path: &Path) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(30)..].join("\n")
}

/// `healthsync up` on a data directory of its own.
pub struct Platform {
    pub process: Guarded,
    pub mqtt_addr: SocketAddr,
}

impl Platform {
    /// Starts `<exe> up` with built-in defaults (no configuration file, `HEALTHSYNC_*`
    /// variables removed; only rumqttd's errors are logged as well) and waits until
    /// `GET /readyz` answers 200.
    pub async fn start(exe: &Path, data_dir: &Path, log: &Path) -> Result<Self, BenchError> {
        let http_addr = free_addr()?;
        let mqtt_addr = free_addr()?;
        let mut command = Command::new(exe);
        command
            .arg("up")
            .arg("--data-dir")
            .arg(data_dir)
            .arg("--http-addr")
            .arg(http_addr.to_string())
            .arg("--mqtt-addr")
            .arg(mqtt_addr.to_string());
        for (key, _) in std::env::vars_os() {
            if key.to_string_lossy().starts_with("HEALTHSYNC_") {
                command.env_remove(key);
            }
        }
        // The default filter silences rumqttd entirely; its errors (e.g. a CONNECT that
        // timed out) explain failed connections. RUST_LOG, if set, still wins.
        command.env("HEALTHSYNC_LOG__LEVEL", "info,rumqttd=error");
        let mut process = Guarded::spawn("healthsync up", command, log)?;
        let deadline = Instant::now() + PLATFORM_READY;
        loop {
            process.check_alive()?;
            if readyz(http_addr) == Some(200) {
                break;
            }
            if Instant::now() > deadline {
                return Err(BenchError::Failed(format!(
                    "healthsync up was not ready after {}s; end of its log {}:\n{}",
                    PLATFORM_READY.as_secs(),
                    log.display(),
                    log_tail(log)
                )));
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        Ok(Self { process, mqtt_addr })
    }
}

/// The status code of `GET /readyz`, or `None` when nothing answers.
fn readyz(addr: SocketAddr) -> Option<u16> {
    let mut stream = TcpStream::connect_timeout(&addr, Duration::from_secs(1)).ok()?;
    stream.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    write!(
        stream,
        "GET /readyz HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )
    .ok()?;
    let mut head = [0u8; 12];
    stream.read_exact(&mut head).ok()?;
    // "HTTP/1.1 200"
    std::str::from_utf8(&head[9..12]).ok()?.parse().ok()
}

/// One login for Mosquitto's password file.
pub struct MosquittoUser<'a> {
    pub username: &'a str,
    pub password: &'a str,
}

/// The Mosquitto ACL equivalent to healthsync's: a device writes its own telemetry and
/// status and reads under its own prefix; the ingest service reads every device's
/// telemetry and status and writes acks.
pub fn mosquitto_acl(service_username: &str) -> String {
    format!(
        "# healthsync's topic ACL in Mosquitto's terms\n\
         pattern write devices/%u/telemetry\n\
         pattern write devices/%u/status\n\
         pattern read devices/%u/#\n\
         \n\
         user {service_username}\n\
         topic read devices/+/telemetry\n\
         topic read devices/+/status\n\
         topic write devices/+/ack\n"
    )
}

/// Mosquitto's settings for the run. `max_inflight_messages` matches healthsync's
/// `broker.max_inflight` and `max_queued_messages` holds the whole run, so that neither
/// broker may drop a QoS 1 message the other would have kept.
pub fn mosquitto_config(
    port: u16,
    dir: &Path,
    run_as: Option<&str>,
    max_inflight: usize,
    max_queued: usize,
) -> String {
    let mut conf = format!(
        "# generated by healthsync bench broker\n\
         listener {port} 127.0.0.1\n\
         allow_anonymous false\n\
         password_file {}\n\
         acl_file {}\n\
         persistence false\n\
         log_dest stderr\n\
         log_type error\n\
         log_type warning\n\
         log_type notice\n\
         max_inflight_messages {max_inflight}\n\
         max_queued_messages {max_queued}\n",
        dir.join("mosquitto.passwd").display(),
        dir.join("mosquitto.acl").display(),
    );
    if let Some(user) = run_as {
        conf.push_str(&format!("user {user}\n"));
    }
    conf
}

pub struct Mosquitto {
    pub process: Guarded,
    pub addr: SocketAddr,
}

/// Mosquitto's password file and ACL, written once for every start.
pub struct MosquittoFiles {
    dir: PathBuf,
    run_as: Option<&'static str>,
    max_inflight: usize,
    max_queued: usize,
}

impl MosquittoFiles {
    /// Writes the password file (hashed by `mosquitto_passwd -U`) and the ACL into `dir`.
    pub async fn write(
        dir: &Path,
        users: &[MosquittoUser<'_>],
        service_username: &str,
        max_inflight: usize,
        max_queued: usize,
    ) -> Result<Self, BenchError> {
        std::fs::create_dir_all(dir).map_err(|e| BenchError::io(dir.display(), e))?;
        let passwd = dir.join("mosquitto.passwd");
        let mut plain = String::with_capacity(users.len() * 100);
        for user in users {
            plain.push_str(user.username);
            plain.push(':');
            plain.push_str(user.password);
            plain.push('\n');
        }
        write_file(&passwd, &plain)?;
        let hashed = tokio::process::Command::new(MOSQUITTO_PASSWD)
            .arg("-U")
            .arg(&passwd)
            .output()
            .await
            .map_err(|e| BenchError::io(format!("cannot run {MOSQUITTO_PASSWD}"), e))?;
        if !hashed.status.success() {
            return Err(BenchError::Failed(format!(
                "mosquitto_passwd -U failed: {}",
                String::from_utf8_lossy(&hashed.stderr).trim()
            )));
        }
        write_file(&dir.join("mosquitto.acl"), &mosquitto_acl(service_username))?;

        // As root, Mosquitto drops to its own user; it must be able to read its files.
        let run_as = if nix::unistd::Uid::effective().is_root() {
            let user = nix::unistd::User::from_name("mosquitto")
                .ok()
                .flatten()
                .ok_or_else(|| {
                    BenchError::Failed(
                        "there is no `mosquitto` system user: run deploy/setup.sh".into(),
                    )
                })?;
            for file in ["mosquitto.passwd", "mosquitto.acl"] {
                std::os::unix::fs::chown(
                    dir.join(file),
                    Some(user.uid.as_raw()),
                    Some(user.gid.as_raw()),
                )
                .map_err(|e| BenchError::io(dir.join(file).display(), e))?;
            }
            Some("mosquitto")
        } else {
            None
        };
        set_mode(&passwd, 0o600)?;
        Ok(Self {
            dir: dir.to_owned(),
            run_as,
            max_inflight,
            max_queued,
        })
    }

    /// Starts a fresh Mosquitto on a free port (its output goes to `<dir>/<name>.log`) and
    /// waits until it accepts connections.
    pub async fn start(&self, name: &str) -> Result<Mosquitto, BenchError> {
        let addr = free_addr()?;
        let conf = self.dir.join(format!("{name}.conf"));
        write_file(
            &conf,
            &mosquitto_config(
                addr.port(),
                &self.dir,
                self.run_as,
                self.max_inflight,
                self.max_queued,
            ),
        )?;
        let mut command = Command::new(MOSQUITTO);
        command.arg("-c").arg(&conf);
        let log = self.dir.join(format!("{name}.log"));
        let mut process = Guarded::spawn("mosquitto", command, &log)?;
        let deadline = Instant::now() + MOSQUITTO_READY;
        loop {
            process.check_alive()?;
            if TcpStream::connect_timeout(&addr, Duration::from_millis(500)).is_ok() {
                break;
            }
            if Instant::now() > deadline {
                return Err(BenchError::Failed(format!(
                    "mosquitto did not listen on {addr}; end of its log:\n{}",
                    log_tail(&log)
                )));
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        Ok(Mosquitto { process, addr })
    }
}

/// `mosquitto version 2.0.11` and the Debian package version, as far as they are known.
pub fn mosquitto_version() -> String {
    let upstream = Command::new(MOSQUITTO)
        .arg("-h")
        .output()
        .ok()
        .and_then(|out| {
            String::from_utf8_lossy(&out.stdout)
                .lines()
                .next()
                .and_then(|line| line.strip_prefix("mosquitto version "))
                .map(str::to_owned)
        })
        .unwrap_or_else(|| "unknown version".into());
    let debian = Command::new("dpkg-query")
        .args(["-W", "-f=${Version}", "mosquitto"])
        .output()
        .ok()
        .filter(|out| out.status.success())
        .map(|out| String::from_utf8_lossy(&out.stdout).trim().to_owned());
    match debian {
        Some(debian) => format!("{upstream} (Debian {debian})"),
        None => upstream,
    }
}

fn write_file(path: &Path, text: &str) -> Result<(), BenchError> {
    std::fs::write(path, text).map_err(|e| BenchError::io(path.display(), e))
}

/// A fresh directory under /tmp for one benchmark run, removed when dropped. Mode 0755:
/// the embedded PostgreSQL runs as `postgres` when we are root, Mosquitto as `mosquitto`.
pub fn scratch_dir(prefix: &str) -> Result<tempfile::TempDir, BenchError> {
    let dir = tempfile::Builder::new()
        .prefix(prefix)
        .tempdir_in("/tmp")
        .map_err(|e| BenchError::io("cannot create a directory under /tmp", e))?;
    set_mode(dir.path(), 0o755)?;
    Ok(dir)
}

pub fn set_mode(path: &Path, mode: u32) -> Result<(), BenchError> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))
        .map_err(|e| BenchError::io(path.display(), e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_mosquitto_acl_mirrors_healthsync_principals() {
        let acl = mosquitto_acl("service-bench");
        for line in [
            "pattern write devices/%u/telemetry",
            "pattern write devices/%u/status",
            "pattern read devices/%u/#",
            "user service-bench",
            "topic read devices/+/telemetry",
        ] {
            assert!(acl.lines().any(|l| l == line), "{line}");
        }
        let conf = mosquitto_config(1884, Path::new("/tmp/x"), Some("mosquitto"), 100, 5);
        assert!(conf.contains("listener 1884 127.0.0.1\n"));
        assert!(conf.contains("allow_anonymous false\n"));
        assert!(conf.contains("acl_file /tmp/x/mosquitto.acl\n"));
        assert!(conf.ends_with("user mosquitto\n"));
    }
}
