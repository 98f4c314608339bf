//! Test support for patina's cross-crate tests.
//!
//! Everything here starts real processes and talks to them over the
//! PostgreSQL wire protocol:
//!
//! - [`Postgres`]: a throwaway PostgreSQL 15 (the reference the
//!   differential test compares patina against), stopped and removed on
//!   drop.
//! - [`Patina`]: the real `patina` binary as `patina agent`, killed on drop;
//!   its output is printed if the test fails.
//! - [`rng`]: a seeded generator for reproducible fuzz cases.
//! - [`wire`]: a raw wire-protocol client for hand-built (and broken)
//!   messages, used by the fuzz tests.
//! - [`connect`] / [`try_connect`]: a tokio-postgres client (`NoTls`, user
//!   and database `postgres`) to a local port; [`connect_to`] /
//!   [`try_connect_to`] to any address.
//! - [`ServedListener`]: a pg listener with chosen settings (auth, TLS,
//!   limits, read only) served in the test's process; [`psql`] runs the
//!   real psql against it.
//! - [`Cluster`]: several `patina agent` processes replicating to each
//!   other, each on a loopback address of its own; nodes can be killed,
//!   restarted and added, and [`Partition`] cuts the gossip between two
//!   groups with nftables. [`TestCa`] makes the certificates of mutual TLS
//!   between peers.
//!
//! The constructors are async and must run inside a tokio runtime
//! (`#[tokio::test]`).

mod certs;
mod client;
mod cluster;
mod listener;
mod notifications;
mod oracle;
mod partition;
mod patina;
mod postgres;
mod process;
pub mod rng;
pub mod wire;

pub use certs::{PeerTlsFiles, TestCa};
pub use client::{config_for, connect, connect_to, describe_error, try_connect, try_connect_to};
pub use cluster::{
    Cluster, ClusterOptions, NodeOptions, Outcome, Rows, pairs, rows_of, wait_until,
};
pub use listener::{PsqlRun, ServedListener, captured_log, psql};
pub use notifications::{Notification, Recording, connect_recording};
pub use oracle::Oracle;
pub use partition::Partition;
pub use patina::{Patina, log_tail, patina_bin};
pub use postgres::{PG_BIN_DIR, Postgres, pg_bin_dir};
pub use process::{StartError, free_port, workspace_root};
/// The client crate these helpers return, so tests use the same version.
pub use tokio_postgres;
