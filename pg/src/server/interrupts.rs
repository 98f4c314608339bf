//! Stopping a running statement from outside its session: a CancelRequest
//! from the client (a second connection naming the session's pid and
//! secret), or the session's `statement_timeout` passing. Both interrupt
//! the SQLite connection the statement runs on, and the statement fails
//! with 57014. At shutdown a listener's sessions are terminated (57P01;
//! see `shutdown`).

use std::collections::HashMap;
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError, Weak};
use std::time::{Duration, Instant};

use rusqlite::{Connection, InterruptHandle};

/// How often the watchdog interrupts again an interrupted statement that
/// still runs: an interrupt that lands before SQLite starts the statement
/// is lost (SQLite ignores it when nothing runs).
const INTERRUPT_AGAIN: Duration = Duration::from_millis(10);

/// Why a statement was interrupted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Reason {
    Cancel,
    Timeout,
    /// The session's listener stops (the node shuts down): it ends.
    Terminate,
}

impl Reason {
    pub fn message(self) -> &'static str {
        match self {
            Reason::Cancel => "canceling statement due to user request",
            Reason::Timeout => "canceling statement due to statement timeout",
            Reason::Terminate => "terminating connection due to administrator command",
        }
    }

    pub fn code(self) -> &'static str {
        match self {
            Reason::Cancel | Reason::Timeout => "57014",
            Reason::Terminate => "57P01",
        }
    }
}

/// What one session is running now, if anything.
pub(crate) struct Running {
    state: Mutex<State>,
    alarm: Arc<Alarm>,
}

#[derive(Default)]
struct State {
    handle: Option<InterruptHandle>,
    deadline: Option<Instant>,
    interrupted: Option<Reason>,
}

impl std::fmt::Debug for Running {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Running").finish_non_exhaustive()
    }
}

impl Running {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Marks a statement as running on `conn` until the guard is dropped,
    /// with a deadline if `timeout` is set.
    pub fn start<'a>(&'a self, conn: &Connection, timeout: Option<Duration>) -> RunningGuard<'a> {
        let mut state = self.lock();
        state.handle = Some(conn.get_interrupt_handle());
        state.deadline = timeout.map(|t| Instant::now() + t);
        // Once terminated, a session starts nothing more (interrupting an
        // idle SQLite connection would not stop its next statement).
        if state.interrupted != Some(Reason::Terminate) {
            state.interrupted = None;
        }
        if state.deadline.is_some() {
            self.alarm.ring();
        }
        RunningGuard(self)
    }

    /// Interrupts the running statement, if there is one; the watchdog
    /// interrupts it again until it ends.
    fn interrupt(&self, reason: Reason) {
        let mut state = self.lock();
        if let Some(handle) = &state.handle {
            handle.interrupt();
            state.interrupted = Some(reason);
            self.alarm.ring();
        } else if reason == Reason::Terminate {
            state.interrupted = Some(reason);
        }
    }

    /// Interrupts the running statement if its deadline passed, and again
    /// if it was interrupted and still runs; when to look at it next (none:
    /// nothing runs, or it runs with no deadline).
    fn enforce(&self, now: Instant) -> Option<Instant> {
        let mut guard = self.lock();
        let state = &mut *guard;
        let handle = state.handle.as_ref()?;
        if state.interrupted.is_none() {
            let deadline = state.deadline?;
            if deadline > now {
                return Some(deadline);
            }
            state.interrupted = Some(Reason::Timeout);
        }
        handle.interrupt();
        Some(now + INTERRUPT_AGAIN)
    }
}

/// Ends a running statement's registration; tells why it was interrupted.
pub(crate) struct RunningGuard<'a>(&'a Running);

impl RunningGuard<'_> {
    /// Why the statement was interrupted, if it was.
    pub fn interrupted(&self) -> Option<Reason> {
        self.0.lock().interrupted
    }
}

impl Drop for RunningGuard<'_> {
    fn drop(&mut self) {
        let mut state = self.0.lock();
        state.handle = None;
        state.deadline = None;
    }
}

