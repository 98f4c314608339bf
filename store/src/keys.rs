//! The primary key a change set's rows were written under. A change's key
//! values are positional ([`Change::pk`]), so they name the same row on
//! another node only if its table has the same key columns. Two nodes that
//! concurrently create a table with different keys disagree until the
//! losing side rebuilds its table under the cluster's definition
//! (`schema::rebuild`); until then, versions written under the other key
//! are refused (never applied to the wrong columns, never recorded as
//! applied), and anti-entropy fetches them again: by then either this node
//! has the writer's key, or the writer has rebuilt, re-captured its rows
//! under the cluster's key, and reports the old version cleared.

use crate::change::Keys;
use crate::schema::Registry;
use crate::{Change, ChangeSet, MergeError};

/// The key of every table `changes` name, from `registry`.
pub(crate) fn of(registry: &Registry, changes: &[Change]) -> Keys {
    let mut keys = Keys::new();
    let mut last: Option<&str> = None;
    for change in changes {
        // A version's changes come table by table.
        if last == Some(change.table.as_str()) {
            continue;
        }
        last = Some(&change.table);
        let name = change.table.to_ascii_lowercase();
        if keys.contains_key(&name) {
            continue;
        }
        if let Some(table) = registry.get(&name) {
            keys.insert(name, lower(&table.pk));
        }
    }
    keys
}

/// Refuses `set` if any of its `data` changes is for a table this node
/// keys differently. Tables this node does not have are left to the merge.
pub(crate) fn check(
    registry: &Registry,
    set: &ChangeSet,
    data: &[&Change],
) -> Result<(), MergeError> {
    // A version's changes come table by table: each table is checked once.
    let mut checked: Vec<&str> = Vec::new();
    for change in data {
        if checked
            .iter()
            .any(|t| t.eq_ignore_ascii_case(&change.table))
        {
            continue;
        }
        checked.push(&change.table);
        let Some(table) = registry.get(&change.table) else {
            continue;
        };
        let theirs = set
            .keys
            .get(&table.name.to_ascii_lowercase())
            .ok_or_else(|| MergeError::Malformed {
                table: table.name.clone(),
                reason: "the change set does not say the table's key".to_owned(),
            })?;
        let same = theirs.len() == table.pk.len()
            && theirs
                .iter()
                .zip(&table.pk)
                .all(|(a, b)| a.eq_ignore_ascii_case(b));
        if !same {
            return Err(MergeError::KeyMismatch {
                table: table.name.clone(),
                theirs: theirs.join(", "),
                ours: lower(&table.pk).join(", "),
            });
        }
    }
    Ok(())
}

fn lower(columns: &[String]) -> Vec<String> {
    columns.iter().map(|c| c.to_ascii_lowercase()).collect()
}
