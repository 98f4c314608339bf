//! The subscriptions of one node and their upkeep: creating one from a
//! planned query (materializing its result), and turning changed rows into
//! result changes — for an incremental query by re-running it restricted
//! to the changed keys the index ([`super::index`]) says can affect it and
//! diffing with the materialized rows joining those keys; for any other by
//! re-running it whole and diffing by content. Each change gets the
//! subscription's next change id, is applied to the materialized result
//! and appended to the log, in one transaction of `subscriptions.db` per
//! batch; the caller publishes what this returns.

use std::collections::{BTreeMap, HashMap};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use rusqlite::Connection;
use rusqlite::types::Value;

use super::super::errors::PgError;
use super::codec;
use super::diff::{self, Current, Edit};
use super::index::{Index, Target, Work};
use super::log::{self, Record, StoredRow};
use super::payload::{self, Op};
use super::plan::{Mode, QueryPlan};

/// Keys bound per restricted query.
const CHUNK: usize = 200;

/// The channel of subscription `id`.
pub(crate) fn channel(id: &str) -> String {
    format!("patina:sub:{id}")
}

/// The rows a batch of commits changed: per table (lower-cased), the
/// primary-key values of each changed row, in key order, by their
/// encoding.
pub(crate) type Changed = HashMap<String, BTreeMap<Vec<u8>, Vec<Value>>>;

/// A materialized result row: its id and values.
pub(crate) type Row = (i64, Vec<Value>);

/// A notification to publish: (channel, payload).
pub(crate) type Outgoing = (String, String);

/// Something kept alive as long as a subscription (its capture of its
/// tables).
pub(crate) type Keep = Box<dyn std::any::Any + Send>;

pub(crate) struct Subscription {
    pub record: Record,
    pub plan: QueryPlan,
    pub channel: String,
    /// Since when nobody listens.
    pub unlistened_since: Option<Instant>,
    _keep: Option<Keep>,
}

/// Every subscription, the file keeping them, and a read connection to
/// the node's data.
pub(crate) struct State {
    log: Connection,
    reader: Connection,
    subscriptions: BTreeMap<String, Subscription>,
    by_query: HashMap<String, String>,
    /// Which subscriptions changed rows can affect.
    index: Index,
    /// Keeping a batch's changes failed: the next round re-diffs all.
    behind: bool,
}

impl std::fmt::Debug for State {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("State")
            .field("subscriptions", &self.subscriptions.keys())
            .finish_non_exhaustive()
    }
}

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

fn internal(error: rusqlite::Error) -> PgError {
    PgError::new("XX000", format!("subscriptions: {error}"))
}

impl State {
    pub fn new(log: Connection, reader: Connection) -> State {
        State {
            log,
            reader,
            subscriptions: BTreeMap::new(),
            by_query: HashMap::new(),
            index: Index::default(),
            behind: false,
        }
    }

    /// The log file's connection.
    pub fn log(&self) -> &Connection {
        &self.log
    }

    /// The read connection to the node's data.
    pub fn reader(&self) -> &Connection {
        &self.reader
    }

    /// Takes back a subscription loaded from the log, with its plan:
    /// indexes it and the rows its result holds.
    pub fn restore(
        &mut self,
        record: Record,
        plan: QueryPlan,
        keep: Option<Keep>,
    ) -> Result<(), PgError> {
        match &plan.mode {
            Mode::Incremental(occurrences) => {
                let held = log::held_keys(&self.log, &record.id).map_err(internal)?;
                self.index.add(&record.id, occurrences);
                for (occ, key) in held {
                    if let Some(occurrence) = occurrences.get(occ) {
                        self.index
                            .hold(&occurrence.table, key, (record.id.clone(), occ));
                    }
                }
            }
            Mode::Rerun(_) => self.index.add_rerun(&record.id, &plan.tables),
        }
        self.by_query
            .insert(plan.normalized.clone(), record.id.clone());
        self.subscriptions.insert(
            record.id.clone(),
            Subscription {
                channel: channel(&record.id),
                record,
                plan,
                unlistened_since: None,
                _keep: keep,
            },
        );
        Ok(())
    }

