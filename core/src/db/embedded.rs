//! The embedded PostgreSQL cluster: a private cluster under `<data_dir>/pg`, run with the
//! machine's own `initdb`/`postgres` binaries, reachable only through a Unix socket in a
//! directory only its owner can enter.
//!
//! Layout of `<data_dir>/pg`: `data/` (PGDATA), `socket/` (the Unix socket), `postgres.log`,
//! `cluster.lock` (serialises concurrent starters, e.g. parallel test processes).
//!
//! PostgreSQL refuses to run as root, so when healthsync runs as root the cluster belongs to
//! the unprivileged `postgres` system user and every server process is started as that user.

use std::fs::{self, File, OpenOptions};
use std::io::{Read, Seek, SeekFrom};
use std::os::unix::fs::{PermissionsExt, chown};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use nix::sys::signal::{Signal, kill};
use nix::unistd::{Pid, Uid, User};

/// Superuser of the embedded cluster and name of the application database.
pub const SUPERUSER: &str = "healthsync";
pub const DATABASE: &str = "healthsync";
/// The port only names the socket file (`.s.PGSQL.5432`); the cluster listens on no TCP port.
const PORT: u16 = 5432;
/// Unix socket paths are limited to 107 bytes on Linux.
const MAX_SOCKET_PATH: usize = 100;
const SETUP_HINT: &str = "run `deploy/setup.sh` (as root) to install it";
const START_TIMEOUT: Duration = Duration::from_secs(120);
const STOP_TIMEOUT: Duration = Duration::from_secs(60);

#[derive(Debug, thiserror::Error)]
pub enum EmbeddedError {
    #[error(
        "PostgreSQL server binaries (initdb, postgres) were not found in PATH or /usr/lib/postgresql/*/bin; {SETUP_HINT} (Debian package postgresql-15)"
    )]
    BinariesMissing,
    #[error(
        "TimescaleDB is not installed for the PostgreSQL at {bin_dir} (no {library}); {SETUP_HINT}, or set database.allow_plain_postgres = true to run on plain tables"
    )]
    TimescaleMissing { bin_dir: PathBuf, library: PathBuf },
    #[error(
        "running as root, the embedded cluster must belong to the `postgres` system user, which does not exist; {SETUP_HINT}"
    )]
    NoPostgresUser,
    #[error(
        "the `postgres` user cannot reach {0} (a parent directory is not searchable by others); choose a --data-dir outside it, e.g. under /var/lib or /tmp"
    )]
    Unreachable(PathBuf),
    #[error("{action} failed: {detail}")]
    Command { action: String, detail: String },
    #[error("I/O error on {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("PostgreSQL did not become ready within {0:?}; see {1}")]
    StartTimeout(Duration, PathBuf),
    #[error("PostgreSQL exited during start-up; last lines of {log}:\n{tail}")]
    StartFailed { log: PathBuf, tail: String },
    #[error("PostgreSQL (pid {0}) did not stop within {1:?}")]
    StopTimeout(i32, Duration),
}

fn io_err(path: &Path) -> impl FnOnce(std::io::Error) -> EmbeddedError + '_ {
    move |source| EmbeddedError::Io {
        path: path.to_owned(),
        source,
    }
}

/// Where the PostgreSQL server programs live.
#[derive(Clone, Debug)]
pub struct PgBinaries {
    pub bin_dir: PathBuf,
}

impl PgBinaries {
    /// Finds `initdb` and `postgres` side by side: first through `PATH` (following symlinks
    /// to the real directory), then the newest `/usr/lib/postgresql/<version>/bin`.
    pub fn locate() -> Result<Self, EmbeddedError> {
        let from_path = std::env::var_os("PATH")
            .into_iter()
            .flat_map(|p| std::env::split_paths(&p).collect::<Vec<_>>())
            .filter_map(|dir| fs::canonicalize(dir.join("postgres")).ok())
            .filter_map(|postgres| postgres.parent().map(Path::to_owned));
        let mut debian: Vec<(u32, PathBuf)> = fs::read_dir("/usr/lib/postgresql")
            .into_iter()
            .flatten()
            .flatten()
            .filter_map(|e| {
                let version = e.file_name().to_str()?.parse().ok()?;
                Some((version, e.path().join("bin")))
            })
            .collect();
        debian.sort_by_key(|&(version, _)| std::cmp::Reverse(version));
        from_path
            .chain(debian.into_iter().map(|(_, dir)| dir))
            .find(|dir| dir.join("initdb").is_file() && dir.join("postgres").is_file())
            .map(|bin_dir| Self { bin_dir })
            .ok_or(EmbeddedError::BinariesMissing)
    }

