//! The real `patina` binary, started as a node.

use std::ffi::{OsStr, OsString};
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use tempfile::TempDir;
use tokio_postgres::Client;

use crate::client::connect_to;
use crate::process::{
    StartError, free_port, kill_and_reap, print_log_if_panicking, read_log, wait_until_accepting,
    workspace_root,
};

/// How long the node may take to accept its first connection.
const READY_DEADLINE: Duration = Duration::from_secs(30);

/// The `patina` binary the tests run: env `PATINA_BIN` if set, else
/// `<workspace>/target/debug/patina`. Cargo does not build it for this
/// crate's tests: run `cargo build -p patina-cli` first.
pub fn patina_bin() -> PathBuf {
    std::env::var_os("PATINA_BIN").map_or_else(
        || workspace_root().join("target/debug/patina"),
        PathBuf::from,
    )
}

/// A patina node of its own, for one test: `patina agent --data-dir
/// <tempdir>/data --pg-addr 127.0.0.1:<free port> --gossip-addr
/// 127.0.0.1:<free UDP port>` (a cluster of one). Its stdout and stderr go
/// to `patina.log` in the temporary folder. Dropping it (also while
/// panicking) kills the process and removes the folder; a failing test also
/// prints the log.
///
/// A node can also be started on another loopback address
/// ([`Patina::try_start_at`], for clusters), killed with SIGKILL
/// ([`Patina::kill`]) and started again on the same data folder and
/// addresses ([`Patina::restart`]).
#[derive(Debug)]
pub struct Patina {
    child: Child,
    /// Whether `child` is the current run (not killed by [`Patina::kill`]).
    running: bool,
    pg_addr: SocketAddr,
    bin: PathBuf,
    /// The arguments after `agent --data-dir … --pg-addr …`.
    extra: Vec<OsString>,
    /// How the node is named in printed logs.
    label: String,
    /// Print only this many last lines of the log when a test fails.
    log_tail: Option<usize>,
    dir: TempDir,
}

impl Patina {
    /// Starts a node and waits until it accepts connections; panics with the
    /// reason (and the node's log) if it cannot.
    pub async fn start() -> Patina {
        Self::start_with_args::<&str>(&[]).await
    }

    /// Like [`Patina::start`], with more arguments after the default ones
    /// (`agent --data-dir … --pg-addr …`).
    pub async fn start_with_args<S: AsRef<OsStr>>(extra: &[S]) -> Patina {
        match Self::try_start_with_args(extra).await {
            Ok(node) => node,
            Err(e) => panic!("cannot start patina: {e}"),
        }
    }

    /// Like [`Patina::start_with_args`], but returns why it could not start.
    pub async fn try_start_with_args<S: AsRef<OsStr>>(extra: &[S]) -> Result<Patina, StartError> {
        let bin = patina_bin();
        if !bin.is_file() {
            return Err(StartError(format!(
                "the patina binary is missing: {} does not exist. Build it with \
                 `cargo build -p patina-cli` (or set PATINA_BIN to its path)",
                bin.display()
            )));
        }
        Self::try_start_binary(&bin, extra).await
    }

