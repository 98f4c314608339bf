//! The time source of `now()` and `clock_timestamp()`, injected by the
//! caller: PostgreSQL's `now()` is the start of the current transaction,
//! which only the session knows.

use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

/// Where the date/time functions get the time, in microseconds since
/// 1970-01-01 UTC.
pub trait Clock: Send + Sync + 'static {
    /// The start of the current transaction: `now()`,
    /// `current_timestamp`, `transaction_timestamp()`.
    fn transaction_start(&self) -> i64;
    /// The time at the call: `clock_timestamp()`.
    fn current(&self) -> i64;
}

/// A session's clock: the session marks each transaction start; the
/// current time is the system clock.
#[derive(Debug, Default)]
pub struct SessionClock {
    transaction_start: AtomicI64,
}

impl SessionClock {
    /// A clock whose transaction start is `micros`.
    pub fn new(micros: i64) -> SessionClock {
        SessionClock {
            transaction_start: AtomicI64::new(micros),
        }
    }

    /// Records that a transaction started at `micros` (the session calls
    /// this at `BEGIN`, or before each statement outside a transaction).
    pub fn start_transaction(&self, micros: i64) {
        self.transaction_start.store(micros, Ordering::Relaxed);
    }

    /// The system time, in microseconds since the epoch.
    pub fn system_now() -> i64 {
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| i64::try_from(d.as_micros()).unwrap_or(i64::MAX))
            .unwrap_or(0)
    }
}

impl Clock for SessionClock {
    fn transaction_start(&self) -> i64 {
        self.transaction_start.load(Ordering::Relaxed)
    }

    fn current(&self) -> i64 {
        SessionClock::system_now()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transaction_start_is_what_the_session_marked() {
        let clock = SessionClock::new(5);
        assert_eq!(clock.transaction_start(), 5);
        clock.start_transaction(7);
        assert_eq!(clock.transaction_start(), 7);
        assert!(clock.current() > 1_700_000_000_000_000);
    }
}
