//! The outgoing broadcast queue: chunks go out at once when no broadcast
//! went out within the window, otherwise they wait, batched per peer, until
//! the window ends. And the choice of random targets.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use rand::Rng;
use rand::seq::IndexedRandom;

use super::chunk::batch_chunks;
use crate::message::{Chunk, Message};

#[derive(Debug)]
pub(crate) struct BroadcastQueue {
    window: Duration,
    max_bytes: usize,
    last_sent: Option<Instant>,
    pending: BTreeMap<SocketAddr, Vec<Chunk>>,
}

impl BroadcastQueue {
    pub fn new(window: Duration, max_bytes: usize) -> BroadcastQueue {
        BroadcastQueue {
            window,
            max_bytes,
            last_sent: None,
            pending: BTreeMap::new(),
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
    pub fn enqueue(&mut self, targets: &[SocketAddr], chunks: &[Chunk]) {
        if chunks.is_empty() {
            return;
        }
        for target in targets {
            self.pending
                .entry(*target)
                .or_default()
                .extend(chunks.iter().cloned());
        }
    }

    /// [`BroadcastQueue::enqueue`], then [`BroadcastQueue::poll`].
    pub fn push(
        &mut self,
        targets: &[SocketAddr],
        chunks: &[Chunk],
        now: Instant,
    ) -> Vec<(SocketAddr, Message)> {
        self.enqueue(targets, chunks);
        self.poll(now)
    }

    /// Everything waiting, as messages (one per peer unless over the size
    /// bound), if no broadcast went out within the window; nothing
    /// otherwise.
    pub fn poll(&mut self, now: Instant) -> Vec<(SocketAddr, Message)> {
        if self.window_open(now) {
            self.flush(now)
        } else {
            Vec::new()
        }
    }

    fn flush(&mut self, now: Instant) -> Vec<(SocketAddr, Message)> {
        if self.pending.is_empty() {
            return Vec::new();
        }
        self.last_sent = Some(now);
        let mut out = Vec::new();
        for (peer, chunks) in std::mem::take(&mut self.pending) {
            for batch in batch_chunks(chunks, self.max_bytes) {
                out.push((peer, Message::Broadcast(batch)));
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
        let sent = q.push(&[addr(1), addr(2)], &[chunk(1)], t0);
        assert_eq!(sent.len(), 2);
        assert_eq!(q.deadline(), None);

        let t1 = t0 + Duration::from_millis(1);
        assert!(q.push(&[addr(1)], &[chunk(2)], t1).is_empty());
        assert!(q.push(&[addr(1), addr(3)], &[chunk(3)], t1).is_empty());
        assert_eq!(q.deadline(), Some(t0 + Duration::from_millis(2)));
        assert!(q.poll(t1).is_empty());

        let t2 = t0 + Duration::from_millis(2);
        let sent = q.poll(t2);
        assert_eq!(
            sent,
            vec![
                (addr(1), Message::Broadcast(vec![chunk(2), chunk(3)])),
                (addr(3), Message::Broadcast(vec![chunk(3)])),
            ]
        );
        assert_eq!(q.deadline(), None);
        // Right after a flush, the window is closed again.
        assert!(q.push(&[addr(1)], &[chunk(4)], t2).is_empty());
        // Once it has passed, a push sends everything waiting.
        let t3 = t2 + Duration::from_millis(5);
        assert_eq!(
            q.push(&[addr(2)], &[chunk(5)], t3),
            vec![
                (addr(1), Message::Broadcast(vec![chunk(4)])),
                (addr(2), Message::Broadcast(vec![chunk(5)])),
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
