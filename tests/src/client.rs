//! The tokio-postgres client helper.

use std::net::SocketAddr;
use std::time::Duration;

use tokio_postgres::{Client, Config, NoTls};

/// Connects to `127.0.0.1:port`; see [`try_connect_to`].
pub async fn try_connect(port: u16) -> Result<Client, tokio_postgres::Error> {
    try_connect_to(local(port)).await
}

/// Like [`try_connect`], but panics with a readable message on failure.
pub async fn connect(port: u16) -> Client {
    connect_to(local(port)).await
}

/// `127.0.0.1:port`.
pub(crate) fn local(port: u16) -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], port))
}

/// The configuration to connect to the front door at `addr` as user
/// `postgres` to database `postgres`.
pub fn config_for(addr: SocketAddr) -> Config {
    let mut config = Config::new();
    config
        .host(addr.ip().to_string())
        .port(addr.port())
        .user("postgres")
        .dbname("postgres")
        .connect_timeout(Duration::from_secs(5));
    config
}

/// Connects to the front door at `addr` ([`config_for`]), without TLS;
/// the connection task is spawned on the current runtime.
pub async fn try_connect_to(addr: SocketAddr) -> Result<Client, tokio_postgres::Error> {
    let (client, connection) = config_for(addr).connect(NoTls).await?;
    tokio::spawn(async move {
        // An error here ends the connection; the client then sees it closed.
        let _ = connection.await;
    });
    Ok(client)
}

/// Like [`try_connect_to`], but panics with a readable message on failure.
pub async fn connect_to(addr: SocketAddr) -> Client {
    match try_connect_to(addr).await {
        Ok(client) => client,
        Err(e) => panic!("cannot connect to {addr}: {}", describe_error(&e)),
    }
}

/// An error as one line: `SQLSTATE: message` for server errors, the client's
/// own description otherwise (connection closed, I/O, …).
pub fn describe_error(e: &tokio_postgres::Error) -> String {
    match e.as_db_error() {
        Some(db) => format!("{}: {}", db.code().code(), db.message()),
        None => match std::error::Error::source(e) {
            Some(cause) => format!("{e}: {cause}"),
            None => e.to_string(),
        },
    }
}
