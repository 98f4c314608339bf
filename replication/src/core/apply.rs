//! Complete versions waiting to be merged, handed out in batches bounded by
//! change rows.

use std::collections::VecDeque;

use patina_store::Versions;

/// Change rows an item counts for in a batch (a cleared run counts one).
fn weight(item: &Versions) -> usize {
    match item {
        Versions::Changed(set) => set.changes.len().max(1),
        Versions::Cleared { .. } => 1,
    }
}

#[derive(Debug)]
pub(crate) struct ApplyQueue {
    ready: VecDeque<Versions>,
    max_changes: usize,
}

impl ApplyQueue {
    pub fn new(max_changes: usize) -> ApplyQueue {
        ApplyQueue {
            ready: VecDeque::new(),
            max_changes,
        }
    }

    pub fn push(&mut self, item: Versions) {
        self.ready.push_back(item);
    }

    /// The next batch, in arrival order: at least one item, then more while
    /// the change rows stay within the bound.
    pub fn pop_batch(&mut self) -> Option<Vec<Versions>> {
        let first = self.ready.pop_front()?;
        let mut rows = weight(&first);
        let mut batch = vec![first];
        while let Some(next) = self.ready.front() {
            let w = weight(next);
            if rows + w > self.max_changes {
                break;
            }
            rows += w;
            batch.extend(self.ready.pop_front());
        }
        Some(batch)
    }

    pub fn len(&self) -> usize {
        self.ready.len()
    }
}

#[cfg(test)]
mod tests {
    use patina_store::{Change, ChangeSet, Keys, SiteId, Value};

    use super::*;

    fn set(version: u64, rows: usize) -> Versions {
        let change = Change {
            table: "t".to_owned(),
            pk: vec![Value::Integer(1)],
            column: None,
            value: Value::Null,
            col_version: 1,
            causal_length: 1,
            seq: 0,
        };
        Versions::Changed(ChangeSet {
            site_id: SiteId([1; 16]),
            db_version: version,
            changes: vec![change; rows],
            keys: Keys::new(),
        })
    }

    #[test]
    fn batches_are_bounded_by_change_rows() {
        let mut q = ApplyQueue::new(10);
        q.push(set(1, 4));
        q.push(set(2, 6));
        q.push(set(3, 1));
        q.push(set(4, 25));
        q.push(Versions::Cleared {
            site_id: SiteId([1; 16]),
            versions: 5..=9,
        });
        let versions =
            |b: Vec<Versions>| b.iter().map(|v| *v.versions().start()).collect::<Vec<_>>();
        assert_eq!(q.pop_batch().map(versions), Some(vec![1, 2]));
        assert_eq!(q.pop_batch().map(versions), Some(vec![3]));
        // An item over the bound still goes, alone.
        assert_eq!(q.pop_batch().map(versions), Some(vec![4]));
        assert_eq!(q.pop_batch().map(versions), Some(vec![5]));
        assert_eq!(q.len(), 0);
        assert!(q.pop_batch().is_none());
    }
}
