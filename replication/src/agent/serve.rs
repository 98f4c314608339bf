//! Serving a peer's sync session: reading the versions it lacks on a
//! connection of our own, a window at a time, and streaming them as
//! chunks. The reads run on a blocking thread one window ahead of the
//! sends, so reading the next window overlaps sending the current one;
//! awaiting each send is the back-pressure that keeps memory bounded
//! (three windows: being read, queued, being sent) however much the peer
//! lacks, and the reads never hold the writer.

use std::ops::RangeInclusive;
use std::path::PathBuf;

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

/// Streams `ranges` of the database at `path` to the peer, then finishes
/// the stream. Returns whether every range was sent.
pub(super) async fn serve(
    path: PathBuf,
    ranges: Vec<(SiteId, RangeInclusive<u64>)>,
    mut reply: SyncReply,
    max_bytes: usize,
) -> bool {
    let started = std::time::Instant::now();
    let (windows_tx, mut windows) = mpsc::channel(1);
    let reading = tokio::task::spawn_blocking(move || read_windows(&path, ranges, &windows_tx));
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
    path: &std::path::Path,
    ranges: Vec<(SiteId, RangeInclusive<u64>)>,
    windows: &mpsc::Sender<Vec<Versions>>,
) -> Result<(), ServeError> {
    let mut reader = Reader::open(path)?;
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
    fn windows_shrink_for_large_versions_and_grow_for_small_ones() {
        assert_eq!(next_window(16, 16 * 10_000), 1);
        assert_eq!(next_window(1, 2_048), 2);
        assert_eq!(next_window(16, 16), MAX_VERSIONS_PER_READ);
        // Cleared versions carry no rows.
        assert_eq!(next_window(4, 0), MAX_VERSIONS_PER_READ);
    }
}
