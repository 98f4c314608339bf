//! Stopping a running statement from outside its session: a CancelRequest
//! from the client (a second connection naming the session's pid and
//! secret), or the session's `statement_timeout` passing. Both interrupt
//! the SQLite connection the statement runs on, and the statement fails
//! with 57014. At shutdown a listener's sessions are terminated (57P01;
//! see `shutdown`).

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, Weak};
use std::time::{Duration, Instant};

use rusqlite::{Connection, InterruptHandle};

/// How often the watchdog looks for statements past their deadline.
const WATCHDOG_TICK: Duration = Duration::from_millis(10);

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
#[derive(Default)]
pub(crate) struct Running {
    state: Mutex<State>,
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
        RunningGuard(self)
    }

    /// Interrupts the running statement, if there is one.
    fn interrupt(&self, reason: Reason) {
        let mut state = self.lock();
        if let Some(handle) = &state.handle {
            handle.interrupt();
            state.interrupted = Some(reason);
        } else if reason == Reason::Terminate {
            state.interrupted = Some(reason);
        }
    }

    fn past_deadline(&self, now: Instant) -> bool {
        let state = self.lock();
        state.handle.is_some() && state.deadline.is_some_and(|d| d <= now)
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

/// The sessions that can be interrupted, by pid.
#[derive(Debug, Default)]
pub(crate) struct Interrupts {
    sessions: Mutex<HashMap<i32, (i32, Weak<Running>)>>,
}

impl Interrupts {
    /// Starts the watchdog that enforces statement timeouts; it ends with
    /// the last reference to `interrupts`.
    pub fn spawn_watchdog(interrupts: &Arc<Interrupts>) -> std::io::Result<()> {
        let weak = Arc::downgrade(interrupts);
        std::thread::Builder::new()
            .name("patina-watchdog".to_owned())
            .spawn(move || {
                while let Some(interrupts) = weak.upgrade() {
                    interrupts.enforce_deadlines(Instant::now());
                    drop(interrupts);
                    std::thread::sleep(WATCHDOG_TICK);
                }
            })
            .map(|_| ())
    }

    fn lock(&self) -> MutexGuard<'_, HashMap<i32, (i32, Weak<Running>)>> {
        self.sessions.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Registers a session under its pid and cancel secret.
    pub fn register(&self, pid: i32, secret: i32) -> Arc<Running> {
        let running = Arc::new(Running::default());
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

    fn enforce_deadlines(&self, now: Instant) {
        let sessions: Vec<Arc<Running>> = self
            .lock()
            .values()
            .filter_map(|(_, r)| r.upgrade())
            .collect();
        for running in sessions {
            if running.past_deadline(now) {
                running.interrupt(Reason::Timeout);
            }
        }
    }
}