    fn program(&self, name: &str) -> PathBuf {
        self.bin_dir.join(name)
    }

    /// The directory PostgreSQL loads extension libraries from.
    pub fn pkglibdir(&self) -> PathBuf {
        let pg_config = self.program("pg_config");
        if let Ok(out) = Command::new(&pg_config).arg("--pkglibdir").output()
            && out.status.success()
        {
            return PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
        }
        // Debian's layout: /usr/lib/postgresql/15/{bin,lib}.
        self.bin_dir.with_file_name("lib")
    }

    pub fn timescaledb_library(&self) -> PathBuf {
        self.pkglibdir().join("timescaledb.so")
    }
}

/// The state of the cluster as seen from its files and the process table.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ClusterStatus {
    NotInitialized,
    Stopped,
    Running { pid: i32 },
}

/// A private PostgreSQL cluster under `<data_dir>/pg`.
#[derive(Clone, Debug)]
pub struct EmbeddedCluster {
    root: PathBuf,
    bins: PgBinaries,
    /// The system user the server runs as when we are root; `None` runs it as ourselves.
    owner: Option<User>,
    timescaledb: bool,
}

impl EmbeddedCluster {
    /// Describes the cluster of `data_dir` without touching it. With `require_timescaledb`,
    /// refuses when the TimescaleDB library is not installed.
    pub fn new(data_dir: &Path, require_timescaledb: bool) -> Result<Self, EmbeddedError> {
        let bins = PgBinaries::locate()?;
        let library = bins.timescaledb_library();
        let timescaledb = library.is_file();
        if require_timescaledb && !timescaledb {
            return Err(EmbeddedError::TimescaleMissing {
                bin_dir: bins.bin_dir.clone(),
                library,
            });
        }
        let owner = if Uid::effective().is_root() {
            Some(
                User::from_name("postgres")
                    .ok()
                    .flatten()
                    .ok_or(EmbeddedError::NoPostgresUser)?,
            )
        } else {
            None
        };
        let data_dir = absolute(data_dir)?;
        Ok(Self {
            root: data_dir.join("pg"),
            bins,
            owner,
            timescaledb,
        })
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    pub fn pgdata(&self) -> PathBuf {
        self.root.join("data")
    }

    pub fn log_file(&self) -> PathBuf {
        self.root.join("postgres.log")
    }

    /// The socket directory: inside the cluster root, unless that path is too long for a
    /// Unix socket, then a directory under /tmp named after the root.
    pub fn socket_dir(&self) -> PathBuf {
        let inside = self.root.join("socket");
        if inside.as_os_str().len() + ".s.PGSQL.5432".len() < MAX_SOCKET_PATH {
            inside
        } else {
            PathBuf::from(format!(
                "/tmp/healthsync-pg-{:016x}",
                fnv1a(self.root.as_os_str().as_encoded_bytes())
            ))
        }
    }

    /// A connection URL for `database` that both sqlx and `psql` accept.
    pub fn url(&self, database: &str) -> String {
        format!(
            "postgres://{SUPERUSER}@localhost/{database}?host={}&port={PORT}",
            self.socket_dir().display()
        )
    }

    pub fn status(&self) -> ClusterStatus {
        if !self.pgdata().join("PG_VERSION").is_file() {
            return ClusterStatus::NotInitialized;
        }
        match self.live_postmaster_pid() {
            Some(pid) => ClusterStatus::Running { pid },
            None => ClusterStatus::Stopped,
        }
    }

    /// Initialises the cluster if needed and starts it unless it already runs.
    ///
    /// `Attached` ties the server's life to this process: it is stopped by
    /// [`RunningCluster::stop`], and if this process dies without stopping it (even by
    /// SIGKILL) the kernel sends the server SIGQUIT, its immediate shutdown. `Detached`
    /// leaves it running for later processes (`healthsync db start`, the test harness).
    pub fn start(&self, mode: StartMode) -> Result<RunningCluster, EmbeddedError> {
        fs::create_dir_all(&self.root).map_err(io_err(&self.root))?;
        let _lock = self.lock()?;
        if let ClusterStatus::Running { pid } = self.status() {
            tracing::info!(pid, root = %self.root.display(), "reusing running PostgreSQL");
            return Ok(RunningCluster {
                cluster: self.clone(),
                started: None,
            });
        }
        self.prepare_directories()?;
        if self.status() == ClusterStatus::NotInitialized {
            self.initdb()?;
        }
        self.write_settings()?;
        self.remove_stale_lock_files();
        let started = match mode {
            StartMode::Attached => {
                let server = AttachedServer::spawn(self.clone())?;
                self.wait_ready(|| server.has_exited(), || server.kill())?;
                Some(server)
            }
            StartMode::Detached => {
                // A detached server outlives us; init reaps it.
                let mut child = self.spawn_postgres(mode)?;
                let pid = Pid::from_raw(child.id() as i32);
                self.wait_ready(
                    || matches!(child.try_wait(), Ok(Some(_))),
                    || {
                        let _ = kill(pid, Signal::SIGQUIT);
                    },
                )?;
                None
            }
        };
        tracing::info!(root = %self.root.display(), "PostgreSQL started");
        Ok(RunningCluster {
            cluster: self.clone(),
            started,
        })
    }

    /// Stops a running cluster (fast shutdown: open sessions are ended, then a checkpoint).
    pub fn stop(&self) -> Result<bool, EmbeddedError> {
        match self.live_postmaster_pid() {
            Some(pid) => {
                stop_pid(pid)?;
                Ok(true)
            }
            None => Ok(false),
        }
    }

    fn lock(&self) -> Result<File, EmbeddedError> {
        let path = self.root.join("cluster.lock");
        let file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .map_err(io_err(&path))?;
        file.lock().map_err(io_err(&path))?;
        Ok(file)
    }

    fn prepare_directories(&self) -> Result<(), EmbeddedError> {
        let socket_dir = self.socket_dir();
        for dir in [&self.root, &self.pgdata(), &socket_dir] {
            fs::create_dir_all(dir).map_err(io_err(dir))?;
            fs::set_permissions(dir, fs::Permissions::from_mode(0o700)).map_err(io_err(dir))?;
        }
        let log = self.log_file();
        OpenOptions::new()
            .create(true)
            .append(true)
            .open(&log)
            .map_err(io_err(&log))?;
        if let Some(owner) = &self.owner {
            self.check_reachable_by_others()?;
            for path in [&self.root, &socket_dir, &log] {
                chown(path, Some(owner.uid.as_raw()), Some(owner.gid.as_raw()))
                    .map_err(io_err(path))?;
            }
            chown_tree(&self.pgdata(), owner)?;
        }
        Ok(())
    }

    /// The server user must be able to walk down to the cluster root.
    fn check_reachable_by_others(&self) -> Result<(), EmbeddedError> {
        match self.root.parent() {
            Some(parent) if !searchable_by_others(parent) => {
                Err(EmbeddedError::Unreachable(self.root.clone()))
            }
            _ => Ok(()),
        }
    }

    fn initdb(&self) -> Result<(), EmbeddedError> {
        tracing::info!(pgdata = %self.pgdata().display(), "initialising PostgreSQL cluster");
        let pgdata = self.pgdata();
        // Trust is safe here: the server listens on no TCP port and its socket directory is
        // private to the server's user (and root).
        let out = self
            .command("initdb")
            .arg("--pgdata")
            .arg(&pgdata)
            .args(["--username", SUPERUSER, "--auth", "trust"])
            .args(["--encoding", "UTF8", "--no-locale", "--no-instructions"])
            .output()
            .map_err(io_err(&self.bins.bin_dir))?;
        if !out.status.success() {
            return Err(EmbeddedError::Command {
                action: "initdb".into(),
                detail: String::from_utf8_lossy(&out.stderr).trim().to_owned(),
            });
        }
        let conf = pgdata.join("postgresql.conf");
        let mut text = fs::read_to_string(&conf).map_err(io_err(&conf))?;
        text.push_str("\n# Settings owned by healthsync, rewritten at every start.\ninclude_if_exists = 'healthsync.conf'\n");
        fs::write(&conf, text).map_err(io_err(&conf))?;
        Ok(())
    }

    fn write_settings(&self) -> Result<(), EmbeddedError> {
        let mut conf = format!(
            "listen_addresses = ''\n\
             port = {PORT}\n\
             unix_socket_directories = '{}'\n\
             unix_socket_permissions = 0700\n\
             max_connections = 200\n\
             shared_buffers = '256MB'\n\
             logging_collector = off\n",
            self.socket_dir().display()
        );
        if self.timescaledb {
            // The Apache build runs no background jobs (retention is healthsync's own
            // periodic job), and this machine has no network for telemetry.
            conf.push_str(
                "shared_preload_libraries = 'timescaledb'\n\
                 timescaledb.telemetry_level = off\n\
                 timescaledb.max_background_workers = 0\n",
            );
        }
        let path = self.pgdata().join("healthsync.conf");
        fs::write(&path, conf).map_err(io_err(&path))?;
        if let Some(owner) = &self.owner {
            chown(&path, Some(owner.uid.as_raw()), Some(owner.gid.as_raw()))
                .map_err(io_err(&path))?;
        }
        Ok(())
    }

    /// After a crash, `postmaster.pid` and the socket lock can name a PID that now belongs to
    /// an unrelated process, which PostgreSQL would take for a running server.
    fn remove_stale_lock_files(&self) {
        let socket_lock = self.socket_dir().join(format!(".s.PGSQL.{PORT}.lock"));
        for path in [self.pgdata().join("postmaster.pid"), socket_lock] {
            let Some(pid) = read_first_line_pid(&path) else {
                continue;
            };
            if !is_postgres_process(pid) {
                tracing::warn!(path = %path.display(), pid, "removing stale lock file left by a crash");
                let _ = fs::remove_file(&path);
            }
        }
    }

    fn spawn_postgres(&self, mode: StartMode) -> Result<Child, EmbeddedError> {
        let log_path = self.log_file();
        let log = OpenOptions::new()
            .append(true)
            .open(&log_path)
            .map_err(io_err(&log_path))?;
        let log_err = log.try_clone().map_err(io_err(&log_path))?;
        let mut cmd = self.command("postgres");
        cmd.arg("-D")
            .arg(self.pgdata())
            .stdin(Stdio::null())
            .stdout(log)
            .stderr(log_err)
            // Its own process group: a terminal's Ctrl-C reaches healthsync, which then
            // stops the server after draining, instead of the server stopping first.
            .process_group(0);
        if mode == StartMode::Attached {
            // SAFETY: prctl is async-signal-safe; the closure allocates nothing.
            unsafe {
                cmd.pre_exec(|| {
                    if nix::libc::prctl(
                        nix::libc::PR_SET_PDEATHSIG,
                        nix::libc::SIGQUIT as nix::libc::c_ulong,
                    ) != 0
                    {
                        return Err(std::io::Error::last_os_error());
                    }
                    Ok(())
                });
            }
        }
        cmd.spawn().map_err(io_err(&self.bins.bin_dir))
    }

    fn wait_ready(
        &self,
        mut has_exited: impl FnMut() -> bool,
        abort: impl FnOnce(),
    ) -> Result<(), EmbeddedError> {
        let deadline = Instant::now() + START_TIMEOUT;
        let pid_file = self.pgdata().join("postmaster.pid");
        loop {
            if has_exited() {
                return Err(EmbeddedError::StartFailed {
                    log: self.log_file(),
                    tail: tail(&self.log_file(), 15),
                });
            }
            // Line 8 of postmaster.pid turns to "ready" once connections are accepted.
            if fs::read_to_string(&pid_file)
                .map(|s| s.lines().nth(7).map(str::trim) == Some("ready"))
                .unwrap_or(false)
            {
                return Ok(());
            }
            if Instant::now() > deadline {
                abort();
                return Err(EmbeddedError::StartTimeout(START_TIMEOUT, self.log_file()));
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn command(&self, program: &str) -> Command {
        let mut cmd = Command::new(self.bins.program(program));
        cmd.current_dir(&self.root).env_remove("PGDATA");
        if let Some(owner) = &self.owner {
            cmd.uid(owner.uid.as_raw()).gid(owner.gid.as_raw());
        }
        cmd
    }

    fn live_postmaster_pid(&self) -> Option<i32> {
        read_first_line_pid(&self.pgdata().join("postmaster.pid"))
            .filter(|&pid| is_postgres_process(pid))
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StartMode {
    Attached,
    Detached,
}

/// A cluster that is up; remembers whether this process started it.
#[derive(Debug)]
pub struct RunningCluster {
    cluster: EmbeddedCluster,
    started: Option<AttachedServer>,
}

impl RunningCluster {
    pub fn cluster(&self) -> &EmbeddedCluster {
        &self.cluster
    }

    /// Stops the server if this process started it attached; a server that was already
    /// running (or was started detached) is left alone.
    pub fn stop(self) -> Result<(), EmbeddedError> {
        match self.started {
            Some(server) => server.stop(),
            None => Ok(()),
        }
    }
}

/// A server process started attached. The kernel sends the parent-death signal when the
/// *thread* that forked the server ends, so a dedicated thread forks it and then waits on
/// it for exactly the server's lifetime; runtime worker threads come and go.
#[derive(Debug)]
struct AttachedServer {
    pid: i32,
    exited: std::sync::mpsc::Receiver<()>,
}

impl AttachedServer {
    fn spawn(cluster: EmbeddedCluster) -> Result<Self, EmbeddedError> {
        let (spawned_tx, spawned_rx) = std::sync::mpsc::channel();
        let (exited_tx, exited) = std::sync::mpsc::channel();
        std::thread::Builder::new()
            .name("postgres-parent".into())
            .spawn(move || match cluster.spawn_postgres(StartMode::Attached) {
                Ok(mut child) => {
                    let _ = spawned_tx.send(Ok(child.id() as i32));
                    let _ = child.wait();
                    let _ = exited_tx.send(());
                }
                Err(e) => {
                    let _ = spawned_tx.send(Err(e));
                }
            })
            .map_err(io_err(Path::new("postgres-parent thread")))?;
        let pid = spawned_rx.recv().map_err(|_| EmbeddedError::Command {
            action: "starting postgres".into(),
            detail: "the spawning thread ended unexpectedly".into(),
        })??;
        Ok(Self { pid, exited })
    }

    fn has_exited(&self) -> bool {
        !matches!(
            self.exited.try_recv(),
            Err(std::sync::mpsc::TryRecvError::Empty)
        )
    }

    fn kill(&self) {
        let _ = kill(Pid::from_raw(self.pid), Signal::SIGQUIT);
    }

    fn stop(self) -> Result<(), EmbeddedError> {
        let _ = kill(Pid::from_raw(self.pid), Signal::SIGINT);
        match self.exited.recv_timeout(STOP_TIMEOUT) {
            Ok(()) | Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => Ok(()),
            Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {
                Err(EmbeddedError::StopTimeout(self.pid, STOP_TIMEOUT))
            }
        }
    }
}

/// True when every existing directory from `/` down to `path` lets other users through,
/// which the `postgres` user needs when healthsync runs as root.
pub fn searchable_by_others(path: &Path) -> bool {
    path.ancestors()
        .filter_map(|dir| fs::metadata(dir).ok())
        .all(|meta| meta.permissions().mode() & 0o001 != 0)
}

fn stop_pid(pid: i32) -> Result<(), EmbeddedError> {
    let _ = kill(Pid::from_raw(pid), Signal::SIGINT);
    let deadline = Instant::now() + STOP_TIMEOUT;
    while is_postgres_process(pid) {
        if Instant::now() > deadline {
            return Err(EmbeddedError::StopTimeout(pid, STOP_TIMEOUT));
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    Ok(())
}

fn read_first_line_pid(path: &Path) -> Option<i32> {
    let text = fs::read_to_string(path).ok()?;
    text.lines().next()?.trim().parse().ok()
}

/// True when `pid` is alive and is a PostgreSQL server process (not a zombie).
fn is_postgres_process(pid: i32) -> bool {
    if pid <= 0 {
        return false;
    }
    let stat = fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // Format: "pid (comm) state ..."; comm may contain spaces and parentheses.
    let Some(close) = stat.rfind(')') else {
        return false;
    };
    let comm = stat.find('(').map(|open| &stat[open + 1..close]);
    let state = stat[close + 1..].split_whitespace().next();
    comm.is_some_and(|c| c.starts_with("postgres")) && state != Some("Z")
}

fn chown_tree(dir: &Path, owner: &User) -> Result<(), EmbeddedError> {
    chown(dir, Some(owner.uid.as_raw()), Some(owner.gid.as_raw())).map_err(io_err(dir))?;
    for entry in fs::read_dir(dir).map_err(io_err(dir))? {
        let entry = entry.map_err(io_err(dir))?;
        let path = entry.path();
        if entry.file_type().map_err(io_err(&path))?.is_dir() {
            chown_tree(&path, owner)?;
        } else {
            chown(&path, Some(owner.uid.as_raw()), Some(owner.gid.as_raw()))
                .map_err(io_err(&path))?;
        }
    }
    Ok(())
}

fn absolute(path: &Path) -> Result<PathBuf, EmbeddedError> {
    std::path::absolute(path).map_err(io_err(path))
}

/// Last `lines` lines of a log file, read from its end.
fn tail(path: &Path, lines: usize) -> String {
    let Ok(mut file) = File::open(path) else {
        return String::new();
    };
    let len = file.metadata().map(|m| m.len()).unwrap_or(0);
    let _ = file.seek(SeekFrom::Start(len.saturating_sub(16 * 1024)));
    let mut text = String::new();
    let _ = file.read_to_string(&mut text);
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}

fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |hash, &b| {
        (hash ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}
