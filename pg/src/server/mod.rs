//! The pgwire server: accepts connections on a listener the caller bound
//! and serves each in its own task until `shutdown` resolves.
//!
//! - [`database`]: the shared writer, readers and column types;
//! - `connection`: startup and the message loop; `session`: settings,
//!   transactions, prepared statements and portals; `statement`: splitting
//!   query strings and recognising session statements; `execute`: running
//!   translated SQL; `encode`: values in text and binary; `messages`:
//!   result and error messages; `errors`: SQLSTATE mapping; `catalog`: the
//!   PostgreSQL types of table columns.

mod catalog;
mod checkpoint;
mod connection;
pub mod database;
mod encode;
mod errors;
mod execute;
mod messages;
mod session;
mod statement;

use std::future::Future;

use tokio::net::TcpListener;

pub use database::{Database, DatabaseError};

/// Serves PostgreSQL clients on `listener` until `shutdown` completes.
pub async fn serve(listener: TcpListener, db: Database, shutdown: impl Future<Output = ()>) {
    tokio::pin!(shutdown);
    loop {
        tokio::select! {
            _ = &mut shutdown => return,
            accepted = listener.accept() => match accepted {
                Ok((socket, peer)) => {
                    let db = db.clone();
                    tokio::spawn(async move {
                        if let Err(error) = connection::serve(socket, db).await {
                            tracing::debug!(%peer, %error, "connection ended with an I/O error");
                        }
                    });
                }
                Err(error) => tracing::warn!(%error, "accepting a connection failed"),
            },
        }
    }
}
