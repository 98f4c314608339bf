//! A throwaway PostgreSQL 15 server.

use std::fs::File;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::Duration;

use tempfile::TempDir;
use tokio_postgres::Client;

use crate::client::local;
use crate::process::{
    StartError, free_port, kill_and_reap, print_log_if_panicking, read_log, wait_until_accepting,
};

/// Where the PostgreSQL 15 binaries are looked for (Debian's layout).
pub const PG_BIN_DIR: &str = "/usr/lib/postgresql/15/bin";

/// The folder holding `initdb`, `postgres` and `pg_ctl`: env `PG_BIN_DIR`
/// if set, else [`PG_BIN_DIR`].
pub fn pg_bin_dir() -> PathBuf {
    std::env::var_os("PG_BIN_DIR").map_or_else(|| PathBuf::from(PG_BIN_DIR), PathBuf::from)
}

/// How long the server may take to accept its first connection.
const READY_DEADLINE: Duration = Duration::from_secs(30);

/// A PostgreSQL 15 server of its own, for one test: data in a temporary
/// folder, trust authentication, listening on 127.0.0.1 at a free port,
/// `fsync=off`, `TimeZone=UTC`, locale C, encoding UTF8. Dropping it (also
/// while panicking) stops the server and removes its folder; a failing test
/// also prints the server's log.
///
/// As root (initdb refuses to run as root), initdb and postgres run as the
/// OS user `postgres`, created with `useradd -m postgres` if missing.
#[derive(Debug)]
pub struct Postgres {
    child: Child,
    port: u16,
    bin: PathBuf,
    run_as: Option<(u32, u32)>,
    dir: TempDir,
}

impl Postgres {
    /// Starts a server and waits until it accepts connections; panics with
    /// the reason (and the server's log) if it cannot.
    pub async fn start() -> Postgres {
        match Self::try_start().await {
            Ok(pg) => pg,
            Err(e) => panic!("cannot start PostgreSQL: {e}"),
        }
    }

    /// Like [`Postgres::start`], but returns why it could not start.
    pub async fn try_start() -> Result<Postgres, StartError> {
        Self::try_start_with(false).await
    }

    /// A server with PostgreSQL's default durability (fsync, full page
    /// writes, synchronous commit), for benchmarks.
    pub async fn try_start_durable() -> Result<Postgres, StartError> {
        Self::try_start_with(true).await
    }

    async fn try_start_with(durable: bool) -> Result<Postgres, StartError> {
        let bin = pg_bin_dir();
        for tool in ["initdb", "postgres", "pg_ctl"] {
            if !bin.join(tool).is_file() {
                return Err(StartError(format!(
                    "PostgreSQL 15 is not installed: {} is missing (install the Debian \
                     package postgresql-15, or set PG_BIN_DIR to the folder holding initdb, \
                     postgres and pg_ctl)",
                    bin.join(tool).display()
                )));
            }
        }
        let run_as = tokio::task::spawn_blocking(postgres_os_user)
            .await
            .map_err(|e| StartError(format!("looking up the postgres OS user: {e}")))??;
        let dir = tempfile::Builder::new()
            .prefix("patina-pg-")
            .tempdir()
            .map_err(|e| StartError(format!("creating a temporary folder: {e}")))?;
        if let Some((uid, gid)) = run_as {
            std::os::unix::fs::chown(dir.path(), Some(uid), Some(gid)).map_err(|e| {
                StartError(format!(
                    "giving {} to the postgres user: {e}",
                    dir.path().display()
                ))
            })?;
        }

        let data = dir.path().join("data");
        let mut initdb = Command::new(bin.join("initdb"));
        initdb
            .arg("--pgdata")
            .arg(&data)
            .args([
                "--auth=trust",
                "--username=postgres",
                "--encoding=UTF8",
                "--locale=C",
            ])
            .arg("--no-instructions")
            .args((!durable).then_some("--no-sync"))
            .current_dir(dir.path());
        run_as_user(&mut initdb, run_as);
        let output = tokio::task::spawn_blocking(move || initdb.output())
            .await
            .map_err(|e| StartError(format!("running initdb: {e}")))?
            .map_err(|e| StartError(format!("running initdb: {e}")))?;
        if !output.status.success() {
            return Err(StartError(format!(
                "initdb failed ({}):\n{}",
                output.status,
                both(&output)
            )));
        }

        let log_path = dir.path().join("postgres.log");
        let log = File::create(&log_path)
            .map_err(|e| StartError(format!("creating {}: {e}", log_path.display())))?;
        let log_err = log
            .try_clone()
            .map_err(|e| StartError(format!("duplicating a file handle: {e}")))?;
        let port = free_port();
        let mut server = Command::new(bin.join("postgres"));
        server
            .arg("-D")
            .arg(&data)
            .args([
                "-c",
                "listen_addresses=127.0.0.1",
                "-c",
                &format!("port={port}"),
            ])
            .arg("-c")
            .arg(format!("unix_socket_directories={}", dir.path().display()))
            .args(if durable {
                &[][..]
            } else {
                &[
                    "-c",
                    "fsync=off",
                    "-c",
                    "synchronous_commit=off",
                    "-c",
                    "full_page_writes=off",
                ][..]
            })
            .args([
                "-c",
                "TimeZone=UTC",
                "-c",
                "autovacuum=off",
                "-c",
                "max_connections=50",
            ])
            .current_dir(dir.path())
            .stdin(Stdio::null())
            .stdout(log)
            .stderr(log_err);
        run_as_user(&mut server, run_as);
        let child = server
            .spawn()
            .map_err(|e| StartError(format!("starting {}: {e}", bin.join("postgres").display())))?;
        let mut pg = Postgres {
            child,
            port,
            bin,
            run_as,
            dir,
        };
        match wait_until_accepting("PostgreSQL", local(port), &mut pg.child, READY_DEADLINE).await {
            Ok(()) => Ok(pg),
            Err(e) => {
                let log = read_log(&pg.log_path());
                Err(StartError(format!(
                    "{e}\n----- PostgreSQL log -----\n{}",
                    log.trim_end()
                )))
            }
        }
    }

