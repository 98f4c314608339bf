//! Parts of versions waiting for their other parts.
//!
//! A version split into parts is applied only whole. Parts are kept apart by
//! where they came from ([`Source`]): every broadcast copy of a version is
//! the origin's own chunking (relays forward chunks unchanged), but a node
//! answering a sync reads the version from its store, where cells
//! overwritten since are left out, so its parts need not line up with the
//! origin's. Mixing them could lose changes; keeping them apart cannot.

use std::collections::BTreeMap;
use std::net::SocketAddr;

use patina_store::{Change, SiteId};
use thiserror::Error;

use super::chunk::change_size;

/// Where a part came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) enum Source {
    /// Gossip: the origin's chunking.
    Broadcast,
    /// A sync session this node opened with that peer.
    Sync(SocketAddr),
}

/// A chunk that cannot be part of any version; it is dropped.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ChunkError {
    #[error("version 0 does not exist")]
    VersionZero,
    #[error("part {part} of a version with {parts} parts")]
    PartOutOfRange { part: u32, parts: u32 },
    #[error("cleared range {start}..={end} is empty or starts at 0")]
    BadRange { start: u64, end: u64 },
}

/// What became of an inserted part.
#[derive(Debug, PartialEq)]
pub(crate) enum Insert {
    /// That part was already here.
    Duplicate,
    /// Kept until the other parts arrive.
    Buffered,
    /// The last missing part: the version's changes, in order. Every buffer
    /// of that version (from any source) is gone.
    Complete(Vec<Change>),
}

#[derive(Debug)]
struct Buffer {
    parts: BTreeMap<u32, Vec<Change>>,
    bytes: usize,
    /// Insertion order, for evicting the oldest.
    age: u64,
}

/// Partial versions, bounded in estimated bytes.
#[derive(Debug)]
pub(crate) struct Reassembly {
    /// (site, version) → (source, parts) → the parts received.
    versions: BTreeMap<(SiteId, u64), BTreeMap<(Source, u32), Buffer>>,
    /// age → buffer key, oldest first.
    ages: BTreeMap<u64, (SiteId, u64, Source, u32)>,
    next_age: u64,
    bytes: usize,
    max_bytes: usize,
}

impl Reassembly {
    pub fn new(max_bytes: usize) -> Reassembly {
        Reassembly {
            versions: BTreeMap::new(),
            ages: BTreeMap::new(),
            next_age: 0,
            bytes: 0,
            max_bytes,
        }
    }

    /// Adds one part of `version` of `site`.
    pub fn insert(
        &mut self,
        site: SiteId,
        version: u64,
        source: Source,
        part: u32,
        parts: u32,
        changes: Vec<Change>,
    ) -> Result<Insert, ChunkError> {
        if version == 0 {
            return Err(ChunkError::VersionZero);
        }
        if part >= parts {
            return Err(ChunkError::PartOutOfRange { part, parts });
        }
        let buffers = self.versions.entry((site, version)).or_default();
        let buffer = buffers.entry((source, parts)).or_insert_with(|| {
            let age = self.next_age;
            self.next_age += 1;
            self.ages.insert(age, (site, version, source, parts));
            Buffer {
                parts: BTreeMap::new(),
                bytes: 0,
                age,
            }
        });
        if buffer.parts.contains_key(&part) {
            return Ok(Insert::Duplicate);
        }
        let bytes: usize = changes.iter().map(change_size).sum();
        buffer.parts.insert(part, changes);
        buffer.bytes += bytes;
        self.bytes += bytes;
        if buffer.parts.len() as u64 == u64::from(parts) {
            let parts = std::mem::take(&mut buffer.parts);
            self.discard_version(site, version);
            return Ok(Insert::Complete(parts.into_values().flatten().collect()));
        }
        Ok(Insert::Buffered)
    }

    /// Whether any part of `version` of `site` is here.
    #[cfg(test)]
    pub fn contains_version(&self, site: SiteId, version: u64) -> bool {
        self.versions.contains_key(&(site, version))
    }

