//! NOTIFY across the cluster. A transaction that commits notifications
//! also writes them, in the same transaction, as rows of the replicated
//! table `__patina_notifications` (keyed by the origin's site id and a
//! sequence number), so they travel in the transaction's version like any
//! change. A node that merges such a row for the first time delivers it to
//! its own listeners: once per node, after the rest of the version is
//! applied, in the origin's commit order: versions can arrive out of
//! order, so the rows of a site are held while this node lacks some
//! version of that site below the ones it has (a gap), and go out in
//! sequence order once it has them all — or once they are older than
//! [`RETENTION`], as anti-entropy may never bring what was trimmed.
//!
//! Rows are kept for [`RETENTION`] (a node that catches up later than
//! that does not replay older notifications); the origin deletes its own
//! older rows as it writes new ones.
//!
//! Arrivals are seen by a TEMP trigger on the writer's connection, which
//! calls `patina_notification_arrived(site, seq)` for every row a merge
//! creates; the merge then reads those rows back and publishes them.

use std::collections::{BTreeMap, HashSet};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use rusqlite::functions::FunctionFlags;
use rusqlite::{Connection, params};

use super::notify::{Hub, Notification};

/// The replicated table.
pub(crate) const TABLE: &str = "__patina_notifications";

pub(crate) const CREATE: &str = "CREATE TABLE IF NOT EXISTS __patina_notifications (
    site TEXT NOT NULL, seq INTEGER NOT NULL, pid INTEGER NOT NULL DEFAULT 0,
    channel TEXT NOT NULL DEFAULT '', payload TEXT NOT NULL DEFAULT '',
    at INTEGER NOT NULL DEFAULT 0, PRIMARY KEY (site, seq)) WITHOUT ROWID";

/// How long a notification is kept for nodes that have not received it.
pub(crate) const RETENTION: Duration = Duration::from_secs(600);

/// Keys of the rows a merge created, collected by the trigger, and the
/// delivery order's state.
pub(crate) type Arrivals = Arc<Mutex<Delivery>>;

#[derive(Debug, Default)]
pub(crate) struct Delivery {
    arrived: Vec<(String, i64)>,
    /// Rows waiting for their site's gaps to fill: key → (row, `at`).
    held: BTreeMap<(String, i64), (Notification, i64)>,
}

/// Watches the writer's connection for notification rows that arrive.
pub(crate) fn watch(conn: &Connection, arrivals: Arrivals) -> rusqlite::Result<()> {
    conn.create_scalar_function(
        "patina_notification_arrived",
        2,
        FunctionFlags::SQLITE_UTF8,
        move |ctx| {
            let key = (ctx.get::<String>(0)?, ctx.get::<i64>(1)?);
            arrivals
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .arrived
                .push(key);
            Ok(0)
        },
    )?;
    conn.execute_batch(
        "CREATE TEMP TRIGGER IF NOT EXISTS __patina_notification_arrived
         AFTER INSERT ON main.__patina_notifications
         BEGIN SELECT patina_notification_arrived(NEW.site, NEW.seq); END",
    )
}

