//! The pgwire server: accepts connections on a listener the caller bound
//! and serves each on a thread of its own until `shutdown` resolves.
//!
//! - [`database`]: the shared writer, readers and column types;
//!   `checkpoint`: WAL checkpoints beside the writer; `interrupts`:
//!   CancelRequest and statement_timeout;
//! - `connection`: startup and the message loop; `framing`: checked
//!   message boundaries; `session`: transactions, prepared statements,
//!   portals and where each statement runs; `settings`: SET/SHOW/RESET and
//!   ParameterStatus; `statement`: splitting query strings and recognising
//!   session statements; `prepare`: SQL PREPARE/EXECUTE; `execute`: running
//!   translated SQL; `hoist`: constants of writes as parameters; `encode`: values in text and binary; `messages`:
//!   result and error messages; `errors`: SQLSTATE mapping; `catalog`: the
//!   PostgreSQL types and keys of table columns.

mod catalog;
mod checkpoint;
mod connection;
pub mod database;
mod encode;
mod errors;
mod execute;
mod framing;
mod hoist;
mod interrupts;
mod messages;
mod prepare;
mod session;
mod settings;
mod statement;

use std::future::Future;

use tokio::net::{TcpListener, TcpStream};

pub use database::{Database, DatabaseError};

/// Serves PostgreSQL clients on `listener` until `shutdown` completes.
///
/// Each connection gets a thread of its own running a single-threaded
/// runtime, as PostgreSQL gives each a process: SQLite calls block, and a
/// connection's thread may block on them without holding up any other
/// connection or handing its work to another thread on every statement.
pub async fn serve(listener: TcpListener, db: Database, shutdown: impl Future<Output = ()>) {
    tokio::pin!(shutdown);
    loop {
        tokio::select! {
            _ = &mut shutdown => return,
            accepted = listener.accept() => match accepted {
                Ok((socket, peer)) => {
                    if let Err(error) = spawn_connection(socket, db.clone()) {
                        tracing::warn!(%peer, %error, "cannot start a connection thread");
                    }
                }
                Err(error) => tracing::warn!(%error, "accepting a connection failed"),
            },
        }
    }
}

fn spawn_connection(socket: TcpStream, db: Database) -> std::io::Result<()> {
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
                        connection::serve(socket, db).await
                    })
                });
            if let Err(error) = served {
                tracing::debug!(%peer, %error, "connection ended with an I/O error");
            }
        })?;
    Ok(())
}