/// Wakes the watchdog: a statement with a deadline started, a statement
/// was interrupted, or the sessions went away. The watchdog otherwise
/// sleeps until the nearest deadline, or for good when no statement has
/// one (an idle node does not wake it).
#[derive(Debug, Default)]
struct Alarm {
    /// Rings so far: one between the watchdog's look and its wait is not lost.
    rings: Mutex<u64>,
    bell: Condvar,
}

impl Alarm {
    fn lock(&self) -> MutexGuard<'_, u64> {
        self.rings.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn ring(&self) {
        *self.lock() += 1;
        self.bell.notify_one();
    }

    /// Waits until a ring after the `seen`th one, or until `until`.
    fn wait(&self, seen: u64, until: Option<Instant>) {
        let mut rings = self.lock();
        while *rings == seen {
            rings = match until {
                None => self
                    .bell
                    .wait(rings)
                    .unwrap_or_else(PoisonError::into_inner),
                Some(until) => {
                    let Some(left) = until.checked_duration_since(Instant::now()) else {
                        return;
                    };
                    self.bell
                        .wait_timeout(rings, left)
                        .unwrap_or_else(PoisonError::into_inner)
                        .0
                }
            };
        }
    }
}

/// The sessions that can be interrupted, by pid.
#[derive(Debug, Default)]
pub(crate) struct Interrupts {
    sessions: Mutex<HashMap<i32, (i32, Weak<Running>)>>,
    alarm: Arc<Alarm>,
}

impl Drop for Interrupts {
    fn drop(&mut self) {
        // The watchdog wakes, finds the sessions gone and ends.
        self.alarm.ring();
    }
}

impl Interrupts {
    /// Starts the watchdog that enforces statement timeouts; it ends with
    /// the last reference to `interrupts`.
    pub fn spawn_watchdog(interrupts: &Arc<Interrupts>) -> std::io::Result<()> {
        let weak = Arc::downgrade(interrupts);
        let alarm = interrupts.alarm.clone();
        std::thread::Builder::new()
            .name("patina-watchdog".to_owned())
            .spawn(move || {
                while let Some(interrupts) = weak.upgrade() {
                    let seen = *alarm.lock();
                    let next = interrupts.enforce_deadlines(Instant::now());
                    drop(interrupts);
                    alarm.wait(seen, next);
                }
            })
            .map(|_| ())
    }

    fn lock(&self) -> MutexGuard<'_, HashMap<i32, (i32, Weak<Running>)>> {
        self.sessions.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Registers a session under its pid and cancel secret.
    pub fn register(&self, pid: i32, secret: i32) -> Arc<Running> {
        let running = Arc::new(Running {
            state: Mutex::default(),
            alarm: self.alarm.clone(),
        });
        self.lock().insert(pid, (secret, Arc::downgrade(&running)));
        running
    }

    pub fn unregister(&self, pid: i32) {
        self.lock().remove(&pid);
    }

    /// A CancelRequest: interrupts what session `pid` runs if `secret` is
    /// its secret; otherwise does nothing, as PostgreSQL does.
    pub fn cancel(&self, pid: i32, secret: i32) {
        let running = match self.lock().get(&pid) {
            Some((known, running)) if *known == secret => running.upgrade(),
            _ => None,
        };
        if let Some(running) = running {
            running.interrupt(Reason::Cancel);
        }
    }

    /// Terminates sessions `pids`: what each runs is interrupted, and
    /// what each would start fails.
    pub fn terminate(&self, pids: &[i32]) {
        let sessions: Vec<Arc<Running>> = {
            let sessions = self.lock();
            pids.iter()
                .filter_map(|pid| sessions.get(pid)?.1.upgrade())
                .collect()
        };
        for running in sessions {
            running.interrupt(Reason::Terminate);
        }
    }

