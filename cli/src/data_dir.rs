//! The data directory's lock: `patina.lock`, held (an exclusive advisory
//! lock) by the one agent running on the directory, and by `patina
//! restore` while it replaces the database. A second agent on the same
//! directory, or a restore under a running node, is refused.

use std::fs::{File, OpenOptions};
use std::path::Path;

use anyhow::Context;

/// The lock file's name in the data directory.
const LOCK: &str = "patina.lock";

/// Holds the lock of `dir` (which must exist) until dropped.
#[derive(Debug)]
pub struct Lock {
    _file: File,
}

/// Locks `dir` for `what`, or says who holds it.
pub fn lock(dir: &Path, what: &str) -> anyhow::Result<Lock> {
    let path = dir.join(LOCK);
    let file = OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .with_context(|| format!("opening {}", path.display()))?;
    match file.try_lock() {
        Ok(()) => Ok(Lock { _file: file }),
        Err(std::fs::TryLockError::WouldBlock) => anyhow::bail!(
            "{} is in use by a running patina agent ({} is locked): stop it before {what}",
            dir.display(),
            path.display()
        ),
        Err(std::fs::TryLockError::Error(error)) => {
            Err(error).with_context(|| format!("locking {}", path.display()))
        }
    }
}
