//! tokio-postgres against a running node: the simple protocol (text
//! results) and the extended one (named statements, Parse + Describe + Sync,
//! binary parameters and results), prepared and typed statements,
//! transactions and savepoints, portals with max_rows, pipelining, error
//! codes and the connection after each error, concurrent clients.
//!
//! Every case is an `async fn(port)`. Each runs against a patina node of its
//! own (`patina::<case>`), and all of them run once, one after the other,
//! against a real PostgreSQL 15 (`all_cases_against_postgres`): the
//! expectations are PostgreSQL's behaviour. Needs `target/debug/patina`
//! (`cargo build -p patina-cli`) and the PostgreSQL 15 server binaries.

#[path = "tokio_postgres_client/errors.rs"]
mod errors;
#[path = "tokio_postgres_client/helpers.rs"]
mod helpers;
#[path = "tokio_postgres_client/protocol.rs"]
mod protocol;
#[path = "tokio_postgres_client/transactions.rs"]
mod transactions;

use std::error::Error as StdError;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use futures::{TryStreamExt, future};
use patina_tests::tokio_postgres::error::SqlState;
use patina_tests::tokio_postgres::types::{FromSql, ToSql, Type};
use patina_tests::tokio_postgres::{Client, Error, IsolationLevel, SimpleQueryMessage};
use patina_tests::{connect, describe_error};

use errors::*;
use helpers::*;
use protocol::*;
use transactions::*;

/// Fails a case that hangs (a server that never answers) instead of
/// blocking the whole run. Not a timing expectation: every case takes a few
/// seconds at most.
async fn within_hang_guard(case: impl Future<Output = ()>) {
    if tokio::time::timeout(Duration::from_secs(300), case)
        .await
        .is_err()
    {
        panic!("the case hung: no answer from the server for 300 s");
    }
}

// --- the test functions --------------------------------------------------------

macro_rules! cases {
    ($($case:ident),* $(,)?) => {
        /// Each case against a patina node of its own.
        mod patina {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $case() {
                    let node = patina_tests::Patina::start().await;
                    super::within_hang_guard(super::$case(node.port())).await;
                }
            )*
        }

        /// All cases against one real PostgreSQL 15: the expectations are
        /// PostgreSQL's behaviour.
        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn all_cases_against_postgres() {
            let pg = patina_tests::Postgres::start().await;
            $(
                within_hang_guard($case(pg.port())).await;
            )*
        }
    };
}

cases!(
    simple_query_returns_text_rows_and_counts,
    simple_query_string_is_one_implicit_transaction,
    extended_binary_round_trip,
    binary_numeric_and_nulls,
    prepare_describes_parameters_and_columns,
    prepared_statement_reused,
    query_typed_one_opt_and_raw,
    pipelined_queries,
    transactions_commit_rollback,
    savepoints,
    failed_transaction_is_25p02_until_rollback,
    isolation_levels_and_read_only,
    portal_with_max_rows,
    error_codes_and_connection_survives,
    error_fields,
    parameter_errors,
    foreign_key_enforced_or_refused,
    session_statements,
    concurrent_clients,
    reads_do_not_wait_for_a_write_transaction,
    disconnect_mid_transaction_loses_only_it,
    simple_and_extended_text_of_types,
);