    /// Interrupts the statements past their deadline, and again those
    /// interrupted that still run; when to look again (none: no statement
    /// has a deadline or is being interrupted).
    fn enforce_deadlines(&self, now: Instant) -> Option<Instant> {
        let sessions: Vec<Arc<Running>> = self
            .lock()
            .values()
            .filter_map(|(_, r)| r.upgrade())
            .collect();
        sessions
            .iter()
            .filter_map(|running| running.enforce(now))
            .min()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A query that runs until interrupted.
    const ENDLESS: &str = "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n) \
                           SELECT count(*) FROM n";

    #[test]
    fn the_watchdog_sleeps_until_the_nearest_deadline() {
        let interrupts = Interrupts::default();
        let conn = Connection::open_in_memory().unwrap();
        let (a, b) = (interrupts.register(1, 1), interrupts.register(2, 2));
        let now = Instant::now();
        assert_eq!(interrupts.enforce_deadlines(now), None);
        let _without = a.start(&conn, None);
        assert_eq!(interrupts.enforce_deadlines(now), None);
        let with = b.start(&conn, Some(Duration::from_secs(60)));
        let next = interrupts.enforce_deadlines(Instant::now()).unwrap();
        assert!(next > now + Duration::from_secs(59));
        assert_eq!(with.interrupted(), None);
        // Past it: interrupted, and looked at again soon while it runs.
        let later = now + Duration::from_secs(61);
        assert_eq!(
            interrupts.enforce_deadlines(later),
            Some(later + INTERRUPT_AGAIN)
        );
        assert_eq!(with.interrupted(), Some(Reason::Timeout));
        drop(with);
        assert_eq!(interrupts.enforce_deadlines(later), None);
    }

    #[test]
    fn a_statement_past_its_timeout_is_interrupted_by_the_watchdog() {
        let interrupts = Arc::new(Interrupts::default());
        Interrupts::spawn_watchdog(&interrupts).unwrap();
        let running = interrupts.register(1, 1);
        let conn = Connection::open_in_memory().unwrap();
        // Should the watchdog never wake, the test fails rather than hangs.
        let fallback = conn.get_interrupt_handle();
        std::thread::spawn(move || {
            std::thread::sleep(Duration::from_secs(30));
            fallback.interrupt();
        });
        // Let the watchdog fall asleep with no deadline in sight (were it
        // slower, the test would pass without proving the wake-up, never
        // fail wrongly); this start must wake it.
        std::thread::sleep(Duration::from_millis(100));
        let guard = running.start(&conn, Some(Duration::from_millis(20)));
        let result = conn.query_row(ENDLESS, [], |row| row.get::<_, i64>(0));
        assert!(result.is_err(), "{result:?}");
        assert_eq!(guard.interrupted(), Some(Reason::Timeout));
    }

    #[test]
    fn a_session_terminated_before_its_statement_runs_is_interrupted_anyway() {
        let interrupts = Arc::new(Interrupts::default());
        Interrupts::spawn_watchdog(&interrupts).unwrap();
        let running = interrupts.register(1, 1);
        let conn = Connection::open_in_memory().unwrap();
        let fallback = conn.get_interrupt_handle();
        let fell_back = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let fired = fell_back.clone();
        std::thread::spawn(move || {
            std::thread::sleep(Duration::from_secs(30));
            fired.store(true, std::sync::atomic::Ordering::SeqCst);
            fallback.interrupt();
        });
        // Registered, not yet running on SQLite: this interrupt is lost,
        // the watchdog's next one is not.
        let guard = running.start(&conn, None);
        interrupts.terminate(&[1]);
        let result = conn.query_row(ENDLESS, [], |row| row.get::<_, i64>(0));
        assert!(result.is_err(), "{result:?}");
        assert_eq!(guard.interrupted(), Some(Reason::Terminate));
        assert!(!fell_back.load(std::sync::atomic::Ordering::SeqCst));
    }

    #[test]
    fn a_cancel_between_start_and_run_is_not_lost() {
        let interrupts = Interrupts::default();
        let running = interrupts.register(1, 1);
        let conn = Connection::open_in_memory().unwrap();
        let guard = running.start(&conn, None);
        interrupts.cancel(1, 1);
        let now = Instant::now();
        assert_eq!(
            interrupts.enforce_deadlines(now),
            Some(now + INTERRUPT_AGAIN)
        );
        assert_eq!(guard.interrupted(), Some(Reason::Cancel));
        drop(guard);
        assert_eq!(interrupts.enforce_deadlines(now), None);
    }
}
