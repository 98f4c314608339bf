//! Cutting versions into chunks that travel, and grouping chunks into
//! messages, by an estimate of their encoded size.

use patina_store::{Change, ChangeSet, Keys, Value, Versions};

use crate::message::Chunk;

/// Fixed cost of a change row besides its strings and values: the clocks,
/// the seq, enum tags and length prefixes.
const CHANGE_OVERHEAD: usize = 32;
/// Fixed cost of a chunk: site id, version, part numbers, tags.
const CHUNK_OVERHEAD: usize = 40;

fn value_size(value: &Value) -> usize {
    match value {
        Value::Null => 1,
        Value::Integer(_) | Value::Real(_) => 9,
        Value::Text(text) => text.len() + 5,
        Value::Blob(blob) => blob.len() + 5,
    }
}

/// An estimate of a change row's encoded size (an upper bound for postcard).
pub fn change_size(change: &Change) -> usize {
    CHANGE_OVERHEAD
        + change.table.len()
        + change.column.as_ref().map_or(0, String::len)
        + change.pk.iter().map(value_size).sum::<usize>()
        + value_size(&change.value)
}

/// An estimate of the encoded size of a version's keys (every part of it
/// carries them).
fn keys_size(keys: &Keys) -> usize {
    5 + keys
        .iter()
        .map(|(table, key)| table.len() + 10 + key.iter().map(|c| c.len() + 5).sum::<usize>())
        .sum::<usize>()
}

/// An estimate of a chunk's encoded size.
pub fn chunk_size(chunk: &Chunk) -> usize {
    match chunk {
        Chunk::Changes { changes, keys, .. } => {
            CHUNK_OVERHEAD + keys_size(keys) + changes.iter().map(change_size).sum::<usize>()
        }
        Chunk::Cleared { .. } => CHUNK_OVERHEAD,
    }
}

/// Cuts versions into chunks: a version whose changes are estimated above
/// `max_bytes` is split into parts (each holding at least one change, in
/// order), a smaller one travels whole as one part, a cleared run as one
/// chunk. The receiver applies a version only once it has all its parts.
///
/// Used by [`Node::local_changes`](super::Node::local_changes), and by the
/// driver on the versions it reads from the store to answer a sync request.
pub fn chunk_versions(versions: Vec<Versions>, max_bytes: usize) -> Vec<Chunk> {
    let mut chunks = Vec::with_capacity(versions.len());
    for item in versions {
        match item {
            Versions::Cleared { site_id, versions } => chunks.push(Chunk::Cleared {
                site: site_id,
                versions,
            }),
            Versions::Changed(ChangeSet {
                site_id,
                db_version,
                changes,
                keys,
            }) => {
                let overhead = CHUNK_OVERHEAD + keys_size(&keys);
                let groups = split(changes, max_bytes.saturating_sub(overhead));
                let parts = u32::try_from(groups.len()).unwrap_or(u32::MAX);
                for (part, changes) in (0..parts).zip(groups) {
                    chunks.push(Chunk::Changes {
                        site: site_id,
                        version: db_version,
                        part,
                        parts,
                        changes,
                        keys: keys.clone(),
                    });
                }
            }
        }
    }
    chunks
}

/// Splits changes into consecutive groups of at most `max_bytes` (estimated;
/// a single larger change gets a group of its own). Always at least one
/// group, possibly empty.
fn split(changes: Vec<Change>, max_bytes: usize) -> Vec<Vec<Change>> {
    let mut groups = vec![Vec::new()];
    let mut size = 0;
    for change in changes {
        let bytes = change_size(&change);
        if size + bytes > max_bytes && size > 0 {
            groups.push(Vec::new());
            size = 0;
        }
        size += bytes;
        if let Some(group) = groups.last_mut() {
            group.push(change);
        }
    }
    groups
}

/// Groups chunks, in order, into batches of at most `max_bytes` estimated
/// (a larger chunk goes alone): one batch per message.
pub fn batch_chunks(chunks: Vec<Chunk>, max_bytes: usize) -> Vec<Vec<Chunk>> {
    let mut batches: Vec<Vec<Chunk>> = Vec::new();
    let mut size = 0;
    for chunk in chunks {
        let bytes = chunk_size(&chunk);
        match batches.last_mut() {
            Some(batch) if size + bytes <= max_bytes => batch.push(chunk),
            _ => {
                batches.push(vec![chunk]);
                size = 0;
            }
        }
        size += bytes;
    }
    batches
}

#[cfg(test)]
mod tests {
    use patina_store::SiteId;

    use super::*;

    fn change(i: i64, text: usize) -> Change {
        Change {
            table: "kv".to_owned(),
            pk: vec![Value::Integer(i)],
            column: Some("v".to_owned()),
            value: Value::Text("x".repeat(text)),
            col_version: 1,
            causal_length: 1,
            seq: i as u64,
        }
    }

    fn set(version: u64, changes: Vec<Change>) -> Versions {
        Versions::Changed(ChangeSet {
            site_id: SiteId([1; 16]),
            db_version: version,
            changes,
            keys: Keys::new(),
        })
    }

    #[test]
    fn small_versions_travel_whole() {
        let chunks = chunk_versions(
            vec![
                set(1, vec![change(1, 10), change(2, 10)]),
                Versions::Cleared {
                    site_id: SiteId([1; 16]),
                    versions: 2..=4,
                },
                set(5, vec![]),
            ],
            1000,
        );
        assert_eq!(chunks.len(), 3);
        assert!(matches!(
            &chunks[0],
            Chunk::Changes { version: 1, part: 0, parts: 1, changes, .. } if changes.len() == 2
        ));
        assert!(matches!(&chunks[1], Chunk::Cleared { versions, .. } if *versions == (2..=4)));
        assert!(matches!(
            &chunks[2],
            Chunk::Changes { version: 5, part: 0, parts: 1, changes, .. } if changes.is_empty()
        ));
    }

    #[test]
    fn large_versions_split_in_order_under_the_bound() {
        let changes: Vec<Change> = (0..100).map(|i| change(i, 100)).collect();
        let chunks = chunk_versions(vec![set(7, changes.clone())], 1000);
        assert!(chunks.len() > 10);
        let mut rejoined = Vec::new();
        for (i, chunk) in chunks.iter().enumerate() {
            let Chunk::Changes {
                version,
                part,
                parts,
                changes,
                ..
            } = chunk
            else {
                panic!("expected changes");
            };
            assert_eq!(
                (*version, *part as usize, *parts as usize),
                (7, i, chunks.len())
            );
            assert!(chunk_size(chunk) <= 1000);
            rejoined.extend(changes.iter().cloned());
        }
        assert_eq!(rejoined, changes);
    }

    #[test]
    fn an_oversized_change_gets_its_own_part() {
        let chunks = chunk_versions(vec![set(1, vec![change(1, 5000), change(2, 1)])], 1000);
        assert_eq!(chunks.len(), 2);
    }

    #[test]
    fn batches_stay_under_the_bound() {
        let chunks = chunk_versions(
            (1..=50).map(|v| set(v, vec![change(1, 50)])).collect(),
            10_000,
        );
        let one = chunk_size(&chunks[0]);
        let batches = batch_chunks(chunks, one * 4);
        assert_eq!(batches.len(), 13);
        assert!(batches.iter().all(|b| !b.is_empty() && b.len() <= 4));
        assert!(batch_chunks(Vec::new(), 10).is_empty());
    }
}
