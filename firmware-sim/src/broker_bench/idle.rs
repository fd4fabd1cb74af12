//! Memory per idle connection: C raw TCP connections, each one hand-built MQTT 3.1.1
//! CONNECT with a real device's credentials and an accepted CONNACK, then silence. The
//! broker process's resident set (VmRSS) is read before — after a warm-up of
//! [`WARMUP`] connections that stay open — and again once all C are connected and settled.
//!
//! Raw sockets keep the client side light; the only process measured is the broker's own
//! (for healthsync, the `healthsync up` process, not its PostgreSQL children), freshly
//! started: memory freed by earlier work would otherwise be reused and hide the cost.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use indicatif::ProgressBar;
use serde::Serialize;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::Semaphore;
use tokio::task::JoinSet;

use super::BenchError;
use super::provision::Login;
use super::wire::{self, ConnAck};

/// Connections opened (and kept) before the baseline is read.
pub const WARMUP: usize = 100;
/// Connections being opened at once.
const CONCURRENCY: usize = 200;
/// Keep-alive the idle clients announce: longer than the measurement, so they never ping.
const KEEP_ALIVE_SECS: u16 = 600;
const CONNECT_TIMEOUT: Duration = Duration::from_secs(30);
/// Pause before each reading of the resident set.
const SETTLE: Duration = Duration::from_secs(3);

#[derive(Clone, Debug, Serialize)]
pub struct IdleResult {
    pub requested: usize,
    pub connected: usize,
    /// Failed connections by reason (empty when all connected).
    pub failures: BTreeMap<String, usize>,
    /// When some failed: the broker's warnings and errors from its log, with counts.
    pub broker_log: BTreeMap<String, usize>,
    /// Seconds to open the `connected` ones.
    pub connect_seconds: f64,
    pub rss_before_bytes: u64,
    pub rss_after_bytes: u64,
    /// (after - before) / connected.
    pub bytes_per_connection: f64,
}

/// VmRSS of `pid` in bytes.
pub fn rss_bytes(pid: u32) -> Result<u64, BenchError> {
    let path = format!("/proc/{pid}/status");
    let status = std::fs::read_to_string(&path).map_err(|e| BenchError::io(&path, e))?;
    parse_vm_rss(&status).ok_or_else(|| BenchError::Failed(format!("{path} has no VmRSS line")))
}

fn parse_vm_rss(status: &str) -> Option<u64> {
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    let kb: u64 = line
        .trim_start_matches("VmRSS:")
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()?;
    Some(kb * 1024)
}

/// One idle connection, or why it failed.
async fn open(addr: SocketAddr, login: Login) -> Result<TcpStream, String> {
    let attempt = async {
        let mut stream = TcpStream::connect(addr)
            .await
            .map_err(|e| format!("connect: {}", e.kind()))?;
        let packet = wire::connect_packet(
            &login.client_id,
            &login.username,
            &login.password,
            KEEP_ALIVE_SECS,
        );
        stream
            .write_all(&packet)
            .await
            .map_err(|e| format!("send CONNECT: {}", e.kind()))?;
        let mut ack = [0u8; 4];
        stream
            .read_exact(&mut ack)
            .await
            .map_err(|e| format!("read CONNACK: {}", e.kind()))?;
        match wire::parse_connack(ack) {
            ConnAck::Accepted => Ok(stream),
            ConnAck::Refused(code) => Err(format!("CONNACK return code {code}")),
            ConnAck::NotConnAck => Err(format!("not a CONNACK: {ack:02x?}")),
        }
    };
    tokio::time::timeout(CONNECT_TIMEOUT, attempt)
        .await
        .unwrap_or_else(|_| Err("no CONNACK within 30s".into()))
}

/// Opens one connection per login, `CONCURRENCY` at a time.
async fn open_all(
    addr: SocketAddr,
    logins: &[Login],
    progress: Option<&ProgressBar>,
) -> (Vec<TcpStream>, BTreeMap<String, usize>) {
    let limit = Arc::new(Semaphore::new(CONCURRENCY));
    let mut tasks = JoinSet::new();
    for login in logins {
        let login = login.clone();
        let limit = limit.clone();
        tasks.spawn(async move {
            let _permit = limit.acquire_owned().await;
            open(addr, login).await
        });
    }
    let mut streams = Vec::with_capacity(logins.len());
    let mut failures = BTreeMap::new();
    while let Some(joined) = tasks.join_next().await {
        match joined {
            Ok(Ok(stream)) => streams.push(stream),
            Ok(Err(reason)) => *failures.entry(reason).or_insert(0) += 1,
            Err(e) => *failures.entry(format!("task: {e}")).or_insert(0) += 1,
        }
        if let Some(progress) = progress {
            progress.inc(1);
        }
    }
    (streams, failures)
}

/// Measures the broker process `pid` listening at `addr`. `warmup` and `idle` must be
/// distinct devices (a second session with the same client id replaces the first).
pub async fn run(
    addr: SocketAddr,
    pid: u32,
    warmup: &[Login],
    idle: &[Login],
    progress: &ProgressBar,
) -> Result<IdleResult, BenchError> {
    let (warm, warm_failures) = open_all(addr, warmup, None).await;
    if !warm_failures.is_empty() {
        return Err(BenchError::Failed(format!(
            "idle: warm-up connections failed: {warm_failures:?}"
        )));
    }
    tokio::time::sleep(SETTLE).await;
    let before = rss_bytes(pid)?;

    let started = Instant::now();
    let (streams, failures) = open_all(addr, idle, Some(progress)).await;
    let connect_seconds = started.elapsed().as_secs_f64();
    tokio::time::sleep(SETTLE).await;
    let after = rss_bytes(pid)?;

    // Still connected? A broker that dropped them after CONNACK must not look cheap.
    let mut still_open = 0;
    let mut probe = [0u8; 1];
    for stream in &streams {
        match stream.try_read(&mut probe) {
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => still_open += 1,
            _ => {}
        }
    }
    let mut failures = failures;
    if still_open < streams.len() {
        failures.insert(
            "closed by the broker after CONNACK".into(),
            streams.len() - still_open,
        );
    }
    drop(streams);
    drop(warm);

    Ok(IdleResult {
        requested: idle.len(),
        connected: still_open,
        failures,
        broker_log: BTreeMap::new(),
        connect_seconds,
        rss_before_bytes: before,
        rss_after_bytes: after,
        bytes_per_connection: if still_open > 0 {
            (after as f64 - before as f64) / still_open as f64
        } else {
            0.0
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vm_rss_is_read_in_bytes() {
        let status = "Name:\tmosquitto\nVmPeak:\t  9000 kB\nVmRSS:\t    6144 kB\nThreads:\t1\n";
        assert_eq!(parse_vm_rss(status), Some(6144 * 1024));
        assert_eq!(parse_vm_rss("Name:\tx\n"), None);
    }
}
