//! patina's replicated store: the CR-SQLite model implemented natively on
//! rusqlite.
//!
//! Every node keeps the whole dataset in one SQLite file (WAL). Tables made
//! replicated (CRRs) get a clock per cell, filled by triggers on every local
//! INSERT, UPDATE, DELETE and upsert, so plain SQL on [`Store::conn`] is
//! captured without the caller's help. Each local write transaction gets the
//! next `db_version` of this node's [`SiteId`]. [`Store::changes`] reads a
//! site's versions back out (this node's or ones it merged, for relaying);
//! [`Store::merge`] applies a batch from peers in one transaction, by
//! per-cell rules that make merging commutative, associative and idempotent;
//! [`Store::sync_state`] says which versions of each site were applied, so
//! sync can ask for exactly the gaps.
//!
//! This crate knows nothing of sockets, async runtimes or the pg wire.
//!
//! # Layout
//! - [`store`]: `Store`: opening, the writer connection, the operations.
//! - `capture`: the per-connection functions and hooks the triggers use.
//! - `schema`: replicated tables, their triggers and clock tables, and
//!   judging schema changes (`schema::rules`).
//! - `merge`, `extract`: applying and reading change sets; `keys`: the
//!   primary key they were written under; `compact`:
//!   trimming the version log; `pack`: the key encoding the log uses.
//! - `declared_schema`: the schema as replicated rows, and bringing a
//!   node's tables up to them after a merge.
//! - `bookkeeping`: applied versions per remote site, as ranges.
//! - [`Reader`]: changes and bookkeeping read on a connection of its own.
//! - `sites`: site ids by ordinal.
//! - [`value`], [`change`], [`site`]: the data that travels.

mod bookkeeping;
mod capture;
pub mod change;
mod compact;
mod declared_schema;
mod error;
mod extract;
mod keys;
mod merge;
mod pack;
mod pending;
mod reader;
mod restore;
mod row_state;
mod schema;
pub mod site;
mod sites;
mod sql;
pub mod store;
pub mod value;

pub use bookkeeping::SiteProgress;
pub use change::{Change, ChangeSet, Keys, Versions};
pub use compact::Compaction;
pub use error::{CompactError, MergeError, OpenError, ReadError, SchemaError};
pub use merge::MergeOutcome;
pub use reader::Reader;
pub use restore::{RestoreError, Restored, restore};
pub use schema::SchemaChange;
pub use site::SiteId;
pub use store::{Durability, Metadata, Store};
pub use value::Value;
