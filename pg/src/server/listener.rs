//! One pg listener's settings and how it admits clients: its
//! authentication method and users, TLS, its connection limit and whether
//! it only reads. [`serve_listener`] accepts its connections and serves
//! each on a thread of its own, and ends them when it stops.

use std::collections::{HashMap, HashSet};
use std::fmt;
use std::future::Future;
use std::path::PathBuf;
use std::sync::Arc;

use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Semaphore, mpsc};

use super::connection;
use super::database::Database;
use super::password::{self, PasswordHash};
use super::shutdown::Terminator;
use super::tls::{self, ServerTls};

/// How one pg listener admits clients.
#[derive(Debug, Clone)]
pub struct ListenerConfig {
    pub auth: AuthMethod,
    /// Users and their stored password verifiers (see [`PasswordHash`]).
    pub users: Vec<PgUser>,
    /// Certificate chain and private key (PEM files) to offer TLS; `None`
    /// answers SSLRequest with `N`.
    pub tls: Option<TlsFiles>,
    /// Every transaction is read only, whatever the client sets (as on a
    /// PostgreSQL hot standby).
    pub read_only: bool,
    /// Clients served at once; past it, new ones get FATAL 53300 (like
    /// PostgreSQL's `max_connections`). Cancel requests do not count.
    pub max_connections: usize,
}

impl ListenerConfig {
    /// Trust, no users, no TLS, read-write, 100 connections.
    pub fn trust() -> ListenerConfig {
        ListenerConfig {
            auth: AuthMethod::Trust,
            users: Vec::new(),
            tls: None,
            read_only: false,
            max_connections: 100,
        }
    }
}

/// How clients prove who they are, as PostgreSQL's pg_hba methods.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthMethod {
    /// Anyone may connect as any user name, without a password. The config
    /// allows it by default only on loopback addresses.
    Trust,
    /// SCRAM-SHA-256 against the user's stored SCRAM verifier.
    ScramSha256,
    /// MD5 challenge for users with an md5 verifier, SCRAM-SHA-256 for
    /// users with a SCRAM one (as PostgreSQL's `md5` method).
    Md5,
}

/// A user a listener knows, with the verifier of their password.
#[derive(Debug, Clone)]
pub struct PgUser {
    pub name: String,
    pub password: PasswordHash,
}

/// The PEM files of a listener's certificate chain and private key.
#[derive(Debug, Clone)]
pub struct TlsFiles {
    pub cert: PathBuf,
    pub key: PathBuf,
}

/// A listener's configuration loaded and ready to admit clients: TLS files
/// are read when it is built, so a bad one fails at start-up.
pub struct Listener {
    pub(crate) auth: AuthMethod,
    pub(crate) users: HashMap<String, PasswordHash>,
    pub(crate) tls: Option<ServerTls>,
    pub(crate) read_only: bool,
    /// One permit per client being served.
    pub(crate) slots: Arc<Semaphore>,
    /// Salts the mock SCRAM exchange of unknown users, so they look like
    /// known ones and the same from one attempt to the next.
    pub(crate) mock_key: [u8; 32],
    /// Its sessions, to terminate when it stops.
    pub(crate) terminator: Terminator,
}

impl fmt::Debug for Listener {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Listener")
            .field("auth", &self.auth)
            .field("users", &self.users.keys().collect::<Vec<_>>())
            .field("tls", &self.tls.is_some())
            .field(
                "channel_binding",
                &self.tls.as_ref().is_some_and(|t| t.end_point.is_some()),
            )
            .field("read_only", &self.read_only)
            .field("free_slots", &self.slots.available_permits())
            .finish_non_exhaustive()
    }
}

/// A listener's configuration cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum ListenerError {
    #[error(transparent)]
    Tls(#[from] tls::TlsError),
    #[error("max_connections must be between 1 and {max}, not {given}")]
    MaxConnections { given: usize, max: usize },
    #[error("the user \"{0}\" is listed twice")]
    DuplicateUser(String),
}

