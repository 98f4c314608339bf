//! Applying one change set's cells. Consecutive changes of one row are
//! merged against a single read of the row's state, kept up to date in
//! memory, and their writes go out together at the end of the run: one
//! write of the table row and one of its clock row (a new life of the row,
//! as in a catch-up, is one upsert of each), instead of a read and three
//! statements per cell. The outcome is the same as applying the changes
//! one by one, in order (see [`RowRun`] for how).

use std::cmp::Ordering;

use rusqlite::{ToSql, params_from_iter};

use crate::row_state::{RowState, Stamp};
use crate::schema::{
    Registry, TableInfo, clocks_update, life_writer_update, row_upsert, values_update,
};
use crate::sites::Sites;
use crate::{Change, MergeError, SiteId, Value, pack};

use super::MergeOutcome;
use super::statements::{Kind, Statements};

/// The writer of one change set, applying its cells.
pub(super) struct Cell<'a, 'conn> {
    pub statements: &'a Statements<'conn>,
    pub sites: &'a Sites,
    pub ord: i64,
    pub site_id: SiteId,
    pub db_version: u64,
}

/// Consecutive changes of one row being applied.
///
/// `state` mirrors what reading the row back would give, as far as merge
/// looks at it: the life and every column clock exactly; a column's value
/// only where its clock is set (a new life clears every clock, and a value
/// is compared only against a set clock). A value written in this run is
/// stored with the column's affinity, which the mirror does not know, so a
/// second change of the same column in one run first writes out the run
/// and reads the row again.
struct RowRun<'c> {
    table: &'c TableInfo,
    pk: &'c [Value],
    state: Option<RowState>,
    /// A new life of the row to write (its causal length): the table row
    /// is created (odd) or deleted (even), and the clock row is written
    /// whole, every column clock not in `clocks` cleared.
    life: Option<u64>,
    /// Per column, a value to write (set together with its clock).
    values: Vec<Option<&'c Value>>,
    /// Per column, the col_version of a clock to write.
    clocks: Vec<Option<u64>>,
    /// Columns written (or re-clocked) in this run.
    touched: Vec<bool>,
    /// The version-log entry for this row and change set is written.
    logged: bool,
}

impl<'c> RowRun<'c> {
    fn life(&self) -> u64 {
        self.state.as_ref().map_or(0, |s| s.life.version)
    }

    fn has_pending(&self) -> bool {
        self.life.is_some() || self.clocks.iter().any(Option::is_some)
    }
}

impl Cell<'_, '_> {
    /// Applies `changes`; true if any cell changed.
    pub fn apply_all(
        &self,
        registry: &Registry,
        changes: &[&Change],
        outcome: &mut MergeOutcome,
    ) -> Result<bool, MergeError> {
        let mut changed = false;
        let mut run: Option<RowRun<'_>> = None;
        // Changes come table by table: the last lookup usually answers.
        let mut last: Option<(&str, &TableInfo)> = None;
        for change in changes {
            let table = match last {
                Some((name, table)) if name == change.table => table,
                _ => {
                    let table =
                        registry
                            .get(&change.table)
                            .ok_or_else(|| MergeError::UnknownTable {
                                table: change.table.clone(),
                            })?;
                    last = Some((&change.table, table));
                    table
                }
            };
            let column = validate(table, change)?;
            let same_row = run
                .as_ref()
                .is_some_and(|r| r.table.id == table.id && r.pk == change.pk.as_slice());
            let mut current = match run.take() {
                Some(r) if same_row => r,
                previous => {
                    if let Some(mut r) = previous {
                        self.flush(&mut r)?;
                    }
                    self.start(table, &change.pk)?
                }
            };
            if self.apply(&mut current, column, change)? {
                outcome.cells_changed += 1;
                changed = true;
            }
            run = Some(current);
        }
        if let Some(mut r) = run {
            self.flush(&mut r)?;
        }
        Ok(changed)
    }

    fn start<'c>(&self, table: &'c TableInfo, pk: &'c [Value]) -> rusqlite::Result<RowRun<'c>> {
        let n = table.columns.len();
        Ok(RowRun {
            table,
            pk,
            state: self.statements.row_state(table, pk)?,
            life: None,
            values: vec![None; n],
            clocks: vec![None; n],
            touched: vec![false; n],
            logged: false,
        })
    }

