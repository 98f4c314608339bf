//! The utility statements patina plans itself: `COPY` (see [`super::copy`]),
//! `TRUNCATE`, `VACUUM` and `ANALYZE`.
//!
//! - `TRUNCATE a, b` deletes every row, as DELETEs on the writer, so change
//!   capture replicates the deletions like any other.
//! - `ANALYZE` and `VACUUM ANALYZE` run SQLite's `ANALYZE` on the tables
//!   (statistics for its query planner); `VACUUM FULL` runs SQLite's
//!   `VACUUM`, which rewrites the database file. A plain `VACUUM` has
//!   nothing to do: SQLite reuses the pages of deleted rows by itself. Like
//!   PostgreSQL, VACUUM cannot run inside a transaction block (25001).

use std::io;

use futures::{Sink, Stream};
use pgwire::error::PgWireError;
use pgwire::messages::{PgWireBackendMessage as Out, PgWireFrontendMessage as In};

use super::copy::{self, CopyPlan};
use super::errors::PgError;
use super::session::{Implicit, Plan, Session, Txn};
use crate::translate::{
    Catalog, Maintenance, StatementKind, Translated, is_copy, parse_maintenance, translate_typed,
};

/// A planned utility statement.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Utility {
    Copy(Box<CopyPlan>),
    /// Each table, with its DELETE.
    Truncate(Vec<(String, Translated)>),
    Vacuum {
        /// SQLite statements to run on the writer.
        sql: Vec<String>,
    },
    Analyze {
        sql: Vec<String>,
    },
}

/// The utility statement `sql` is, planned against `catalog`; `None` for
/// other SQL.
pub(crate) fn plan(sql: &str, catalog: &dyn Catalog) -> Option<Result<Utility, PgError>> {
    if is_copy(sql) {
        return Some(copy::plan(sql, catalog).map(|plan| Utility::Copy(Box::new(plan))));
    }
    let statement = match parse_maintenance(sql)? {
        Ok(statement) => statement,
        Err(error) => return Some(Err(PgError::from(error).located_in(sql))),
    };
    let exists = |tables: &[String]| -> Result<(), PgError> {
        match tables.iter().find(|t| catalog.columns(t).is_none()) {
            Some(missing) => Err(PgError::new(
                "42P01",
                format!("relation \"{missing}\" does not exist"),
            )),
            None => Ok(()),
        }
    };
    let analyze = |tables: &[String]| -> Vec<String> {
        if tables.is_empty() {
            return vec!["ANALYZE".to_owned()];
        }
        tables
            .iter()
            .map(|t| format!("ANALYZE \"{}\"", t.replace('"', "\"\"")))
            .collect()
    };
    Some(match statement {
        Maintenance::Truncate(tables) => exists(&tables).and_then(|()| {
            tables
                .iter()
                .map(|t| {
                    let delete = format!("DELETE FROM \"{}\"", t.replace('"', "\"\""));
                    translate_typed(&delete, catalog, &[])
                        .map_err(PgError::from)
                        .map(|mut all| (t.clone(), all.remove(0)))
                })
                .collect::<Result<_, _>>()
                .map(Utility::Truncate)
        }),
        Maintenance::Vacuum {
            full,
            analyze: with_analyze,
            tables,
        } => exists(&tables).map(|()| {
            let mut sql = Vec::new();
            if full {
                sql.push("VACUUM".to_owned());
            }
            if with_analyze {
                sql.extend(analyze(&tables));
            }
            Utility::Vacuum { sql }
        }),
        Maintenance::Analyze(tables) => exists(&tables).map(|()| Utility::Analyze {
            sql: analyze(&tables),
        }),
    })
}

/// Runs a utility statement: its command tag, or the error to report.
pub(crate) async fn run<W>(
    wire: &mut W,
    session: &mut Session,
    utility: &Utility,
) -> io::Result<Result<String, PgError>>
where
    W: Stream<Item = Result<In, PgWireError>> + Sink<Out, Error = io::Error> + Unpin,
{
    if session.txn == Txn::Failed {
        return Ok(Err(PgError::in_failed_transaction()));
    }
    Ok(match utility {
        Utility::Copy(plan) => return copy::run(wire, session, plan).await,
        Utility::Truncate(deletes) => truncate(session, deletes).await,
        Utility::Vacuum { sql } => {
            if session.txn != Txn::Idle {
                Err(PgError::new(
                    "25001",
                    "VACUUM cannot run inside a transaction block",
                ))
            } else {
                on_writer(session, sql, "VACUUM").await
            }
        }
        Utility::Analyze { sql } => on_writer(session, sql, "ANALYZE").await,
    })
}

/// Deletes every row of each table, in one transaction.
async fn truncate(
    session: &mut Session,
    deletes: &[(String, Translated)],
) -> Result<String, PgError> {
    let own = session.txn == Txn::Idle;
    if own {
        session.begin_implicit(Implicit::Simple);
    }
    let mut result = Ok("TRUNCATE TABLE".to_owned());
    for (table, delete) in deletes {
        if let Err(error) = session.run(&Plan::Sql(Box::new(delete.clone())), &[]).await {
            session.fail();
            result = Err(error);
            break;
        }
        session.fresh.touched(table);
    }
    if own {
        session.end_implicit().await?;
    }
    result
}

/// Runs SQLite maintenance statements on the writer, one by one.
async fn on_writer(session: &mut Session, sql: &[String], tag: &str) -> Result<String, PgError> {
    for statement in sql {
        // A write as far as the session is concerned: it takes the writer.
        let translated = Translated {
            kind: StatementKind::Update,
            sql: statement.clone(),
            params: Vec::new(),
            columns: Vec::new(),
            ddl: None,
            row_lock: None,
            views: crate::catalog::Views::NONE,
        };
        session.run(&Plan::Sql(Box::new(translated)), &[]).await?;
    }
    Ok(tag.to_owned())
}

/// The warning for a table created without a primary key.
pub(crate) fn local_table_warning(table: &str) -> String {
    format!(
        "table \"{table}\" has no primary key: it is local to this node and not replicated \
         (ALTER TABLE {table} ADD PRIMARY KEY (…) makes it replicated)"
    )
}
