//! Query subscriptions: `SELECT * FROM patina_subscribe('<a SELECT>')`
//! returns the query's rows (with the subscription id, the change id they
//! are at and each row's stable id) and listens on `patina:sub:<id>`,
//! which then carries every change of the result as JSON;
//! `SELECT * FROM patina_resume('<id>', <last change id>)` delivers what a
//! client missed. Identical queries share one subscription.
//!
//! - `sql`: recognising the calls; `plan`: the query's analysis and its
//!   key columns; `constants`: its equality constants; `index`: which
//!   subscriptions a changed row can affect; `maintain`: the
//!   subscriptions and their upkeep; `diff`:
//!   old result against new; `codec`: rows as bytes; `log`: the
//!   `subscriptions.db` file (materialized results, change logs);
//!   `payload`: the notifications' JSON; `worker`: the thread that follows
//!   commits, off the writer.

mod codec;
mod constants;
mod diff;
mod index;
mod log;
mod maintain;
mod payload;
mod plan;
mod sql;
mod worker;

use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use rusqlite::Connection;
use rusqlite::types::Value;

use super::database::{Database, DatabaseError};
use super::errors::PgError;
use super::notify::{Hub, Notification, SessionNotify};
use super::row_changes::TableWatch;
use crate::translate::{Catalog, Column};
use crate::types::PgType;
use maintain::State;
use plan::{Mode, QueryPlan};
use sql::{Arg, Call};

pub(crate) use sql::parse;

/// The file of the subscriptions, beside the store's.
const FILE: &str = "subscriptions.db";

/// A planned call, as a statement keeps it.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Planned {
    Subscribe(Box<QueryPlan>),
    Resume {
        id: Arg,
        last: Arg,
        /// The parameter types.
        params: Vec<PgType>,
    },
}

impl Planned {
    /// The result columns.
    pub fn columns(&self) -> Vec<Column> {
        let column = |name: &str, ty| Column {
            name: name.to_owned(),
            ty,
        };
        let mut columns = vec![
            column("patina_sub", PgType::TEXT),
            column("patina_change_id", PgType::INT8),
        ];
        if let Planned::Subscribe(plan) = self {
            columns.push(column("patina_row_id", PgType::INT8));
            columns.extend(plan.columns.iter().cloned());
        }
        columns
    }

    /// The parameter types.
    pub fn params(&self) -> Vec<PgType> {
        match self {
            Planned::Subscribe(_) => Vec::new(),
            Planned::Resume { params, .. } => params.clone(),
        }
    }
}

/// Plans a call: a subscription's query against `catalog`, read through
/// `conn`; `given`: the parameter types the client declared.
pub(crate) fn plan_call(
    call: Call,
    catalog: &dyn Catalog,
    conn: &Connection,
    given: &[Option<PgType>],
) -> Result<Planned, PgError> {
    match call {
        Call::Subscribe(query) => {
            let planned = plan::plan(&query, catalog, conn).map_err(|mut error| {
                // A position would point into the query, not the statement.
                error.fields.retain(|(field, _)| *field != b'P');
                error
            })?;
            Ok(Planned::Subscribe(Box::new(planned)))
        }
        Call::Resume { id, last } => {
            let params = sql::params(
                &Call::Resume {
                    id: id.clone(),
                    last: last.clone(),
                },
                given,
            );
            Ok(Planned::Resume { id, last, params })
        }
    }
}

/// The subscriptions of one database.
pub(crate) struct Manager {
    state: Mutex<State>,
    hub: Arc<Hub>,
    /// Set when a batch of changes could not be queued: the worker then
    /// re-diffs every subscription whole.
    lost: Arc<AtomicBool>,
}

impl std::fmt::Debug for Manager {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Manager").finish_non_exhaustive()
    }
}

impl Manager {
    /// Opens the subscriptions of `db` and starts their worker, which
    /// takes back the subscriptions kept in the file and re-diffs them,
    /// and their checkpoints; `full`: the node's data is kept with
    /// `durability = full`, and so is the file.
    pub fn start(db: &Database, full: bool) -> Result<Arc<Manager>, DatabaseError> {
        let path = db.path().with_file_name(FILE);
        let log = log::open(&path, full)?;
        super::checkpoint::spawn(&path)?;
        let records = log::load(&log)?;
        let clock = Arc::new(crate::functions::SessionClock::new(
            crate::functions::SessionClock::system_now(),
        ));
        let reader = db.open_reader(clock)?;
        let manager = Arc::new(Manager {
            state: Mutex::new(State::new(log, reader)),
            hub: db.hub(),
            lost: Arc::new(AtomicBool::new(false)),
        });
        worker::spawn(db, &manager, records)?;
        Ok(manager)
    }

    fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Sends the changes of subscriptions to their listeners.
    fn publish(&self, outgoing: Vec<(String, String)>) {
        for (channel, payload) in outgoing {
            self.hub.deliver(Notification {
                pid: 0,
                channel,
                payload,
            });
        }
    }
}

/// What a call returns: its rows, and the notices to send.
pub(crate) type Answer = (Vec<Vec<Value>>, Vec<PgError>);

/// Runs a planned call for a session with the bound `params`;
/// `holds_writer`: the session's transaction has written.
pub(crate) async fn run(
    db: &Database,
    planned: &Planned,
    params: &[Value],
    notify: &mut SessionNotify,
    holds_writer: bool,
) -> Result<Answer, PgError> {
    match planned {
        // A new subscription waits for the writer to capture its tables.
        Planned::Subscribe(_) if holds_writer => Err(PgError::new(
            "25001",
            "patina_subscribe cannot run in a transaction that has written: \
             subscribe before writing, or outside the transaction",
        )),
        Planned::Subscribe(plan) => subscribe(db, plan, notify).await,
        Planned::Resume { id, last, .. } => {
            let id = match id.value(params) {
                Value::Text(id) => id,
                Value::Null => {
                    return Err(PgError::new(
                        "22004",
                        "the subscription id must not be null",
                    ));
                }
                other => format!("{other:?}"),
            };
            let last = match last.value(params) {
                Value::Integer(last) => last,
                Value::Text(text) => text.trim().parse().map_err(|_| {
                    PgError::new(
                        "22P02",
                        format!("invalid input syntax for type bigint: \"{text}\""),
                    )
                })?,
                _ => return Err(PgError::new("22004", "the change id must not be null")),
            };
            resume(db, &id, last, notify)
        }
    }
}

async fn subscribe(
    db: &Database,
    plan: &QueryPlan,
    notify: &mut SessionNotify,
) -> Result<Answer, PgError> {
    let manager = db.subscriptions();
    let mut watch = None;
    loop {
        if let Some(answer) = attach(manager, plan, &mut watch, notify)? {
            return Ok(answer);
        }
        let tables: Vec<String> = plan.tables.iter().cloned().collect();
        watch = Some(db.watch_tables(&tables).await?);
    }
}

/// Joins the subscription of `plan`'s query, creating it (with `watch`,
/// the capture of its tables) if there is none; `None` when it must be
/// created and `watch` is not there yet. Reading the snapshot and
/// listening happen under the lock the worker publishes under: the
/// session receives exactly the changes after the snapshot.
fn attach(
    manager: &Manager,
    plan: &QueryPlan,
    watch: &mut Option<TableWatch>,
    notify: &mut SessionNotify,
) -> Result<Option<Answer>, PgError> {
    let mut state = manager.state();
    let id = match (state.find(&plan.normalized), watch.take()) {
        (Some(existing), _) => existing.record.id.clone(),
        (None, Some(watch)) => state.create(plan.clone(), Box::new(watch))?,
        (None, None) => return Ok(None),
    };
    let (change_id, rows) = state.snapshot(&id)?;
    let channel = maintain::channel(&id);
    notify.listen_now(&channel);
    if let Some(subscription) = state.get_mut(&id) {
        subscription.unlistened_since = None;
    }
    let mut notices = vec![PgError::new(
        "00000",
        format!("subscribed to \"{channel}\" at change {change_id}"),
    )];
    if let Some(Mode::Rerun(reason)) = state.get(&id).map(|s| &s.plan.mode) {
        notices.push(PgError::new(
            "00000",
            format!(
                "the query of \"{channel}\" cannot be maintained incrementally ({reason}): \
                 it is re-run whole whenever one of its tables changes"
            ),
        ));
    }
    let rows = rows
        .into_iter()
        .map(|(row_id, values)| {
            let mut row = vec![
                Value::Text(id.clone()),
                Value::Integer(change_id),
                Value::Integer(row_id),
            ];
            row.extend(values);
            row
        })
        .collect();
    Ok(Some((rows, notices)))
}

/// Listens to subscription `id` again, after its changes since `last`
/// are queued for the session.
fn resume(
    db: &Database,
    id: &str,
    last: i64,
    notify: &mut SessionNotify,
) -> Result<Answer, PgError> {
    let manager = db.subscriptions();
    let mut state = manager.state();
    let (change_id, missed) = state.missed(id, last)?;
    for (channel, payload) in missed {
        notify.push(Notification {
            pid: 0,
            channel,
            payload,
        });
    }
    notify.listen_now(&maintain::channel(id));
    if let Some(subscription) = state.get_mut(id) {
        subscription.unlistened_since = None;
    }
    Ok((
        vec![vec![Value::Text(id.to_owned()), Value::Integer(change_id)]],
        Vec::new(),
    ))
}

#[cfg(test)]
mod tests;
