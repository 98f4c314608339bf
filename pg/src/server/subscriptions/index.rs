//! Which subscriptions a changed row can affect, so the cost of a write
//! follows the rows it changed, not the subscriptions on its tables. A
//! target is one table occurrence of one incremental subscription's query.
//!
//! - Held keys: for each (table, encoded key), the targets holding a
//!   result row that joins that row, kept in step with the materialized
//!   results. A changed row can change or remove exactly their rows.
//! - Equality constants ([`super::constants`]): a changed row can enter a
//!   result through a target only if its current values satisfy the
//!   target's constraints; targets without any are unconstrained, every
//!   changed row of their table is a candidate for them.
//! - Re-run subscriptions (not incremental), by the tables they read: a
//!   batch re-runs those of the tables it changed.
//!
//! For each changed row this gives, per target, whether to look up the
//! result rows joining it (held) and whether to re-run the query
//! restricted to it (held, or admitted).

use std::collections::{BTreeMap, BTreeSet, HashMap};

use rusqlite::Connection;
use rusqlite::types::Value;

use super::constants::{Constraint, Norm, norm};
use super::plan::Occurrence;

/// One table occurrence (by index) of one subscription (by id).
pub(crate) type Target = (String, usize);

/// What to do for one target: the changed keys it holds rows of, and the
/// changed keys to re-run its query with (a superset).
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub(crate) struct Work {
    pub held: BTreeSet<Vec<u8>>,
    pub run: BTreeSet<Vec<u8>>,
}

/// The current values of changed rows of one table, in the order of
/// [`Index::columns`]; a key missing is a row that no longer exists.
pub(crate) type Current = HashMap<Vec<u8>, Vec<Norm>>;

#[derive(Debug, Default)]
pub(crate) struct Index {
    /// Table → encoded key → the targets holding rows joining it, with
    /// how many.
    held: HashMap<String, HashMap<Vec<u8>, HashMap<Target, usize>>>,
    /// Table → its targets with no constraint.
    unconstrained: HashMap<String, BTreeSet<Target>>,
    /// Table → column → constant → the targets whose first constraint is
    /// on that column and admits it.
    constants: HashMap<String, HashMap<String, HashMap<Norm, BTreeSet<Target>>>>,
    /// Each constrained target's table and constraints.
    constraints: HashMap<Target, (String, Vec<Constraint>)>,
    /// Table → its primary-key columns.
    keys: HashMap<String, Vec<String>>,
    /// Table (lower-cased) → the re-run subscriptions reading it.
    reruns: HashMap<String, BTreeSet<String>>,
}

impl Index {
    /// Adds the targets of incremental subscription `id`.
    pub fn add(&mut self, id: &str, occurrences: &[Occurrence]) {
        for (index, occurrence) in occurrences.iter().enumerate() {
            let target = (id.to_owned(), index);
            let table = occurrence.table.clone();
            self.keys
                .entry(table.clone())
                .or_insert_with(|| occurrence.key.clone());
            let Some(first) = occurrence.constraints.first() else {
                self.unconstrained.entry(table).or_default().insert(target);
                continue;
            };
            let by_value = self
                .constants
                .entry(table)
                .or_default()
                .entry(first.column.clone())
                .or_default();
            for value in &first.values {
                by_value
                    .entry(value.clone())
                    .or_default()
                    .insert(target.clone());
            }
            self.constraints.insert(
                target,
                (occurrence.table.clone(), occurrence.constraints.clone()),
            );
        }
    }