    /// The subscription sharing `normalized`'s query, if any.
    pub fn find(&self, normalized: &str) -> Option<&Subscription> {
        self.by_query
            .get(normalized)
            .and_then(|id| self.subscriptions.get(id))
    }

    pub fn get(&self, id: &str) -> Option<&Subscription> {
        self.subscriptions.get(id)
    }

    pub fn get_mut(&mut self, id: &str) -> Option<&mut Subscription> {
        self.subscriptions.get_mut(id)
    }

    pub fn ids(&self) -> Vec<String> {
        self.subscriptions.keys().cloned().collect()
    }

    /// Creates a subscription for `plan`, its result materialized at
    /// change 0; returns its id.
    pub fn create(&mut self, plan: QueryPlan, keep: Keep) -> Result<String, PgError> {
        let id = uuid::Uuid::new_v4().simple().to_string()[..16].to_owned();
        let rows = self.run(&plan, None)?;
        let mut record = Record {
            id: id.clone(),
            query: plan.normalized.clone(),
            change_id: 0,
            next_row: 1,
            pruned_through: 0,
        };
        let tx = self.log.unchecked_transaction().map_err(internal)?;
        for row in rows {
            log::insert_row(
                &tx,
                &id,
                record.next_row,
                row.key.as_deref(),
                &row.occurrence_keys,
                &row.vals,
            )
            .map_err(internal)?;
            record.next_row += 1;
        }
        log::save(&tx, &record).map_err(internal)?;
        tx.commit().map_err(internal)?;
        if let Err(error) = self.restore(record, plan, Some(keep)) {
            self.drop_subscription(&id);
            return Err(error);
        }
        Ok(id)
    }

    /// The materialized result of subscription `id`: its change id and
    /// its rows (row id, values) in row id order.
    pub fn snapshot(&self, id: &str) -> Result<(i64, Vec<Row>), PgError> {
        let subscription = self.known(id)?;
        let rows = log::all_rows(&self.log, id)
            .map_err(internal)?
            .into_iter()
            .map(|row| {
                codec::decode(&row.vals)
                    .map(|values| (row.row_id, values))
                    .ok_or_else(|| PgError::new("XX001", "a materialized row is corrupt"))
            })
            .collect::<Result<_, _>>()?;
        Ok((subscription.record.change_id, rows))
    }

    fn known(&self, id: &str) -> Result<&Subscription, PgError> {
        self.subscriptions
            .get(id)
            .ok_or_else(|| PgError::new("42704", format!("subscription \"{id}\" does not exist")))
    }

    /// The logged changes of `id` after `last`, to deliver to a client
    /// resuming: 55000 when some are no longer kept, 22023 for a change id
    /// the subscription has not reached.
    pub fn missed(&self, id: &str, last: i64) -> Result<(i64, Vec<Outgoing>), PgError> {
        let subscription = self.known(id)?;
        let record = &subscription.record;
        if last > record.change_id {
            return Err(PgError::new(
                "22023",
                format!(
                    "subscription \"{id}\" is at change {}: it has no change {last}",
                    record.change_id
                ),
            ));
        }
        if last < record.pruned_through {
            return Err(PgError::new(
                "55000",
                format!(
                    "changes after {last} of subscription \"{id}\" are no longer kept \
                     (they are kept {} minutes, at most {} per subscription): \
                     subscribe again with patina_subscribe",
                    log::RETENTION.as_secs() / 60,
                    log::RETAINED_CHANGES
                ),
            ));
        }
        let changes = log::changes_after(&self.log, id, last).map_err(internal)?;
        Ok((record.change_id, changes))
    }