    /// The highest version of `site` with a part here.
    pub fn max_version(&self, site: SiteId) -> Option<u64> {
        self.versions
            .range((site, 0)..=(site, u64::MAX))
            .next_back()
            .map(|((_, version), _)| *version)
    }

    /// Forgets every part of `version` of `site`.
    pub fn discard_version(&mut self, site: SiteId, version: u64) {
        if let Some(buffers) = self.versions.remove(&(site, version)) {
            for buffer in buffers.into_values() {
                self.bytes -= buffer.bytes;
                self.ages.remove(&buffer.age);
            }
        }
    }

    /// Forgets every part of the versions of `site` in `versions`.
    pub fn discard_range(&mut self, site: SiteId, first: u64, last: u64) {
        let held: Vec<u64> = self
            .versions
            .range((site, first)..=(site, last))
            .map(|((_, version), _)| *version)
            .collect();
        for version in held {
            self.discard_version(site, version);
        }
    }

    /// Forgets the parts that came from `source` (its session ended: they
    /// can never be completed from it).
    pub fn discard_source(&mut self, source: Source) {
        let keys: Vec<(SiteId, u64, u32)> = self
            .versions
            .iter()
            .flat_map(|(&(site, version), buffers)| {
                buffers
                    .keys()
                    .filter(|(s, _)| *s == source)
                    .map(move |&(_, parts)| (site, version, parts))
            })
            .collect();
        for (site, version, parts) in keys {
            self.remove_buffer(site, version, source, parts);
        }
    }

    /// Drops the oldest buffers while over the byte bound, except the one
    /// of `keep` (the version just added to: a version bigger than the bound
    /// alone must still be able to complete); returns the versions whose
    /// parts were dropped.
    pub fn evict(&mut self, keep: (SiteId, u64)) -> Vec<(SiteId, u64)> {
        let mut evicted = Vec::new();
        let victims: Vec<(SiteId, u64, Source, u32)> = self
            .ages
            .values()
            .filter(|(site, version, ..)| (*site, *version) != keep)
            .copied()
            .collect();
        for (site, version, source, parts) in victims {
            if self.bytes <= self.max_bytes {
                break;
            }
            self.remove_buffer(site, version, source, parts);
            evicted.push((site, version));
        }
        evicted
    }

    fn remove_buffer(&mut self, site: SiteId, version: u64, source: Source, parts: u32) {
        let Some(buffers) = self.versions.get_mut(&(site, version)) else {
            return;
        };
        if let Some(buffer) = buffers.remove(&(source, parts)) {
            self.bytes -= buffer.bytes;
            self.ages.remove(&buffer.age);
        }
        if buffers.is_empty() {
            self.versions.remove(&(site, version));
        }
    }

    /// Estimated bytes held.
    #[cfg(test)]
    pub fn bytes(&self) -> usize {
        self.bytes
    }
}

#[cfg(test)]
mod tests {
    use patina_store::Value;

    use super::*;

    const SITE: SiteId = SiteId([1; 16]);

    fn changes(n: i64) -> Vec<Change> {
        vec![Change {
            table: "t".to_owned(),
            pk: vec![Value::Integer(n)],
            column: None,
            value: Value::Null,
            col_version: 1,
            causal_length: 1,
            seq: 0,
        }]
    }

    fn peer(port: u16) -> Source {
        Source::Sync(SocketAddr::from(([127, 0, 0, 1], port)))
    }