    /// Applies one change to the run; true if the table or its row's life
    /// changed.
    fn apply<'c>(
        &self,
        run: &mut RowRun<'c>,
        column: Option<usize>,
        change: &'c Change,
    ) -> Result<bool, MergeError> {
        let cl = change.causal_length;
        let Some(i) = column else {
            if cl == run.life() {
                self.claim_life(run, change)?;
            }
            if cl <= run.life() {
                return Ok(false);
            }
            self.flush(run)?;
            self.set_life(run, change)?;
            return Ok(true);
        };

        if cl.is_multiple_of(2) {
            return Err(malformed(
                run.table,
                "a column change with an even causal length",
            ));
        }
        if run.touched[i] {
            self.flush(run)?;
            *run = self.start(run.table, run.pk)?;
        }
        let life = run.life();
        if cl < life {
            return Ok(false);
        }
        if cl > life {
            // A newer life of the row: it exists now, and its clocks restart.
            self.flush(run)?;
            self.set_life(run, change)?;
        } else if let Some((local, current)) = run
            .state
            .as_ref()
            .and_then(|s| s.cells[i].map(|stamp| (stamp, &s.values[i])))
        {
            let order = change
                .col_version
                .cmp(&local.version)
                .then_with(|| change.value.merge_cmp(current));
            match order {
                Ordering::Less => return Ok(false),
                Ordering::Equal => {
                    // Same bytes: only the recorded writer may move, to the higher site.
                    if self
                        .sites
                        .id(local.site)
                        .is_some_and(|id| self.site_id > id)
                    {
                        self.set_clock(run, i, change.col_version);
                        self.log(run, change)?;
                    }
                    return Ok(false);
                }
                Ordering::Greater => {}
            }
        }
        run.values[i] = Some(&change.value);
        if let Some(state) = run.state.as_mut() {
            state.values[i] = change.value.clone();
        }
        self.set_clock(run, i, change.col_version);
        self.log(run, change)?;
        Ok(true)
    }

    /// The row's current life, from another site: like equal values, its
    /// recorded writer moves only to a higher site id, so every replica
    /// records the same one whatever order the change sets arrive in. A
    /// life pending in this run is this change set's own (same site).
    fn claim_life(&self, run: &mut RowRun<'_>, change: &Change) -> rusqlite::Result<()> {
        let Some(state) = run.state.as_mut() else {
            return Ok(());
        };
        if self
            .sites
            .id(state.life.site)
            .is_none_or(|id| self.site_id <= id)
        {
            return Ok(());
        }
        state.life = self.stamp(change.causal_length);
        let sql = life_writer_update(&run.table.clock, &run.table.pk);
        self.run_sql(&sql, run.pk, &[&(self.db_version as i64), &self.ord])?;
        self.log(run, change)
    }

    /// Sets the row's causal length to the change's, clearing column clocks
    /// (written when the run is flushed; nothing is pending before).
    fn set_life(&self, run: &mut RowRun<'_>, change: &Change) -> rusqlite::Result<()> {
        run.life = Some(change.causal_length);
        let n = run.table.columns.len();
        run.state = Some(RowState {
            life: self.stamp(change.causal_length),
            cells: vec![None; n],
            // Never compared while the clocks are clear (see `RowRun`).
            values: vec![Value::Null; n],
        });
        self.log(run, change)
    }

    /// Records a clock for column `i` to write when the run ends.
    fn set_clock(&self, run: &mut RowRun<'_>, i: usize, col_version: u64) {
        run.clocks[i] = Some(col_version);
        run.touched[i] = true;
        let stamp = self.stamp(col_version);
        if let Some(state) = run.state.as_mut() {
            state.cells[i] = Some(stamp);
        }
    }

    fn stamp(&self, version: u64) -> Stamp {
        Stamp {
            version,
            db_version: self.db_version,
            site: self.ord,
        }
    }

    /// Records that this change set wrote the change's row, for relaying
    /// (once per run: the first entry of a row and change set stands).
    fn log(&self, run: &mut RowRun<'_>, change: &Change) -> rusqlite::Result<()> {
        if run.logged {
            return Ok(());
        }
        run.logged = true;
        self.statements.log(&[
            &self.ord,
            &(self.db_version as i64),
            &run.table.id,
            &pack::pack_values(run.pk),
            &(change.seq as i64),
        ])
    }

    /// Writes the run's pending life, values and clocks: one write of the
    /// table row and one of its clock row (each prepared once per table
    /// when it writes every column, as for a new row).
    fn flush(&self, run: &mut RowRun<'_>) -> rusqlite::Result<()> {
        if !run.has_pending() {
            return Ok(());
        }
        let table = run.table;
        let values: Vec<(usize, &Value)> = run
            .values
            .iter()
            .enumerate()
            .filter_map(|(i, v)| v.map(|v| (i, v)))
            .collect();
        let extra: Vec<&dyn ToSql> = values.iter().map(|(_, v)| *v as &dyn ToSql).collect();
        let every = values.len() == table.columns.len();
        let columns =
            || -> Vec<&String> { values.iter().map(|(i, _)| &table.columns[*i]).collect() };
        match run.life {
            Some(cl) if cl.is_multiple_of(2) => {
                self.statements.run(table, Kind::RowDelete, run.pk, &[])?
            }
            Some(_) if values.is_empty() => {
                self.statements.run(table, Kind::RowCreate, run.pk, &[])?
            }
            Some(_) if every => self.statements.run(table, Kind::RowPut, run.pk, &extra)?,
            Some(_) => self.run_sql(
                &row_upsert(&table.name, &table.pk, &columns()),
                run.pk,
                &extra,
            )?,
            None if values.is_empty() => {}
            None if every => self
                .statements
                .run(table, Kind::ValuesPut, run.pk, &extra)?,
            None => self.run_sql(
                &values_update(&table.name, &table.pk, &columns()),
                run.pk,
                &extra,
            )?,
        }

        let db_version = self.db_version as i64;
        if let Some(cl) = run.life
            && run.clocks.iter().all(Option::is_none)
        {
            let extra: [&dyn ToSql; 3] = [&(cl as i64), &db_version, &self.ord];
            self.statements.run(table, Kind::LifePut, run.pk, &extra)?;
        } else if let Some(cl) = run.life {
            // The whole clock row: the life, then each column's clock or none.
            let cl = cl as i64;
            let clocks: Vec<Option<i64>> = run.clocks.iter().map(|c| c.map(|c| c as i64)).collect();
            let mut extra: Vec<&dyn ToSql> = vec![&cl, &db_version, &self.ord];
            for clock in &clocks {
                match clock {
                    Some(cv) => extra.extend([cv as &dyn ToSql, &db_version, &self.ord]),
                    None => extra.extend([&0i64 as &dyn ToSql, &None::<i64>, &None::<i64>]),
                }
            }
            self.statements
                .run(table, Kind::ClocksRowPut, run.pk, &extra)?;
        } else {
            let clocks: Vec<(usize, i64)> = run
                .clocks
                .iter()
                .enumerate()
                .filter_map(|(i, c)| c.map(|c| (i, c as i64)))
                .collect();
            let mut extra: Vec<&dyn ToSql> = vec![&db_version, &self.ord];
            extra.extend(clocks.iter().map(|(_, cv)| cv as &dyn ToSql));
            if clocks.len() == table.columns.len() {
                self.statements
                    .run(table, Kind::ClocksPut, run.pk, &extra)?;
            } else {
                let columns: Vec<&String> =
                    clocks.iter().map(|(i, _)| &table.columns[*i]).collect();
                let sql = clocks_update(&table.clock, &table.pk, &columns);
                self.run_sql(&sql, run.pk, &extra)?;
            }
        }
        run.life = None;
        run.values.fill(None);
        run.clocks.fill(None);
        run.touched.fill(false);
        Ok(())
    }

    /// Runs `sql` (a statement for some of a table's columns) with the key
    /// values, then `extra`, as parameters.
    fn run_sql(&self, sql: &str, pk: &[Value], extra: &[&dyn ToSql]) -> rusqlite::Result<()> {
        let mut stmt = self.statements.conn().prepare_cached(sql)?;
        let params = pk
            .iter()
            .map(|v| v as &dyn ToSql)
            .chain(extra.iter().copied());
        stmt.execute(params_from_iter(params))?;
        Ok(())
    }
}

fn malformed(table: &TableInfo, reason: &str) -> MergeError {
    MergeError::Malformed {
        table: table.name.clone(),
        reason: reason.to_owned(),
    }
}

/// Checks a change against its table; the index of its column, `None` for
/// the row's life.
fn validate(table: &TableInfo, change: &Change) -> Result<Option<usize>, MergeError> {
    if change.pk.len() != table.pk.len() {
        return Err(malformed(
            table,
            "primary key has the wrong number of values",
        ));
    }
    let column = match &change.column {
        Some(name) => Some(
            table
                .column_index(name)
                .ok_or_else(|| MergeError::UnknownColumn {
                    table: table.name.clone(),
                    column: name.clone(),
                })?,
        ),
        None => None,
    };
    let cl = change.causal_length;
    if cl == 0 || cl > i64::MAX as u64 || change.col_version > i64::MAX as u64 {
        return Err(malformed(
            table,
            "causal length or col_version out of range",
        ));
    }
    Ok(column)
}
