//! How often a node re-contacts members it has seen go down (a SWIM
//! announce), and its bootstrap addresses while it knows no active member:
//! often right after it lost one, so a healed partition or a restarted
//! peer is found within a fraction of a second, then less and less often,
//! so a member that stays away costs little. Nothing is sent while no
//! member is down; the period only paces the attempts.

use std::time::{Duration, Instant};

/// The schedule, from the last time a member was lost.
#[derive(Debug)]
pub(crate) struct Recontact {
    fast: Duration,
    doubling_after: Duration,
    lost_at: Instant,
}

impl Recontact {
    /// A schedule that starts fast at `now` (a node just started knows
    /// nobody yet).
    pub fn new(fast: Duration, doubling_after: Duration, now: Instant) -> Recontact {
        Recontact {
            fast,
            doubling_after,
            lost_at: now,
        }
    }

    /// A member went down, or this node lost every member: fast again.
    pub fn lost(&mut self, now: Instant) {
        self.lost_at = self.lost_at.max(now);
    }

    /// The period at `now`: the fast one, doubled for every
    /// `doubling_after` since the last loss, at most `cap` (and never above
    /// it even when the fast one is).
    pub fn period(&self, now: Instant, cap: Duration) -> Duration {
        let since = now.saturating_duration_since(self.lost_at);
        let doublings = if self.doubling_after.is_zero() {
            u32::MAX
        } else {
            (since.as_nanos() / self.doubling_after.as_nanos()).min(31) as u32
        };
        let period = self
            .fast
            .checked_mul(1u32.checked_shl(doublings).unwrap_or(u32::MAX))
            .unwrap_or(cap);
        period.min(cap)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fast_after_a_loss_then_doubling_up_to_the_cap() {
        let ms = Duration::from_millis;
        let t0 = Instant::now();
        let mut r = Recontact::new(ms(250), Duration::from_secs(5), t0);
        let cap = Duration::from_secs(2);
        assert_eq!(r.period(t0, cap), ms(250));
        assert_eq!(r.period(t0 + ms(4_999), cap), ms(250));
        assert_eq!(r.period(t0 + ms(5_000), cap), ms(500));
        assert_eq!(r.period(t0 + ms(10_000), cap), ms(1_000));
        assert_eq!(r.period(t0 + ms(15_000), cap), cap);
        assert_eq!(r.period(t0 + Duration::from_secs(86_400), cap), cap);
        r.lost(t0 + ms(20_000));
        assert_eq!(r.period(t0 + ms(20_100), cap), ms(250));
        // An earlier loss reported late does not move the schedule back.
        r.lost(t0);
        assert_eq!(r.period(t0 + ms(20_100), cap), ms(250));
        assert_eq!(r.period(t0 + ms(20_100), ms(100)), ms(100));
    }
}
