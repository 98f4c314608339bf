//! The tokio-postgres client helper.

use std::time::Duration;

use tokio_postgres::{Client, Config, NoTls};

/// Connects to `127.0.0.1:port` as user `postgres` to database `postgres`,
/// without TLS. The connection task is spawned on the current runtime.
pub async fn try_connect(port: u16) -> Result<Client, tokio_postgres::Error> {
    let mut config = Config::new();
    config
        .host("127.0.0.1")
        .port(port)
        .user("postgres")
        .dbname("postgres")
        .connect_timeout(Duration::from_secs(5));
    let (client, connection) = config.connect(NoTls).await?;
    tokio::spawn(async move {
        // An error here ends the connection; the client then sees it closed.
        let _ = connection.await;
    });
    Ok(client)
}

/// Like [`try_connect`], but panics with a readable message on failure.
pub async fn connect(port: u16) -> Client {
    match try_connect(port).await {
        Ok(client) => client,
        Err(e) => panic!("cannot connect to 127.0.0.1:{port}: {}", describe_error(&e)),
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