    /// The port it listens on, on 127.0.0.1.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The temporary folder holding the data folder (`data/`), the socket
    /// and the log (`postgres.log`); removed on drop.
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// The server's log file.
    pub fn log_path(&self) -> PathBuf {
        self.dir.path().join("postgres.log")
    }

    /// The server's log so far.
    pub fn log(&self) -> String {
        read_log(&self.log_path())
    }

    /// A new client connection, as user `postgres` to database `postgres`.
    pub async fn connect(&self) -> Client {
        crate::client::connect(self.port).await
    }
}

impl Drop for Postgres {
    fn drop(&mut self) {
        print_log_if_panicking("PostgreSQL", &self.log_path());
        // An immediate shutdown: the data is thrown away anyway.
        let mut stop = Command::new(self.bin.join("pg_ctl"));
        stop.arg("stop")
            .arg("--pgdata")
            .arg(self.dir.path().join("data"))
            .args(["--mode=immediate", "--wait", "--silent", "--timeout=20"])
            .current_dir(self.dir.path())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        run_as_user(&mut stop, self.run_as);
        let stopped = stop.status().is_ok_and(|s| s.success());
        if stopped {
            let _ = self.child.wait();
        } else {
            kill_and_reap(&mut self.child);
        }
        // The TempDir field then removes the folder.
    }
}

/// `Some((uid, gid))` of the OS user `postgres` when running as root
/// (creating the user if missing), `None` when not root (run as ourselves).
fn postgres_os_user() -> Result<Option<(u32, u32)>, StartError> {
    if effective_uid()? != 0 {
        return Ok(None);
    }
    if let Some(ids) = passwd_entry("postgres")? {
        return Ok(Some(ids));
    }
    let output = Command::new("useradd")
        .args(["-m", "postgres"])
        .output()
        .map_err(|e| StartError(format!("running useradd -m postgres: {e}")))?;
    // Another test may have created it at the same moment: look again.
    match passwd_entry("postgres")? {
        Some(ids) => Ok(Some(ids)),
        None => Err(StartError(format!(
            "initdb refuses to run as root and the OS user postgres could not be created \
             (useradd -m postgres: {}):\n{}",
            output.status,
            both(&output)
        ))),
    }
}

fn effective_uid() -> Result<u32, StartError> {
    let status = std::fs::read_to_string("/proc/self/status")
        .map_err(|e| StartError(format!("reading /proc/self/status: {e}")))?;
    status
        .lines()
        .find_map(|line| line.strip_prefix("Uid:"))
        .and_then(|ids| ids.split_whitespace().nth(1))
        .and_then(|euid| euid.parse().ok())
        .ok_or_else(|| StartError("no effective uid in /proc/self/status".to_owned()))
}

/// `(uid, gid)` of a user in /etc/passwd.
fn passwd_entry(user: &str) -> Result<Option<(u32, u32)>, StartError> {
    let passwd = std::fs::read_to_string("/etc/passwd")
        .map_err(|e| StartError(format!("reading /etc/passwd: {e}")))?;
    Ok(passwd.lines().find_map(|line| {
        let mut fields = line.split(':');
        if fields.next() != Some(user) {
            return None;
        }
        let uid = fields.nth(1)?.parse().ok()?;
        let gid = fields.next()?.parse().ok()?;
        Some((uid, gid))
    }))
}

fn run_as_user(command: &mut Command, run_as: Option<(u32, u32)>) {
    if let Some((uid, gid)) = run_as {
        command.uid(uid).gid(gid);
    }
}

fn both(output: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}