    /// Follows a batch of changed rows into every subscription reading
    /// them; `everything` re-diffs every subscription whole (changes may
    /// have been missed). Subscriptions whose query no longer runs are
    /// dropped.
    pub fn changed(&mut self, changed: &Changed, everything: bool) -> Vec<Outgoing> {
        let read = self.reader.execute_batch("BEGIN");
        let affected = self.affected(changed, everything);
        let mut outgoing = Vec::new();
        for (id, work) in affected {
            let Some(subscription) = self.subscriptions.get(&id) else {
                continue;
            };
            let edits = match work {
                Some(work) => self.edits(&subscription.plan, &id, &work, changed),
                None => self.full_edits(&subscription.plan, &id),
            };
            let edits = match edits {
                Ok(edits) => edits,
                Err(error) => {
                    tracing::warn!(subscription = %id, %error.message, "dropping a subscription whose query no longer runs");
                    outgoing.push((
                        subscription.channel.clone(),
                        payload::dropped(&error.message),
                    ));
                    self.drop_subscription(&id);
                    continue;
                }
            };
            // On failure nothing of the batch was kept for it: a re-diff
            // finds the changes again.
            match self.apply(&id, edits) {
                Ok(sent) => outgoing.extend(sent),
                Err(error) => {
                    tracing::error!(subscription = %id, %error.message, "keeping a subscription's changes failed");
                    self.behind = true;
                }
            }
        }
        if read.is_ok() {
            let _ = self.reader.execute_batch("COMMIT");
        }
        outgoing
    }

    /// The subscriptions a batch affects: for an incremental one, per
    /// occurrence, the changed keys to look at (`Some`); `None` to re-diff
    /// it whole. Reads the changed rows' constrained columns, in the
    /// reader's current transaction.
    fn affected(
        &self,
        changed: &Changed,
        everything: bool,
    ) -> BTreeMap<String, Option<BTreeMap<usize, Work>>> {
        let mut affected = BTreeMap::new();
        if everything {
            for id in self.subscriptions.keys() {
                affected.insert(id.clone(), None);
            }
            return affected;
        }
        for table in changed.keys() {
            for id in self.index.reruns(table) {
                affected.insert(id.clone(), None);
            }
        }
        for (table, keys) in changed {
            let columns = self.index.columns(table);
            let current = if columns.is_empty() {
                None
            } else {
                self.index.read(&self.reader, table, &columns, keys)
            };
            let work = self
                .index
                .candidates(table, keys.keys(), &columns, current.as_ref());
            for ((id, occ), work) in work {
                let entry = affected.entry(id).or_insert_with(|| Some(BTreeMap::new()));
                if let Some(occurrences) = entry {
                    occurrences.insert(occ, work);
                }
            }
        }
        affected
    }

    /// Whether a batch could not be kept (and clears it): everything must
    /// be re-diffed.
    pub fn take_behind(&mut self) -> bool {
        std::mem::take(&mut self.behind)
    }

    /// Forgets subscription `id`.
    pub fn drop_subscription(&mut self, id: &str) {
        if let Some(subscription) = self.subscriptions.remove(id) {
            self.by_query.remove(&subscription.plan.normalized);
        }
        self.index.remove(id);
        if let Err(error) = log::remove(&self.log, id) {
            tracing::warn!(subscription = %id, %error, "forgetting a subscription failed");
        }
    }

    /// Drops logged changes past the retention.
    pub fn prune(&mut self) {
        let before = now_ms() - i64::try_from(log::RETENTION.as_millis()).unwrap_or(i64::MAX);
        for subscription in self.subscriptions.values_mut() {
            let record = &mut subscription.record;
            match log::prune(&self.log, &record.id, before, record.change_id) {
                Ok(Some(through)) => {
                    record.pruned_through = through;
                    if let Err(error) = log::save(&self.log, record) {
                        tracing::warn!(%error, "recording pruned changes failed");
                    }
                }
                Ok(None) => {}
                Err(error) => tracing::warn!(%error, "pruning changes failed"),
            }
        }
    }

