//! The pgwire server: accepts connections on a listener the caller bound
//! and serves each on a thread of its own until `shutdown` resolves.
//!
//! - [`database`]: the shared writer, readers and column types;
//!   `checkpoint`: WAL checkpoints beside the writer; `interrupts`:
//!   CancelRequest and statement_timeout;
//! - `listener`: a listener's settings (auth, TLS, connection limit, read
//!   only) and its accept loop; `startup`: SSL negotiation, the startup
//!   packet and admission; `auth`, `auth_scram`: password exchanges;
//!   `password`: stored verifiers; `tls`: certificates and the client
//!   stream;
//! - `connection`: the message loop; `framing`: checked
//!   message boundaries; `session`: transactions, prepared statements,
//!   portals and where each statement runs; `settings`: SET/SHOW/RESET and
//!   ParameterStatus; `statement`: splitting query strings and recognising
//!   session statements; `prepare`: SQL PREPARE/EXECUTE; `execute`: running
//!   translated SQL; `hoist`: constants of writes as parameters; `encode`: values in text and binary; `messages`:
//!   result and error messages; `errors`: SQLSTATE mapping; `catalog`: the
//!   PostgreSQL types and keys of table columns.
//! - `utility`: COPY, TRUNCATE, VACUUM, ANALYZE; `copy`: COPY's
//!   sub-protocol; `copy_format`: its text, CSV and binary data.
//! - `subscriptions`: query subscriptions (`patina_subscribe`,
//!   `patina_resume`) kept in `subscriptions.db` and maintained off the
//!   writer;
//! - `schema_files`: schema files applied in-process; `procedures`:
//!   `CALL patina_reload()` / `patina_rejoin()`; `node`: what the binary
//!   lends the front door for them; `shutdown`: terminating a listener's
//!   sessions when it stops, closing the database.
//! - `row_changes`: which rows of watched tables commits and merges
//!   changed; `row_feed`: `LISTEN "patina:changes:<table>"` on them.

mod auth;
mod auth_scram;
mod backup;
pub(crate) mod catalog;
mod checkpoint;
mod cluster_notify;
mod connection;
mod copy;
mod copy_format;
mod copy_freeze;
mod copy_out;
pub mod database;
mod encode;
mod errors;
mod execute;
mod framing;
mod hoist;
mod interrupts;
mod listener;
mod messages;
mod node;
mod notify;
mod outbox;
mod password;
mod prepare;
mod procedures;
mod row_changes;
mod row_feed;
mod schema_files;
mod session;
mod set_config;
mod settings;
mod shutdown;
mod startup;
mod statement;
mod subscriptions;
mod tls;
mod utility;

use std::future::Future;

use tokio::net::TcpListener;

pub use database::{Database, DatabaseError};
pub use listener::{
    AuthMethod, Listener, ListenerConfig, ListenerError, PgUser, TlsFiles, serve_listener,
};
pub use node::{ClusterSnapshot, ClusterView, MemberRow, NodeRow, Rejoin, SiteRow};
pub use password::{PasswordHash, PasswordHashError};
pub use schema_files::{SchemaFilesError, SchemaReport};
pub use tls::TlsError;

/// Serves PostgreSQL clients on `listener` until `shutdown` completes,
/// then terminates its sessions and waits for them to end:
/// trust authentication, no TLS, read-write, 100 connections (see
/// [`serve_listener`] for other settings).
pub async fn serve(listener: TcpListener, db: Database, shutdown: impl Future<Output = ()>) {
    serve_listener(listener, db, Listener::trust(), shutdown).await;
}