    #[test]
    fn completes_in_any_order_and_deduplicates() {
        let mut r = Reassembly::new(1 << 20);
        let b = Source::Broadcast;
        assert_eq!(r.insert(SITE, 3, b, 2, 3, changes(2)), Ok(Insert::Buffered));
        assert_eq!(
            r.insert(SITE, 3, b, 2, 3, changes(2)),
            Ok(Insert::Duplicate)
        );
        assert_eq!(r.insert(SITE, 3, b, 0, 3, changes(0)), Ok(Insert::Buffered));
        assert!(r.contains_version(SITE, 3));
        assert_eq!(r.max_version(SITE), Some(3));
        let Ok(Insert::Complete(all)) = r.insert(SITE, 3, b, 1, 3, changes(1)) else {
            panic!("expected completion");
        };
        let keys: Vec<Value> = all.iter().map(|c| c.pk[0].clone()).collect();
        assert_eq!(
            keys,
            vec![Value::Integer(0), Value::Integer(1), Value::Integer(2)]
        );
        assert!(!r.contains_version(SITE, 3));
        assert_eq!(r.bytes(), 0);
    }

    #[test]
    fn sources_and_chunkings_do_not_mix() {
        let mut r = Reassembly::new(1 << 20);
        assert_eq!(
            r.insert(SITE, 1, Source::Broadcast, 0, 2, changes(0)),
            Ok(Insert::Buffered)
        );
        assert_eq!(
            r.insert(SITE, 1, peer(1), 1, 2, changes(1)),
            Ok(Insert::Buffered)
        );
        assert_eq!(
            r.insert(SITE, 1, Source::Broadcast, 1, 3, changes(1)),
            Ok(Insert::Buffered)
        );
        // The sync copy completes; the broadcast partials go with it.
        assert!(matches!(
            r.insert(SITE, 1, peer(1), 0, 2, changes(0)),
            Ok(Insert::Complete(c)) if c.len() == 2
        ));
        assert_eq!(r.bytes(), 0);
    }

    #[test]
    fn a_session_end_drops_its_parts_only() {
        let mut r = Reassembly::new(1 << 20);
        r.insert(SITE, 1, peer(1), 0, 2, changes(0))
            .expect("insert");
        r.insert(SITE, 2, Source::Broadcast, 0, 2, changes(0))
            .expect("insert");
        r.discard_source(peer(1));
        assert!(!r.contains_version(SITE, 1));
        assert!(r.contains_version(SITE, 2));
        r.discard_range(SITE, 1, 5);
        assert_eq!(r.bytes(), 0);
    }

    #[test]
    fn eviction_drops_the_oldest_first() {
        let one = change_size(&changes(0)[0]);
        let mut r = Reassembly::new(one * 2);
        for v in 1..=3 {
            r.insert(SITE, v, Source::Broadcast, 0, 2, changes(0))
                .expect("insert");
        }
        assert_eq!(r.evict((SITE, 3)), vec![(SITE, 1)]);
        assert!(r.contains_version(SITE, 2) && r.contains_version(SITE, 3));
        assert!(r.evict((SITE, 3)).is_empty());
    }

    #[test]
    fn the_version_being_filled_is_never_evicted() {
        let one = change_size(&changes(0)[0]);
        let mut r = Reassembly::new(one);
        r.insert(SITE, 1, Source::Broadcast, 0, 4, changes(0))
            .expect("insert");
        r.insert(SITE, 2, Source::Broadcast, 0, 4, changes(0))
            .expect("insert");
        assert_eq!(r.evict((SITE, 2)), vec![(SITE, 1)]);
        for part in 1..3 {
            r.insert(SITE, 2, Source::Broadcast, part, 4, changes(0))
                .expect("insert");
            assert!(r.evict((SITE, 2)).is_empty());
        }
        assert!(matches!(
            r.insert(SITE, 2, Source::Broadcast, 3, 4, changes(0)),
            Ok(Insert::Complete(c)) if c.len() == 4
        ));
    }

    #[test]
    fn rejects_impossible_parts() {
        let mut r = Reassembly::new(100);
        assert_eq!(
            r.insert(SITE, 1, Source::Broadcast, 2, 2, changes(0)),
            Err(ChunkError::PartOutOfRange { part: 2, parts: 2 })
        );
        assert_eq!(
            r.insert(SITE, 0, Source::Broadcast, 0, 1, changes(0)),
            Err(ChunkError::VersionZero)
        );
    }
}
