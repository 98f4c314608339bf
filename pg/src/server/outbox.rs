//! A queue between a SQLite function and the session whose statement
//! called it: the function (`pg_notify`, `set_config`) pushes what it
//! asks for, and the session takes it out once the statement ended, to
//! apply it only if the statement succeeded.

use std::sync::{Arc, Mutex, PoisonError};

pub(crate) struct Outbox<T>(Arc<Mutex<Vec<T>>>);

impl<T> Default for Outbox<T> {
    fn default() -> Self {
        Outbox(Arc::default())
    }
}

impl<T> Clone for Outbox<T> {
    fn clone(&self) -> Self {
        Outbox(Arc::clone(&self.0))
    }
}

impl<T> std::fmt::Debug for Outbox<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Outbox").finish_non_exhaustive()
    }
}

impl<T> Outbox<T> {
    pub fn push(&self, item: T) {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(item);
    }

    /// Everything queued, leaving the queue empty.
    pub fn take(&self) -> Vec<T> {
        std::mem::take(&mut *self.0.lock().unwrap_or_else(PoisonError::into_inner))
    }
}
