//! The outgoing broadcast queue: chunks go out at once when no broadcast
//! went out within the window, otherwise they wait, batched per peer, until
//! the window ends. Peers that are due the same chunks get one message
//! between them, so the driver encodes it once. And the choice of random
//! targets.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use rand::Rng;
use rand::seq::IndexedRandom;

use super::chunk::batch_chunks;
use crate::message::{Chunk, Message};

/// One message and every peer it goes to.
pub type Transmit = (Vec<SocketAddr>, Message);

#[derive(Debug)]
pub(crate) struct BroadcastQueue {
    window: Duration,
    max_bytes: usize,
    last_sent: Option<Instant>,
    /// What waits for the window to end, in the order it was queued: the
    /// chunks and the peers they go to (never empty).
    pending: Vec<(Vec<SocketAddr>, Vec<Chunk>)>,
}

impl BroadcastQueue {
    pub fn new(window: Duration, max_bytes: usize) -> BroadcastQueue {
        BroadcastQueue {
            window,
            max_bytes,
            last_sent: None,
            pending: Vec::new(),
        }
    }

    /// When the batched chunks must go out (None if nothing waits).
    pub fn deadline(&self) -> Option<Instant> {
        if self.pending.is_empty() {
            return None;
        }
        self.last_sent.map(|last| last + self.window)
    }

    fn window_open(&self, now: Instant) -> bool {
        self.last_sent.is_none_or(|last| now >= last + self.window)
    }

    /// Queues `chunks` for each of `targets`, to go out at the next
    /// [`BroadcastQueue::poll`].
    pub fn enqueue(&mut self, targets: Vec<SocketAddr>, chunks: Vec<Chunk>) {
        if !chunks.is_empty() && !targets.is_empty() {
            self.pending.push((targets, chunks));
        }
    }

    /// [`BroadcastQueue::enqueue`], then [`BroadcastQueue::poll`].
    pub fn push(
        &mut self,
        targets: Vec<SocketAddr>,
        chunks: Vec<Chunk>,
        now: Instant,
    ) -> Vec<Transmit> {
        self.enqueue(targets, chunks);
        self.poll(now)
    }

    /// Everything waiting, as messages, if no broadcast went out within
    /// the window; nothing otherwise. A peer gets its chunks in the order
    /// they were queued, in one message unless over the size bound; peers
    /// due exactly the same chunks share their messages.
    pub fn poll(&mut self, now: Instant) -> Vec<Transmit> {
        if self.window_open(now) {
            self.flush(now)
        } else {
            Vec::new()
        }
    }

    fn flush(&mut self, now: Instant) -> Vec<Transmit> {
        if self.pending.is_empty() {
            return Vec::new();
        }
        self.last_sent = Some(now);
        let mut pending = std::mem::take(&mut self.pending);
        // Which queued entries each peer is due, then the peers due the
        // same entries (in address order, for a deterministic replay).
        let mut due: BTreeMap<SocketAddr, Vec<usize>> = BTreeMap::new();
        for (entry, (targets, _)) in pending.iter().enumerate() {
            for target in targets {
                let entries = due.entry(*target).or_default();
                if entries.last() != Some(&entry) {
                    entries.push(entry);
                }
            }
        }
        let mut groups: BTreeMap<Vec<usize>, Vec<SocketAddr>> = BTreeMap::new();
        for (peer, entries) in due {
            groups.entry(entries).or_default().push(peer);
        }
        // An entry's chunks are moved into the last group that uses them
        // and cloned for the others.
        let mut uses = vec![0usize; pending.len()];
        for entries in groups.keys() {
            for entry in entries {
                uses[*entry] += 1;
            }
        }
        let mut out = Vec::new();
        for (entries, peers) in groups {
            let mut chunks = Vec::new();
            for entry in entries {
                uses[entry] -= 1;
                let queued = &mut pending[entry].1;
                if uses[entry] == 0 {
                    chunks.append(queued);
                } else {
                    chunks.extend(queued.iter().cloned());
                }
            }
            for batch in batch_chunks(chunks, self.max_bytes) {
                out.push((peers.clone(), Message::Broadcast(batch)));
            }
        }
        out
    }
}

/// Up to `n` distinct random picks from `candidates` (whose order must be
/// deterministic for a seeded replay).
pub(crate) fn choose<R: Rng>(rng: &mut R, candidates: &[SocketAddr], n: usize) -> Vec<SocketAddr> {
    candidates.choose_multiple(rng, n).copied().collect()
}

#[cfg(test)]
mod tests {
    use patina_store::SiteId;
    use rand::SeedableRng;
    use rand::rngs::SmallRng;

    use super::*;

