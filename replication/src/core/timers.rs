//! A virtual-time queue of SWIM timers: every timer foca submits fires,
//! in deadline order (then submission order), when the driver says the
//! time has come.

use std::collections::BTreeMap;
use std::time::Instant;

#[derive(Debug)]
pub(crate) struct Timers<T> {
    queue: BTreeMap<(Instant, u64), T>,
    next: u64,
}

impl<T> Timers<T> {
    pub fn new() -> Timers<T> {
        Timers {
            queue: BTreeMap::new(),
            next: 0,
        }
    }

    pub fn schedule(&mut self, at: Instant, timer: T) {
        self.queue.insert((at, self.next), timer);
        self.next += 1;
    }

    /// The earliest deadline.
    pub fn deadline(&self) -> Option<Instant> {
        self.queue.first_key_value().map(|((at, _), _)| *at)
    }

    /// The earliest timer due at `now`, removed from the queue.
    pub fn pop_due(&mut self, now: Instant) -> Option<T> {
        let due = self.deadline().is_some_and(|at| at <= now);
        if due {
            self.queue.pop_first().map(|(_, timer)| timer)
        } else {
            None
        }
    }

    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.queue.len()
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn fires_in_deadline_then_submission_order() {
        let t0 = Instant::now();
        let ms = Duration::from_millis;
        let mut timers = Timers::new();
        timers.schedule(t0 + ms(5), "c");
        timers.schedule(t0 + ms(1), "a");
        timers.schedule(t0 + ms(5), "d");
        timers.schedule(t0 + ms(1), "b");
        assert_eq!(timers.deadline(), Some(t0 + ms(1)));
        assert_eq!(timers.pop_due(t0), None);
        assert_eq!(timers.pop_due(t0 + ms(1)), Some("a"));
        assert_eq!(timers.pop_due(t0 + ms(1)), Some("b"));
        assert_eq!(timers.pop_due(t0 + ms(1)), None);
        assert_eq!(timers.pop_due(t0 + ms(9)), Some("c"));
        assert_eq!(timers.pop_due(t0 + ms(9)), Some("d"));
        assert_eq!(timers.len(), 0);
    }
}
