//! Diffing a materialized result against rows the query returns now:
//! by key for incremental queries (a row whose key stays but whose values
//! change is an update), by content for re-run ones (rows are a multiset;
//! one row replaced by one other is an update of it).

use std::collections::HashMap;

use rusqlite::types::Value;

use super::log::StoredRow;

/// A result row as the query returns it now.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Current {
    /// The encoded keys of all the rows it joins (incremental only).
    pub key: Option<Vec<u8>>,
    /// Each occurrence's encoded key (incremental only).
    pub occurrence_keys: Vec<Vec<u8>>,
    /// The encoded values.
    pub vals: Vec<u8>,
    /// The values, of the query's own columns.
    pub values: Vec<Value>,
}

/// One change to the materialized result.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Edit {
    Insert(Current),
    Update(i64, Current),
    Delete(i64),
}

/// The edits turning `old` into `new`, rows matched by key: deletes,
/// then updates, then inserts (in `new`'s order).
pub(crate) fn by_key(old: Vec<StoredRow>, new: Vec<Current>) -> Vec<Edit> {
    let mut old: HashMap<Vec<u8>, StoredRow> = old
        .into_iter()
        .filter_map(|row| Some((row.key.clone()?, row)))
        .collect();
    let mut updates = Vec::new();
    let mut inserts = Vec::new();
    for row in new {
        let Some(key) = &row.key else { continue };
        match old.remove(key) {
            Some(stored) if stored.vals == row.vals => {}
            Some(stored) => updates.push(Edit::Update(stored.row_id, row)),
            None => inserts.push(Edit::Insert(row)),
        }
    }
    let mut deletes: Vec<i64> = old.into_values().map(|row| row.row_id).collect();
    deletes.sort_unstable();
    deletes
        .into_iter()
        .map(Edit::Delete)
        .chain(updates)
        .chain(inserts)
        .collect()
}

/// The edits turning `old` into `new`, rows matched by content.
pub(crate) fn by_content(old: Vec<StoredRow>, new: Vec<Current>) -> Vec<Edit> {
    let mut unmatched: HashMap<Vec<u8>, Vec<i64>> = HashMap::new();
    for row in old {
        unmatched.entry(row.vals).or_default().push(row.row_id);
    }
    let mut added = Vec::new();
    for row in new {
        match unmatched.get_mut(&row.vals).and_then(Vec::pop) {
            Some(_) => {}
            None => added.push(row),
        }
    }
    let mut removed: Vec<i64> = unmatched.into_values().flatten().collect();
    removed.sort_unstable();
    if let ([row_id], [_]) = (removed.as_slice(), added.as_slice()) {
        let row_id = *row_id;
        return added
            .into_iter()
            .map(|row| Edit::Update(row_id, row))
            .collect();
    }
    removed
        .into_iter()
        .map(Edit::Delete)
        .chain(added.into_iter().map(Edit::Insert))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn current(key: Option<&[u8]>, vals: &[u8]) -> Current {
        Current {
            key: key.map(<[u8]>::to_vec),
            occurrence_keys: Vec::new(),
            vals: vals.to_vec(),
            values: Vec::new(),
        }
    }

    fn stored(row_id: i64, key: Option<&[u8]>, vals: &[u8]) -> StoredRow {
        StoredRow {
            row_id,
            key: key.map(<[u8]>::to_vec),
            vals: vals.to_vec(),
        }
    }

    #[test]
    fn by_key_finds_inserts_updates_deletes() {
        let old = vec![
            stored(1, Some(b"a"), b"1"),
            stored(2, Some(b"b"), b"2"),
            stored(3, Some(b"c"), b"3"),
        ];
        let new = vec![
            current(Some(b"a"), b"1"),
            current(Some(b"b"), b"20"),
            current(Some(b"d"), b"4"),
        ];
        assert_eq!(
            by_key(old, new),
            vec![
                Edit::Delete(3),
                Edit::Update(2, current(Some(b"b"), b"20")),
                Edit::Insert(current(Some(b"d"), b"4")),
            ]
        );
    }

    #[test]
    fn by_content_is_a_multiset_diff() {
        let old = vec![
            stored(1, None, b"x"),
            stored(2, None, b"x"),
            stored(3, None, b"y"),
        ];
        let new = vec![
            current(None, b"x"),
            current(None, b"z"),
            current(None, b"w"),
        ];
        assert_eq!(
            by_content(old, new),
            vec![
                Edit::Delete(1),
                Edit::Delete(3),
                Edit::Insert(current(None, b"z")),
                Edit::Insert(current(None, b"w")),
            ]
        );
        let old = vec![stored(7, None, b"5")];
        assert_eq!(
            by_content(old, vec![current(None, b"6")]),
            vec![Edit::Update(7, current(None, b"6"))]
        );
    }
}
