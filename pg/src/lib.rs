//! The PostgreSQL front door of patina, its sans-IO dialect layer:
//! PostgreSQL SQL in, SQLite SQL out, and the SQLite functions that give
//! the translated SQL PostgreSQL's semantics at run time. No sockets, no
//! clock of its own (time is injected through [`functions::Clock`]),
//! deterministic to test.
//!
//! A caller (the pgwire session) keeps a [`Catalog`] of table columns and
//! their [`PgType`]s, calls [`translate()`] on each query string, records the
//! [`TranslatedDdl`] of DDL statements in its catalog, describes
//! parameters and result columns from [`Translated`], binds parameters as
//! their PostgreSQL text, runs [`Translated::sql`] on a connection that
//! [`functions::register`] prepared, and prints each result value with
//! [`values::text::to_pg_text`]. Errors carry SQLSTATEs:
//! [`Error::sqlstate`] for translation, [`functions::sqlstate_of`] for
//! errors raised while SQLite runs the statement.
//!
//! # Layout
//!
//! - [`types`]: the supported PostgreSQL types, their OIDs, names, and the
//!   SQLite storage of each (the mapping table is in its doc).
//! - [`values`]: the stored text formats of those types (dates, intervals,
//!   numerics, JSON, arrays), printing as PostgreSQL does, and casts.
//! - [`mod@translate`]: parsing (sqlparser, PostgreSQL dialect), rewriting for
//!   SQLite and type inference, one file per concern (names, parameters,
//!   scopes, casts, expressions, operators, functions, queries, DML, DDL,
//!   transactions).
//! - [`functions`]: the SQLite scalar functions, aggregates and collation
//!   the translation emits; register them on every connection that opens a
//!   patina database.
//! - [`catalog`]: the system relations (`pg_catalog`,
//!   `information_schema`) as SQLite views over the live schema.
//! - [`error`]: the error enum and its SQLSTATE codes.
//! - [`server`]: the pgwire server: connections, sessions, transactions,
//!   the simple and extended protocols, on the store.

pub mod catalog;
pub mod error;
pub mod functions;
pub mod server;
pub mod translate;
pub mod types;
pub mod values;

pub use error::Error;
pub use translate::{
    Catalog, Column, StatementKind, Translated, TranslatedDdl, translate, translate_typed,
};
pub use types::{PgType, Scalar, Storage};
