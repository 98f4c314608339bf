//! Serving a peer's sync session: reading the versions it lacks on a
//! connection of our own, a window at a time, and streaming them as
//! chunks. The reads run on a blocking thread one window ahead of the
//! sends, so reading the next window overlaps sending the current one;
//! awaiting each send is the back-pressure that keeps memory bounded
//! (three windows: being read, queued, being sent) however much the peer
//! lacks, and the reads never hold the writer. Readers are kept between
//! sessions ([`Readers`]), and a session with nothing to send reads
//! nothing.

use std::ops::RangeInclusive;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};

use patina_store::{OpenError, ReadError, Reader, SiteId, Versions};
use tokio::sync::mpsc;

use crate::core::{batch_chunks, chunk_versions};
use crate::message::Message;
use crate::transport::SyncReply;

/// Versions read from the store per step, at most.
const MAX_VERSIONS_PER_READ: u64 = 256;
/// Change rows a step aims at: the window of versions per read shrinks for
/// large versions, so the first frame leaves soon and memory stays small.
const CHANGES_PER_READ: usize = 4096;
/// Readers kept for the next sessions (sessions are served mostly one at
/// a time; each kept reader holds its SQLite page cache).
const KEPT_READERS: usize = 2;

/// Read connections on the node's database, kept between the sessions
/// served: opening one loads the schema and the sites, which was about
/// 15% of a node's CPU at 30 nodes (some 60 sessions a second across the
/// cluster, most with little or nothing to send). A kept reader catches
/// up with schema changes on its next read.
#[derive(Clone)]
pub(super) struct Readers {
    path: Arc<PathBuf>,
    idle: Arc<Mutex<Vec<Reader>>>,
}

impl Readers {
    pub fn new(path: &Path) -> Readers {
        Readers {
            path: Arc::new(path.to_path_buf()),
            idle: Arc::default(),
        }
    }

    fn take(&self) -> Result<Reader, OpenError> {
        let kept = self
            .idle
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .pop();
        kept.map_or_else(|| Reader::open(&self.path), Ok)
    }

    fn give_back(&self, reader: Reader) {
        let mut idle = self.idle.lock().unwrap_or_else(PoisonError::into_inner);
        if idle.len() < KEPT_READERS {
            idle.push(reader);
        }
    }
}

/// Streams `ranges` of the node's database to the peer, then finishes the
/// stream. Returns whether every range was sent.
pub(super) async fn serve(
    readers: Readers,
    ranges: Vec<(SiteId, RangeInclusive<u64>)>,
    mut reply: SyncReply,
    max_bytes: usize,
) -> bool {
    let started = std::time::Instant::now();
    if ranges.is_empty() {
        reply.finish().await;
        return true;
    }
    let (windows_tx, mut windows) = mpsc::channel(1);
    let reading = tokio::task::spawn_blocking(move || {
        let mut reader = readers.take()?;
        read_windows(&mut reader, ranges, &windows_tx)?;
        readers.give_back(reader);
        Ok::<(), ServeError>(())
    });
    while let Some(versions) = windows.recv().await {
        for frame in batch_chunks(chunk_versions(versions, max_bytes), max_bytes) {
            if let Err(error) = reply.send(&Message::SyncChunks(frame)).await {
                tracing::debug!(%error, "a sync session ended early");
                // Dropping the receiver stops the reads.
                return false;
            }
        }
    }
    match reading.await {
        Ok(Ok(())) => {
            let peer = reply.peer();
            reply.finish().await;
            tracing::debug!(%peer, took = ?started.elapsed(), "served a sync");
            true
        }
        Ok(Err(error)) => {
            tracing::warn!(%error, "reading versions to serve a sync");
            false
        }
        Err(error) => std::panic::resume_unwind(error.into_panic()),
    }
}

#[derive(Debug, thiserror::Error)]
enum ServeError {
    #[error("opening a reader: {0}")]
    Open(#[from] OpenError),
    #[error(transparent)]
    Read(#[from] ReadError),
}

/// Reads `ranges` window by window into `windows`, until done or until the
/// receiving end is gone.
fn read_windows(
    reader: &mut Reader,
    ranges: Vec<(SiteId, RangeInclusive<u64>)>,
    windows: &mpsc::Sender<Vec<Versions>>,
) -> Result<(), ServeError> {
    let mut window = 1u64;
    for (site, range) in ranges {
        let mut start = *range.start();
        while start <= *range.end() {
            let end = (*range.end()).min(start.saturating_add(window - 1));
            let versions = reader.changes(site, start..=end)?;
            let changes: usize = versions.iter().map(change_rows).sum();
            let read = end - start + 1;
            // Grows at most twofold: after a few small versions may come
            // large ones.
            window = next_window(read, changes).min(window.saturating_mul(2));
            if windows.blocking_send(versions).is_err() {
                return Ok(());
            }
            if end == u64::MAX {
                break;
            }
            start = end + 1;
        }
    }
    Ok(())
}

fn change_rows(versions: &Versions) -> usize {
    match versions {
        Versions::Changed(set) => set.changes.len(),
        Versions::Cleared { .. } => 0,
    }
}

/// The next window: as many versions as make [`CHANGES_PER_READ`] change
/// rows at the size of the last ones, between 1 and
/// [`MAX_VERSIONS_PER_READ`].
fn next_window(versions: u64, changes: usize) -> u64 {
    let per_version = (changes as u64 / versions.max(1)).max(1);
    (CHANGES_PER_READ as u64 / per_version).clamp(1, MAX_VERSIONS_PER_READ)
}

/// Runs blocking SQLite work off the async threads.
pub(super) async fn blocking<T: Send + 'static>(work: impl FnOnce() -> T + Send + 'static) -> T {
    match tokio::task::spawn_blocking(work).await {
        Ok(value) => value,
        Err(error) => std::panic::resume_unwind(error.into_panic()),
    }
}

/// Tells the peer to come back later.
pub(super) async fn refuse(mut reply: SyncReply) {
    if reply.send(&Message::SyncBusy).await.is_ok() {
        reply.finish().await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn readers_are_kept_up_to_a_bound_and_follow_the_schema() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("db.sqlite");
        let mut store = patina_store::Store::open(&path).unwrap();
        let readers = Readers::new(&path);
        let taken: Vec<Reader> = (0..3).map(|_| readers.take().unwrap()).collect();
        for reader in taken {
            readers.give_back(reader);
        }
        assert_eq!(readers.idle.lock().unwrap().len(), KEPT_READERS);
        // A kept reader reads what was committed after it was opened,
        // in a table created since.
        store
            .apply_ddl("CREATE TABLE t (id INTEGER PRIMARY KEY)")
            .unwrap();
        store
            .conn()
            .execute("INSERT INTO t VALUES (1)", [])
            .unwrap();
        let mut reader = readers.take().unwrap();
        let head = store.db_version().unwrap();
        let versions = reader.changes(reader.site_id(), head..=head).unwrap();
        match versions.as_slice() {
            [Versions::Changed(set)] => assert!(set.changes.iter().any(|c| c.table == "t")),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn windows_shrink_for_large_versions_and_grow_for_small_ones() {
        assert_eq!(next_window(16, 16 * 10_000), 1);
        assert_eq!(next_window(1, 2_048), 2);
        assert_eq!(next_window(16, 16), MAX_VERSIONS_PER_READ);
        // Cleared versions carry no rows.
        assert_eq!(next_window(4, 0), MAX_VERSIONS_PER_READ);
    }
}