    fn addr(port: u16) -> SocketAddr {
        SocketAddr::from(([127, 0, 0, 1], port))
    }

    fn chunk(v: u64) -> Chunk {
        Chunk::Cleared {
            site: SiteId([1; 16]),
            versions: v..=v,
        }
    }

    #[test]
    fn first_broadcast_goes_at_once_then_batches_until_the_window_ends() {
        let t0 = Instant::now();
        let mut q = BroadcastQueue::new(Duration::from_millis(2), 1 << 20);
        let sent = q.push(vec![addr(1), addr(2)], vec![chunk(1)], t0);
        assert_eq!(
            sent,
            vec![(vec![addr(1), addr(2)], Message::Broadcast(vec![chunk(1)]))]
        );
        assert_eq!(q.deadline(), None);

        let t1 = t0 + Duration::from_millis(1);
        assert!(q.push(vec![addr(1)], vec![chunk(2)], t1).is_empty());
        assert!(
            q.push(vec![addr(1), addr(3)], vec![chunk(3)], t1)
                .is_empty()
        );
        assert_eq!(q.deadline(), Some(t0 + Duration::from_millis(2)));
        assert!(q.poll(t1).is_empty());

        let t2 = t0 + Duration::from_millis(2);
        let sent = q.poll(t2);
        assert_eq!(
            sent,
            vec![
                (vec![addr(1)], Message::Broadcast(vec![chunk(2), chunk(3)])),
                (vec![addr(3)], Message::Broadcast(vec![chunk(3)])),
            ]
        );
        assert_eq!(q.deadline(), None);
        // Right after a flush, the window is closed again.
        assert!(q.push(vec![addr(1)], vec![chunk(4)], t2).is_empty());
        // Once it has passed, a push sends everything waiting.
        let t3 = t2 + Duration::from_millis(5);
        assert_eq!(
            q.push(vec![addr(2)], vec![chunk(5)], t3),
            vec![
                (vec![addr(1)], Message::Broadcast(vec![chunk(4)])),
                (vec![addr(2)], Message::Broadcast(vec![chunk(5)])),
            ]
        );
    }

    /// Peers due the same chunks, in the same order, share one message;
    /// every peer still gets exactly its own chunks, in queued order.
    #[test]
    fn peers_due_the_same_chunks_share_a_message() {
        let t0 = Instant::now();
        let mut q = BroadcastQueue::new(Duration::from_millis(2), 1 << 20);
        assert_eq!(q.push(vec![addr(9)], vec![chunk(0)], t0).len(), 1);
        let t1 = t0 + Duration::from_millis(1);
        let all = vec![addr(1), addr(2), addr(3), addr(4)];
        assert!(q.push(all.clone(), vec![chunk(1), chunk(2)], t1).is_empty());
        assert!(
            q.push(vec![addr(2), addr(4)], vec![chunk(3)], t1)
                .is_empty()
        );
        assert!(q.push(all, vec![chunk(4)], t1).is_empty());
        let sent = q.poll(t0 + Duration::from_millis(2));
        assert_eq!(
            sent,
            vec![
                (
                    vec![addr(2), addr(4)],
                    Message::Broadcast(vec![chunk(1), chunk(2), chunk(3), chunk(4)])
                ),
                (
                    vec![addr(1), addr(3)],
                    Message::Broadcast(vec![chunk(1), chunk(2), chunk(4)])
                ),
            ]
        );
    }

    /// A group's chunks over the size bound go out in several messages,
    /// each to the whole group.
    #[test]
    fn a_large_group_batch_is_split_for_every_peer_of_the_group() {
        let one = super::super::chunk::chunk_size(&chunk(1));
        let mut q = BroadcastQueue::new(Duration::from_millis(2), one * 2);
        let sent = q.push(
            vec![addr(1), addr(2)],
            (1..=3).map(chunk).collect(),
            Instant::now(),
        );
        assert_eq!(
            sent,
            vec![
                (
                    vec![addr(1), addr(2)],
                    Message::Broadcast(vec![chunk(1), chunk(2)])
                ),
                (vec![addr(1), addr(2)], Message::Broadcast(vec![chunk(3)])),
            ]
        );
    }

    #[test]
    fn choose_picks_distinct_targets() {
        let mut rng = SmallRng::seed_from_u64(7);
        let all: Vec<SocketAddr> = (1..=10).map(addr).collect();
        let picked = choose(&mut rng, &all, 3);
        assert_eq!(picked.len(), 3);
        assert!(picked.iter().all(|a| all.contains(a)));
        assert_ne!(picked[0], picked[1]);
        assert_eq!(choose(&mut rng, &all[..2], 3).len(), 2);
        assert!(choose(&mut rng, &[], 3).is_empty());
    }
}