/// Writes a committing transaction's notifications from session `pid` of
/// site `site` (inside the transaction), and trims this site's rows past
/// retention.
pub(crate) fn record(
    conn: &Connection,
    site: &str,
    pid: i32,
    notifications: &[(String, String)],
) -> rusqlite::Result<()> {
    let now = now_millis();
    let mut seq: i64 = conn
        .prepare_cached("SELECT coalesce(max(seq), 0) FROM __patina_notifications WHERE site = ?1")?
        .query_row([site], |row| row.get(0))?;
    let mut insert = conn.prepare_cached(
        "INSERT INTO __patina_notifications (site, seq, pid, channel, payload, at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )?;
    for (channel, payload) in notifications {
        seq += 1;
        insert.execute(params![site, seq, pid, channel, payload, now])?;
    }
    let horizon = now - RETENTION.as_millis() as i64;
    conn.prepare_cached("DELETE FROM __patina_notifications WHERE site = ?1 AND at < ?2")?
        .execute(params![site, horizon])?;
    Ok(())
}

/// Publishes the notifications a merge brought to this node's listeners,
/// in each origin's order; `gapped` reads the sites (as hex site ids) of
/// which this node lacks versions below ones it has (only when some
/// notification is waiting).
pub(crate) fn deliver(
    conn: &Connection,
    arrivals: &Arrivals,
    hub: &Hub,
    gapped: impl FnOnce() -> rusqlite::Result<HashSet<String>>,
) -> rusqlite::Result<()> {
    let mut delivery = arrivals.lock().unwrap_or_else(PoisonError::into_inner);
    let keys = std::mem::take(&mut delivery.arrived);
    if keys.is_empty() && delivery.held.is_empty() {
        return Ok(());
    }
    let mut read = conn.prepare_cached(
        "SELECT pid, channel, payload, at FROM __patina_notifications WHERE site = ?1 AND seq = ?2",
    )?;
    for (site, seq) in keys {
        let found = read.query_row(params![site, seq], |row| {
            let notification = Notification {
                pid: row.get(0)?,
                channel: row.get(1)?,
                payload: row.get(2)?,
            };
            Ok((notification, row.get::<_, i64>(3)?))
        });
        match found {
            Ok(row) => {
                delivery.held.insert((site, seq), row);
            }
            Err(rusqlite::Error::QueryReturnedNoRows) => {}
            Err(error) => return Err(error),
        }
    }
    delivery.release(hub, &gapped()?, now_millis() - RETENTION.as_millis() as i64);
    Ok(())
}

impl Delivery {
    /// Delivers, in sequence order, the held rows of every site without
    /// gaps, and those older than `horizon` (ms).
    fn release(&mut self, hub: &Hub, gapped: &HashSet<String>, horizon: i64) {
        let held = std::mem::take(&mut self.held);
        for ((site, seq), (notification, at)) in held {
            if !gapped.contains(&site) || at < horizon {
                hub.deliver(notification);
            } else {
                self.held.insert((site, seq), (notification, at));
            }
        }
    }
}

/// Forgets arrivals (a merge that rolled back, or rows this node wrote).
pub(crate) fn forget(arrivals: &Arrivals) {
    arrivals
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .arrived
        .clear();
}

fn now_millis() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::server::notify::{NotifyCommand, SessionNotify};

    fn row(payload: &str, at: i64) -> (Notification, i64) {
        let notification = Notification {
            pid: 7,
            channel: "a".into(),
            payload: payload.into(),
        };
        (notification, at)
    }

    #[test]
    fn rows_are_held_while_their_site_has_gaps() {
        let hub = Arc::new(Hub::default());
        let mut listener = SessionNotify::new(1, hub.clone());
        listener.command(&NotifyCommand::Listen("a".into()));
        listener.end(true);
        let mut delivery = Delivery::default();
        let mut received = || {
            std::iter::from_fn(|| listener.try_next())
                .map(|n| n.payload)
                .collect::<Vec<_>>()
        };
        let gapped: HashSet<String> = ["s".to_owned()].into();
        let complete = HashSet::new();

        delivery.held.insert(("s".into(), 2), row("2", 100));
        delivery.held.insert(("s".into(), 3), row("3", 100));
        delivery.release(&hub, &gapped, 0);
        assert!(
            received().is_empty(),
            "2 and 3 wait for the version before them"
        );
        delivery.held.insert(("s".into(), 1), row("1", 100));
        delivery.release(&hub, &complete, 0);
        assert_eq!(received(), ["1", "2", "3"]);

        // A gap that never fills is given up once the rows are old.
        delivery.held.insert(("s".into(), 5), row("5", 100));
        delivery.release(&hub, &gapped, 0);
        assert!(received().is_empty());
        delivery.release(&hub, &gapped, 200);
        assert_eq!(received(), ["5"]);
    }
}