    /// Adds re-run subscription `id`, which reads `tables`.
    pub fn add_rerun<'a>(&mut self, id: &str, tables: impl IntoIterator<Item = &'a String>) {
        for table in tables {
            self.reruns
                .entry(table.to_lowercase())
                .or_default()
                .insert(id.to_owned());
        }
    }

    /// The re-run subscriptions reading `table` (lower-cased).
    pub fn reruns(&self, table: &str) -> impl Iterator<Item = &String> {
        self.reruns.get(table).into_iter().flatten()
    }

    /// Forgets everything of subscription `id`.
    pub fn remove(&mut self, id: &str) {
        for ids in self.reruns.values_mut() {
            ids.remove(id);
        }
        self.reruns.retain(|_, ids| !ids.is_empty());
        let mine = |target: &Target| target.0 == id;
        for keys in self.held.values_mut() {
            keys.retain(|_, targets| {
                targets.retain(|target, _| !mine(target));
                !targets.is_empty()
            });
        }
        self.held.retain(|_, keys| !keys.is_empty());
        for targets in self.unconstrained.values_mut() {
            targets.retain(|target| !mine(target));
        }
        self.unconstrained.retain(|_, targets| !targets.is_empty());
        for columns in self.constants.values_mut() {
            for values in columns.values_mut() {
                values.retain(|_, targets| {
                    targets.retain(|target| !mine(target));
                    !targets.is_empty()
                });
            }
            columns.retain(|_, values| !values.is_empty());
        }
        self.constants.retain(|_, columns| !columns.is_empty());
        self.constraints.retain(|target, _| !mine(target));
    }

    /// Records that a result row of `target` joins the row of `table`
    /// with encoded key `key`.
    pub fn hold(&mut self, table: &str, key: Vec<u8>, target: Target) {
        *self
            .held
            .entry(table.to_owned())
            .or_default()
            .entry(key)
            .or_default()
            .entry(target)
            .or_default() += 1;
    }

    /// Undoes one [`Index::hold`].
    pub fn release(&mut self, table: &str, key: &[u8], target: &Target) {
        let Some(keys) = self.held.get_mut(table) else {
            return;
        };
        let Some(targets) = keys.get_mut(key) else {
            return;
        };
        if let Some(count) = targets.get_mut(target) {
            *count -= 1;
            if *count == 0 {
                targets.remove(target);
            }
        }
        if targets.is_empty() {
            keys.remove(key);
        }
        if keys.is_empty() {
            self.held.remove(table);
        }
    }

    /// The columns of `table` some target constrains, in a fixed order.
    pub fn columns(&self, table: &str) -> Vec<String> {
        let columns: BTreeSet<&String> = self
            .constraints
            .values()
            .filter(|(on, _)| on == table)
            .flat_map(|(_, constraints)| constraints.iter().map(|c| &c.column))
            .collect();
        columns.into_iter().cloned().collect()
    }

    /// Reads the current values of `columns` of the changed rows `keys`
    /// (encoded key → key values) of `table` through `conn`; `None` if
    /// they cannot be read (every constrained target is then a candidate).
    pub fn read(
        &self,
        conn: &Connection,
        table: &str,
        columns: &[String],
        keys: &BTreeMap<Vec<u8>, Vec<Value>>,
    ) -> Option<Current> {
        let key_columns = self.keys.get(table)?;
        let sql = format!(
            "SELECT {} FROM {} WHERE {}",
            columns
                .iter()
                .map(|c| quote(c))
                .collect::<Vec<_>>()
                .join(", "),
            quote(table),
            key_columns
                .iter()
                .enumerate()
                .map(|(i, c)| format!("{} = ?{}", quote(c), i + 1))
                .collect::<Vec<_>>()
                .join(" AND ")
        );
        let read = || -> rusqlite::Result<Current> {
            let mut stmt = conn.prepare_cached(&sql)?;
            let mut current = Current::new();
            for (encoded, values) in keys {
                let mut rows = stmt.query(rusqlite::params_from_iter(values))?;
                if let Some(row) = rows.next()? {
                    let values = (0..columns.len())
                        .map(|i| row.get::<_, Value>(i).map(|v| norm(&v)))
                        .collect::<rusqlite::Result<_>>()?;
                    current.insert(encoded.clone(), values);
                }
            }
            Ok(current)
        };
        match read() {
            Ok(current) => Some(current),
            Err(error) => {
                tracing::warn!(%table, %error, "reading changed rows for the subscription index failed: checking every subscription on the table");
                None
            }
        }
    }

    /// The work changed rows `keys` of `table` make, per target;
    /// `current`: their values of `columns` (`None`: unknown).
    pub fn candidates<'k>(
        &self,
        table: &str,
        keys: impl IntoIterator<Item = &'k Vec<u8>>,
        columns: &[String],
        current: Option<&Current>,
    ) -> BTreeMap<Target, Work> {
        let mut work: BTreeMap<Target, Work> = BTreeMap::new();
        let held = self.held.get(table);
        let unconstrained = self.unconstrained.get(table);
        let constants = self.constants.get(table);
        for key in keys {
            if let Some(targets) = held.and_then(|held| held.get(key)) {
                for target in targets.keys() {
                    let entry = work.entry(target.clone()).or_default();
                    entry.held.insert(key.clone());
                    entry.run.insert(key.clone());
                }
            }
            let mut run = |target: &Target| {
                work.entry(target.clone())
                    .or_default()
                    .run
                    .insert(key.clone());
            };
            let Some(current) = current else {
                // Nothing known of the row: it may enter anywhere.
                unconstrained.into_iter().flatten().for_each(&mut run);
                for values in constants.into_iter().flat_map(HashMap::values) {
                    values.values().flatten().for_each(&mut run);
                }
                continue;
            };
            // A row that no longer exists enters no result.
            let Some(values) = current.get(key) else {
                continue;
            };
            unconstrained.into_iter().flatten().for_each(&mut run);
            let Some(constants) = constants else {
                continue;
            };
            let value_of = |column: &str| {
                columns
                    .iter()
                    .position(|c| c == column)
                    .and_then(|i| values.get(i))
            };
            for (column, by_value) in constants {
                let Some(targets) = value_of(column).and_then(|value| by_value.get(value)) else {
                    continue;
                };
                for target in targets {
                    let admitted = self.constraints.get(target).is_none_or(|(_, constraints)| {
                        constraints.iter().all(|constraint| {
                            // A column not read cannot rule the row out.
                            value_of(&constraint.column).is_none_or(|v| constraint.admits(v))
                        })
                    });
                    if admitted {
                        run(target);
                    }
                }
            }
        }
        work
    }
}