    /// Runs `plan` (restricted to rows whose occurrence `only.0` has one
    /// of the keys `only.1`): its rows as the diff reads them.
    fn run(
        &self,
        plan: &QueryPlan,
        only: Option<(usize, &[&Vec<Value>])>,
    ) -> Result<Vec<Current>, PgError> {
        let Some((occurrence, keys)) = only else {
            return self.query(plan, &plan.sql, &[]);
        };
        let Mode::Incremental(occurrences) = &plan.mode else {
            return Ok(Vec::new());
        };
        if occurrence >= occurrences.len() {
            return Ok(Vec::new());
        }
        let mut rows = Vec::new();
        for chunk in keys.chunks(CHUNK) {
            let sql = restricted(plan, occurrences, occurrence, chunk.len());
            let params: Vec<Value> = chunk.iter().flat_map(|key| key.iter().cloned()).collect();
            rows.extend(self.query(plan, &sql, &params)?);
        }
        Ok(rows)
    }

    fn query(
        &self,
        plan: &QueryPlan,
        sql: &str,
        params: &[Value],
    ) -> Result<Vec<Current>, PgError> {
        let failed = |error| super::super::errors::statement_error(&self.reader, sql, error);
        let mut stmt = self.reader.prepare_cached(sql).map_err(failed)?;
        for (i, value) in params.iter().enumerate() {
            stmt.raw_bind_parameter(i + 1, value).map_err(failed)?;
        }
        let width = stmt.column_count();
        let visible = plan.columns.len().min(width);
        let occurrences = match &plan.mode {
            Mode::Incremental(occurrences) => occurrences.as_slice(),
            Mode::Rerun(_) => &[],
        };
        let mut rows = Vec::new();
        let mut cursor = stmt.raw_query();
        while let Some(row) = cursor.next().map_err(failed)? {
            let values: Vec<Value> = (0..width)
                .map(|i| row.get::<_, Value>(i))
                .collect::<rusqlite::Result<_>>()
                .map_err(failed)?;
            let hidden = &values[width - plan.hidden()..];
            let occurrence_keys: Vec<Vec<u8>> = occurrences
                .iter()
                .enumerate()
                .map(|(i, occurrence)| {
                    let start = plan.key_start(i, width);
                    codec::encode(&values[start..start + occurrence.key.len()])
                })
                .collect();
            let key = (!occurrences.is_empty()).then(|| codec::encode(hidden));
            let own = values[..visible].to_vec();
            rows.push(Current {
                key,
                occurrence_keys,
                vals: codec::encode(&own),
                values: own,
            });
        }
        Ok(rows)
    }

    /// The edits a batch of changed rows makes to subscription `id`:
    /// `work` says, per occurrence, which changed keys it holds result
    /// rows of and which to re-run the query with.
    fn edits(
        &self,
        plan: &QueryPlan,
        id: &str,
        work: &BTreeMap<usize, Work>,
        changed: &Changed,
    ) -> Result<Vec<Edit>, PgError> {
        let Mode::Incremental(occurrences) = &plan.mode else {
            return self.full_edits(plan, id);
        };
        let mut old: BTreeMap<i64, StoredRow> = BTreeMap::new();
        let mut new: BTreeMap<Vec<u8>, Current> = BTreeMap::new();
        for (&index, work) in work {
            let Some(keys) = occurrences
                .get(index)
                .and_then(|occurrence| changed.get(&occurrence.table))
            else {
                continue;
            };
            for encoded in &work.held {
                for row in log::rows_joining(&self.log, id, index, encoded).map_err(internal)? {
                    old.insert(row.row_id, row);
                }
            }
            let values: Vec<&Vec<Value>> = work.run.iter().filter_map(|k| keys.get(k)).collect();
            if values.is_empty() {
                continue;
            }
            for row in self.run(plan, Some((index, &values)))? {
                if let Some(key) = row.key.clone() {
                    new.insert(key, row);
                }
            }
        }
        Ok(diff::by_key(
            old.into_values().collect(),
            new.into_values().collect(),
        ))
    }