impl Listener {
    /// Loads what `config` names (TLS files) and checks it.
    pub fn new(config: ListenerConfig) -> Result<Listener, ListenerError> {
        let max = Semaphore::MAX_PERMITS;
        if !(1..=max).contains(&config.max_connections) {
            return Err(ListenerError::MaxConnections {
                given: config.max_connections,
                max,
            });
        }
        let mut names = HashSet::new();
        if let Some(user) = config.users.iter().find(|u| !names.insert(&u.name)) {
            return Err(ListenerError::DuplicateUser(user.name.clone()));
        }
        let tls = config.tls.as_ref().map(tls::load).transpose()?;
        Ok(Listener::with_tls(config, tls))
    }

    /// The trust listener `server::serve` runs: nothing to load.
    pub(crate) fn trust() -> Listener {
        Listener::with_tls(ListenerConfig::trust(), None)
    }

    fn with_tls(config: ListenerConfig, tls: Option<ServerTls>) -> Listener {
        let users = config
            .users
            .into_iter()
            .map(|user| (user.name, user.password))
            .collect();
        let mut mock_key = [0; 32];
        password::fill_random(&mut mock_key);
        Listener {
            auth: config.auth,
            users,
            tls,
            read_only: config.read_only,
            slots: Arc::new(Semaphore::new(config.max_connections)),
            mock_key,
            terminator: Terminator::default(),
        }
    }
}

/// Serves PostgreSQL clients on `listener` as `config` says until
/// `shutdown` completes; then stops accepting, terminates its sessions
/// (FATAL 57P01, open transactions rolled back) and returns once its
/// connections have ended.
///
/// Each connection gets a thread of its own running a single-threaded
/// runtime, as PostgreSQL gives each a process: SQLite calls block, and a
/// connection's thread may block on them without holding up any other
/// connection or handing its work to another thread on every statement.
pub async fn serve_listener(
    listener: TcpListener,
    db: Database,
    config: Listener,
    shutdown: impl Future<Output = ()>,
) {
    let config = Arc::new(config);
    // Every connection thread holds a sender: the channel closes when the
    // last one ends.
    let (live, mut ended) = mpsc::channel::<()>(1);
    tokio::pin!(shutdown);
    loop {
        tokio::select! {
            _ = &mut shutdown => break,
            accepted = listener.accept() => match accepted {
                Ok((socket, peer)) => {
                    let connection = (db.clone(), config.clone(), live.clone());
                    if let Err(error) = spawn_connection(socket, connection) {
                        tracing::warn!(%peer, %error, "cannot start a connection thread");
                    }
                }
                Err(error) => tracing::warn!(%error, "accepting a connection failed"),
            },
        }
    }
    drop(listener);
    config.terminator.terminate(db.interrupts());
    drop(live);
    let _ = ended.recv().await;
}

/// A connection thread's share: the database, its listener, and its
/// sender on the listener's channel of live connections.
type ConnectionShare = (Database, Arc<Listener>, mpsc::Sender<()>);

fn spawn_connection(socket: TcpStream, share: ConnectionShare) -> std::io::Result<()> {
    let (db, config, live) = share;
    let peer = socket.peer_addr()?;
    let socket = socket.into_std()?;
    std::thread::Builder::new()
        .name("patina-pg-conn".to_owned())
        .spawn(move || {
            let served = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .and_then(|runtime| {
                    runtime.block_on(async {
                        let socket = TcpStream::from_std(socket)?;
                        connection::serve(socket, db, &config).await
                    })
                });
            if let Err(error) = served {
                tracing::debug!(%peer, %error, "connection ended with an I/O error");
            }
            drop(live);
        })?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_settings_fail_at_start() {
        let config = |max_connections, users: &[&str]| ListenerConfig {
            max_connections,
            users: users
                .iter()
                .map(|name| PgUser {
                    name: (*name).to_owned(),
                    password: PasswordHash::md5(name, "pw"),
                })
                .collect(),
            ..ListenerConfig::trust()
        };
        let error = |config| Listener::new(config).unwrap_err().to_string();
        assert!(error(config(0, &[])).starts_with("max_connections must be between 1 and "));
        assert_eq!(
            error(config(5, &["ann", "bo", "ann"])),
            "the user \"ann\" is listed twice"
        );
        let listener = Listener::new(config(5, &["ann", "bo"])).unwrap();
        assert_eq!(listener.slots.available_permits(), 5);
        assert_eq!(listener.users.len(), 2);
    }
}
