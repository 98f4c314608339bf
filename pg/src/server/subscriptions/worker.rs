//! The subscription worker: a thread of its own, with its own read
//! connection, fed the committed row changes by the capture consumer (a
//! non-blocking send: a slow subscription never holds up the writer,
//! replication or other listeners). It coalesces what queued up, updates
//! every affected subscription, publishes the changes, and every few
//! seconds drops logged changes past the retention and subscriptions
//! nobody listened to for as long.
//!
//! At start it takes back the subscriptions kept in `subscriptions.db`,
//! captures their tables again and re-diffs each against the current data,
//! so what changed while the node was down becomes change events.

use std::sync::atomic::Ordering;
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::sync::{Arc, Weak};
use std::time::{Duration, Instant};

use super::super::database::{Database, DatabaseError};
use super::super::row_changes::Committed;
use super::log::{self, Record};
use super::maintain::Changed;
use super::{Manager, codec, plan};

/// Batches of commits that may wait for the worker; beyond, the worker
/// re-diffs everything once it catches up.
const QUEUE: usize = 4096;
/// Batches coalesced into one round.
const ROUND: usize = 1024;
/// How often retention is enforced.
const SWEEP: Duration = Duration::from_secs(5);

/// Starts the worker of `manager`. It holds neither the database nor the
/// manager between rounds: when the database goes, the manager, the
/// captures and the consumer's sender go with it, and the worker ends.
pub(super) fn spawn(
    db: &Database,
    manager: &Arc<Manager>,
    records: Vec<Record>,
) -> Result<(), DatabaseError> {
    let (sender, receiver) = mpsc::sync_channel::<Arc<Committed>>(QUEUE);
    let lost = manager.lost.clone();
    db.on_row_changes(Arc::new(move |committed: &Arc<Committed>| {
        if sender.try_send(committed.clone()).is_err() {
            lost.store(true, Ordering::SeqCst);
        }
    }));
    let db = db.clone();
    let manager = Arc::downgrade(manager);
    std::thread::Builder::new()
        .name("patina-subscriptions".to_owned())
        .spawn(move || {
            if let Some(manager) = manager.upgrade() {
                restore(&db, &manager, records);
            }
            drop(db);
            follow(&manager, &receiver);
        })?;
    Ok(())
}

/// Takes back the kept subscriptions and re-diffs them.
fn restore(db: &Database, manager: &Manager, records: Vec<Record>) {
    if records.is_empty() {
        return;
    }
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            tracing::error!(%error, "restoring subscriptions: no runtime");
            return;
        }
    };
    let tables = db.tables();
    let mut state = manager.state();
    for record in records {
        let planned = plan::plan(&record.query, tables.as_ref(), state.reader());
        let watched = planned.and_then(|plan| {
            let names: Vec<String> = plan.tables.iter().cloned().collect();
            runtime
                .block_on(db.watch_tables(&names))
                .map(|watch| (plan, watch))
        });
        let id = record.id.clone();
        let restored =
            watched.and_then(|(plan, watch)| state.restore(record, plan, Some(Box::new(watch))));
        if let Err(error) = restored {
            tracing::warn!(subscription = %id, %error.message, "dropping a subscription whose query no longer runs");
            if let Err(error) = log::remove(state.log(), &id) {
                tracing::warn!(%error, "forgetting a subscription failed");
            }
        }
    }
    let outgoing = state.changed(&Changed::new(), true);
    manager.publish(outgoing);
}

/// Follows commits until the database goes.
fn follow(manager: &Weak<Manager>, receiver: &Receiver<Arc<Committed>>) {
    let mut swept = Instant::now();
    loop {
        let first = match receiver.recv_timeout(SWEEP) {
            Ok(committed) => Some(committed),
            Err(RecvTimeoutError::Timeout) => None,
            Err(RecvTimeoutError::Disconnected) => return,
        };
        let mut changed = Changed::new();
        for committed in first.into_iter().chain(receiver.try_iter().take(ROUND)) {
            for row in &committed.rows {
                let key: Vec<_> = row.pk.iter().map(|(_, value)| value.clone()).collect();
                changed
                    .entry(row.table.to_lowercase())
                    .or_default()
                    .insert(codec::encode(&key), key);
            }
        }
        let Some(manager) = manager.upgrade() else {
            return;
        };
        let mut state = manager.state();
        let everything = manager.lost.swap(false, Ordering::SeqCst) | state.take_behind();
        if everything {
            tracing::warn!("subscriptions fell behind the commits: re-running every query");
        }
        if !changed.is_empty() || everything {
            let outgoing = state.changed(&changed, everything);
            manager.publish(outgoing);
        }
        drop(state);
        if swept.elapsed() >= SWEEP {
            sweep(&manager);
            swept = Instant::now();
        }
    }
}

/// Drops what is past the retention.
fn sweep(manager: &Manager) {
    let mut state = manager.state();
    for id in state.ids() {
        let Some(subscription) = state.get_mut(&id) else {
            continue;
        };
        if manager.hub.is_listened(&subscription.channel) {
            subscription.unlistened_since = None;
            continue;
        }
        let since = *subscription
            .unlistened_since
            .get_or_insert_with(Instant::now);
        if since.elapsed() >= log::RETENTION {
            tracing::info!(subscription = %id, "dropping a subscription nobody listened to");
            state.drop_subscription(&id);
        }
    }
    state.prune();
}