    /// The edits turning subscription `id`'s materialized result into the
    /// query's whole result now.
    fn full_edits(&self, plan: &QueryPlan, id: &str) -> Result<Vec<Edit>, PgError> {
        let old = log::all_rows(&self.log, id).map_err(internal)?;
        let new = self.run(plan, None)?;
        Ok(match plan.mode {
            Mode::Incremental(_) => diff::by_key(old, new),
            Mode::Rerun(_) => diff::by_content(old, new),
        })
    }

    /// Applies `edits` to subscription `id`: materialized rows, change
    /// ids, the log; returns the notifications.
    fn apply(&mut self, id: &str, edits: Vec<Edit>) -> Result<Vec<Outgoing>, PgError> {
        if edits.is_empty() {
            return Ok(Vec::new());
        }
        let Some(subscription) = self.subscriptions.get_mut(id) else {
            return Ok(Vec::new());
        };
        let at = now_ms();
        let mut record = subscription.record.clone();
        let mut outgoing = Vec::with_capacity(edits.len());
        // Index changes, made once the transaction commits.
        let mut held: Vec<(usize, Vec<u8>)> = Vec::new();
        let mut released: Vec<(usize, Vec<u8>)> = Vec::new();
        let tx = self.log.unchecked_transaction().map_err(internal)?;
        for edit in edits {
            record.change_id += 1;
            let (op, row_id, values) = match edit {
                Edit::Insert(row) => {
                    let row_id = record.next_row;
                    record.next_row += 1;
                    log::insert_row(
                        &tx,
                        id,
                        row_id,
                        row.key.as_deref(),
                        &row.occurrence_keys,
                        &row.vals,
                    )
                    .map_err(internal)?;
                    held.extend(row.occurrence_keys.iter().cloned().enumerate());
                    (Op::Insert, row_id, row.values)
                }
                Edit::Update(row_id, row) => {
                    log::update_row(&tx, id, row_id, &row.vals).map_err(internal)?;
                    (Op::Update, row_id, row.values)
                }
                Edit::Delete(row_id) => {
                    released.extend(log::delete_row(&tx, id, row_id).map_err(internal)?);
                    (Op::Delete, row_id, Vec::new())
                }
            };
            let payload = payload::render(
                record.change_id,
                op,
                row_id,
                &subscription.plan.columns,
                &values,
            );
            log::append(
                &tx,
                id,
                record.change_id,
                at,
                &subscription.channel,
                &payload,
            )
            .map_err(internal)?;
            outgoing.push((subscription.channel.clone(), payload));
        }
        log::save(&tx, &record).map_err(internal)?;
        tx.commit().map_err(internal)?;
        subscription.record = record;
        if let Mode::Incremental(occurrences) = &subscription.plan.mode {
            let table = |occ: usize| occurrences.get(occ).map(|o| o.table.as_str());
            for (occ, key) in released {
                if let Some(table) = table(occ) {
                    let target: Target = (id.to_owned(), occ);
                    self.index.release(table, &key, &target);
                }
            }
            for (occ, key) in held {
                if let Some(table) = table(occ) {
                    self.index.hold(table, key, (id.to_owned(), occ));
                }
            }
        }
        Ok(outgoing)
    }
}

/// `plan`'s query restricted to rows whose occurrence `occurrence` has one
/// of `count` keys (bound as parameters, key column by key column): SQLite
/// pushes the restriction into the query, so it reads those rows by key.
pub(crate) fn restricted(
    plan: &QueryPlan,
    occurrences: &[super::plan::Occurrence],
    occurrence: usize,
    count: usize,
) -> String {
    let width = occurrences[occurrence].key.len();
    let columns: Vec<String> = (0..width)
        .map(|j| format!("\"__patina_k{occurrence}_{j}\""))
        .collect();
    let tuple = format!("({})", vec!["?"; width].join(", "));
    format!(
        "SELECT * FROM ({}) WHERE ({}) IN (VALUES {})",
        plan.sql,
        columns.join(", "),
        vec![tuple; count].join(", ")
    )
}