fn quote(identifier: &str) -> String {
    format!("\"{}\"", identifier.replace('"', "\"\""))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn occurrence(table: &str, constraints: &[(&str, &[i64])]) -> Occurrence {
        Occurrence {
            table: table.to_owned(),
            key: vec!["id".to_owned()],
            constraints: constraints
                .iter()
                .map(|(column, values)| Constraint {
                    column: (*column).to_owned(),
                    values: values.iter().map(|v| Norm::Int(*v)).collect(),
                })
                .collect(),
        }
    }

    fn target(id: &str, occ: usize) -> Target {
        (id.to_owned(), occ)
    }

    fn key(k: u8) -> Vec<u8> {
        vec![k]
    }

    /// `SELECT … FROM t WHERE a = <a>` for a = 0..100 ("s<a>"), one
    /// `… WHERE a IN (1, 2) AND b = 7` ("both") and one unconstrained
    /// join ("join": occurrences t (unconstrained), u).
    fn index() -> Index {
        let mut index = Index::default();
        for a in 0..100 {
            index.add(&format!("s{a}"), &[occurrence("t", &[("a", &[a])])]);
        }
        index.add("both", &[occurrence("t", &[("a", &[1, 2]), ("b", &[7])])]);
        index.add("join", &[occurrence("t", &[]), occurrence("u", &[])]);
        index
    }

    fn runs(work: &BTreeMap<Target, Work>) -> Vec<(Target, Vec<Vec<u8>>)> {
        work.iter()
            .map(|(target, work)| (target.clone(), work.run.iter().cloned().collect()))
            .collect()
    }

    #[test]
    fn a_changed_row_is_a_candidate_only_where_its_values_match() {
        let index = index();
        let columns = index.columns("t");
        assert_eq!(columns, ["a", "b"]);
        let current: Current = [
            (key(1), vec![Norm::Int(42), Norm::Int(0)]),
            (key(2), vec![Norm::Int(2), Norm::Int(7)]),
        ]
        .into();
        let work = index.candidates("t", &[key(1), key(2), key(3)], &columns, Some(&current));
        assert_eq!(
            runs(&work),
            [
                (target("both", 0), vec![key(2)]),
                (target("join", 0), vec![key(1), key(2)]),
                (target("s2", 0), vec![key(2)]),
                (target("s42", 0), vec![key(1)]),
            ]
        );
        assert!(work.values().all(|work| work.held.is_empty()));
        // Only the unconstrained occurrence of "join" reads u.
        let work = index.candidates("u", &[key(1)], &[], None);
        assert_eq!(runs(&work), [(target("join", 1), vec![key(1)])]);
    }

    #[test]
    fn held_rows_are_looked_at_whatever_their_values_now() {
        let mut index = index();
        index.hold("t", key(5), target("s5", 0));
        index.hold("t", key(5), target("s5", 0));
        let columns = index.columns("t");
        // Row 5 now has a = 6, and row 6 is gone.
        let current: Current = [(key(5), vec![Norm::Int(6), Norm::Null])].into();
        let work = index.candidates("t", &[key(5), key(6)], &columns, Some(&current));
        assert_eq!(
            runs(&work),
            [
                (target("join", 0), vec![key(5)]),
                (target("s5", 0), vec![key(5)]),
                (target("s6", 0), vec![key(5)]),
            ]
        );
        assert_eq!(work[&target("s5", 0)].held, [key(5)].into());
        // Held twice: released once, still held.
        index.release("t", &key(5), &target("s5", 0));
        let work = index.candidates("t", &[key(5)], &columns, Some(&Current::new()));
        assert_eq!(work[&target("s5", 0)].held, [key(5)].into());
        index.release("t", &key(5), &target("s5", 0));
        let work = index.candidates("t", &[key(5)], &columns, Some(&Current::new()));
        assert!(work.is_empty(), "{work:?}");
    }

    #[test]
    fn unknown_values_make_every_target_a_candidate() {
        let index = index();
        let columns = index.columns("t");
        let work = index.candidates("t", &[key(9)], &columns, None);
        assert_eq!(work.len(), 102);
    }

    #[test]
    fn removing_a_subscription_forgets_it() {
        let mut index = index();
        index.hold("t", key(3), target("s3", 0));
        index.remove("s3");
        index.remove("both");
        assert_eq!(index.columns("t"), ["a"]);
        let current: Current = [(key(3), vec![Norm::Int(3)])].into();
        let work = index.candidates("t", &[key(3)], &["a".to_owned()], Some(&current));
        assert_eq!(runs(&work), [(target("join", 0), vec![key(3)])]);
    }
}