    /// Like [`Patina::try_start_with_args`], with the binary at `bin`.
    pub async fn try_start_binary<S: AsRef<OsStr>>(
        bin: &Path,
        extra: &[S],
    ) -> Result<Patina, StartError> {
        let pg_addr = SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), free_port());
        // a gossip socket of its own, not the shared default 127.0.0.1:7878
        // (concurrent tests would collide on it, and could meet each other)
        let mut args: Vec<OsString> = Vec::new();
        if !extra.iter().any(|a| a.as_ref() == "--gossip-addr") {
            let udp = std::net::UdpSocket::bind((Ipv4Addr::LOCALHOST, 0))
                .map_err(|e| StartError(format!("finding a free UDP port: {e}")))?;
            let gossip = udp
                .local_addr()
                .map_err(|e| StartError(format!("finding a free UDP port: {e}")))?;
            args.push("--gossip-addr".into());
            args.push(gossip.to_string().into());
        }
        args.extend(extra.iter().map(|a| a.as_ref().to_owned()));
        Self::try_start_at(bin, pg_addr, &args, "patina", None).await
    }

    /// A node whose front door listens on `pg_addr` (any loopback address,
    /// e.g. `127.0.3.7:port`), with `extra` arguments after `agent
    /// --data-dir … --pg-addr …`, in a temporary folder of its own. `label`
    /// names it in printed logs; `log_tail` limits a failing test's log
    /// printout to that many last lines. Waits until it accepts connections.
    pub async fn try_start_at<S: AsRef<OsStr>>(
        bin: &Path,
        pg_addr: SocketAddr,
        extra: &[S],
        label: &str,
        log_tail: Option<usize>,
    ) -> Result<Patina, StartError> {
        let dir = tempfile::Builder::new()
            .prefix("patina-node-")
            .tempdir()
            .map_err(|e| StartError(format!("creating a temporary folder: {e}")))?;
        let extra: Vec<OsString> = extra.iter().map(|a| a.as_ref().to_owned()).collect();
        let child = spawn(bin, dir.path(), pg_addr, &extra, false)?;
        let mut node = Patina {
            child,
            running: true,
            pg_addr,
            bin: bin.to_owned(),
            extra,
            label: label.to_owned(),
            log_tail,
            dir,
        };
        node.wait_ready().await?;
        Ok(node)
    }

    /// Kills the node with SIGKILL (no chance to shut down cleanly) and
    /// reaps it. Its folder stays, for [`Patina::restart`].
    pub fn kill(&mut self) {
        kill_and_reap(&mut self.child);
        self.running = false;
    }

    /// Whether the process runs (it was not killed and has not exited).
    pub fn is_running(&mut self) -> bool {
        self.running && matches!(self.child.try_wait(), Ok(None))
    }

    /// Starts the node again on the same data folder, addresses and
    /// arguments (killing the current run first if it still runs), and
    /// waits until it accepts connections. The log goes on in the same
    /// file, after a line marking the restart.
    pub async fn restart(&mut self) -> Result<(), StartError> {
        if self.running {
            self.kill();
        }
        self.child = spawn(&self.bin, self.dir.path(), self.pg_addr, &self.extra, true)?;
        self.running = true;
        self.wait_ready().await
    }

    /// Replaces the arguments after `agent --data-dir … --pg-addr …`; they
    /// take effect at the next [`Patina::restart`].
    pub fn set_extra_args<S: AsRef<OsStr>>(&mut self, extra: &[S]) {
        self.extra = extra.iter().map(|a| a.as_ref().to_owned()).collect();
    }

    /// Keeps its folder (data and log) when dropped, for a look after the
    /// test.
    pub fn keep_dir(&mut self) {
        self.dir.disable_cleanup(true);
    }

    /// Waits until the current run accepts connections.
    async fn wait_ready(&mut self) -> Result<(), StartError> {
        match wait_until_accepting(&self.label, self.pg_addr, &mut self.child, READY_DEADLINE).await
        {
            Ok(()) => Ok(()),
            Err(e) => {
                let log = self.log();
                Err(StartError(format!(
                    "{e}\n----- {} log -----\n{}",
                    self.label,
                    log.trim_end()
                )))
            }
        }
    }

    /// The address of its PostgreSQL front door.
    pub fn pg_addr(&self) -> SocketAddr {
        self.pg_addr
    }

    /// The port of its PostgreSQL front door (on 127.0.0.1 unless started
    /// with [`Patina::try_start_at`]: see [`Patina::pg_addr`]).
    pub fn port(&self) -> u16 {
        self.pg_addr.port()
    }

    /// The temporary folder holding `data/` (the `--data-dir`) and
    /// `patina.log`; removed on drop.
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// The `--data-dir` given to the node.
    pub fn data_dir(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    /// The node's log file (its stdout and stderr).
    pub fn log_path(&self) -> PathBuf {
        self.dir.path().join("patina.log")
    }

    /// The node's log so far.
    pub fn log(&self) -> String {
        read_log(&self.log_path())
    }

    /// A new client connection, as user `postgres` to database `postgres`.
    pub async fn connect(&self) -> Client {
        connect_to(self.pg_addr).await
    }
}

impl Drop for Patina {
    fn drop(&mut self) {
        kill_and_reap(&mut self.child);
        match self.log_tail {
            None => print_log_if_panicking(&self.label, &self.log_path()),
            Some(lines) => print_log_tail_if_panicking(&self.label, &self.log_path(), lines),
        }
    }
}

/// Starts `bin agent --data-dir <dir>/data --pg-addr <pg_addr> <extra>`,
/// its output going to `<dir>/patina.log` (appended to, after a marker
/// line, when `restart`).
fn spawn(
    bin: &Path,
    dir: &Path,
    pg_addr: SocketAddr,
    extra: &[OsString],
    restart: bool,
) -> Result<Child, StartError> {
    let log_path = dir.join("patina.log");
    let mut log = if restart {
        OpenOptions::new().append(true).create(true).open(&log_path)
    } else {
        File::create(&log_path)
    }
    .map_err(|e| StartError(format!("opening {}: {e}", log_path.display())))?;
    if restart {
        writeln!(
            log,
            "----- (test harness) restarted on the same data folder -----"
        )
        .map_err(|e| StartError(format!("writing {}: {e}", log_path.display())))?;
    }
    let log_err = log
        .try_clone()
        .map_err(|e| StartError(format!("duplicating a file handle: {e}")))?;
    Command::new(bin)
        .arg("agent")
        .arg("--data-dir")
        .arg(dir.join("data"))
        .arg("--pg-addr")
        .arg(pg_addr.to_string())
        .args(extra)
        .current_dir(dir)
        .env("RUST_BACKTRACE", "1")
        // plain text logs (no colour codes), for reading and searching
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .stdout(log)
        .stderr(log_err)
        .spawn()
        .map_err(|e| StartError(format!("starting {}: {e}", bin.display())))
}

/// The last `lines` lines of a log (all of it if shorter), with a note of
/// how many were left out.
pub fn log_tail(log: &str, lines: usize) -> String {
    let all: Vec<&str> = log.trim_end().lines().collect();
    let skip = all.len().saturating_sub(lines);
    let mut out = String::new();
    if skip > 0 {
        out.push_str(&format!("(… {skip} earlier lines)\n"));
    }
    out.push_str(&all[skip..].join("\n"));
    out
}

/// Like `print_log_if_panicking`, with only the last `lines` lines.
#[allow(clippy::print_stderr)]
fn print_log_tail_if_panicking(what: &str, path: &Path, lines: usize) {
    if std::thread::panicking() {
        eprintln!(
            "----- {what} log ({}) -----\n{}\n----- end of {what} log -----",
            path.display(),
            log_tail(&read_log(path), lines)
        );
    }
}
