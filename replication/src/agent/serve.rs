//! Serving a peer's sync session: reading the versions it lacks on a
//! connection of our own, a window at a time, and streaming them as
//! chunks. Awaiting each send is the back-pressure that keeps memory
//! bounded however much the peer lacks, and the reads never hold the
//! writer.

use std::ops::RangeInclusive;
use std::path::PathBuf;

use patina_store::{Reader, SiteId, Versions};

use crate::core::{batch_chunks, chunk_versions};
use crate::message::Message;
use crate::transport::SyncReply;

/// Versions read from the store per step.
const VERSIONS_PER_READ: u64 = 256;

/// Streams `ranges` of the database at `path` to the peer, then finishes
/// the stream. Returns whether every range was sent.
pub(super) async fn serve(
    path: PathBuf,
    ranges: Vec<(SiteId, RangeInclusive<u64>)>,
    mut reply: SyncReply,
    max_bytes: usize,
) -> bool {
    let mut reader = match blocking(move || Reader::open(&path)).await {
        Ok(reader) => reader,
        Err(error) => {
            tracing::warn!(%error, "opening a reader to serve a sync");
            return false;
        }
    };
    for (site, range) in ranges {
        let mut start = *range.start();
        while start <= *range.end() {
            let end = range
                .end()
                .min(&start.saturating_add(VERSIONS_PER_READ - 1))
                .to_owned();
            let (back, read) = blocking(move || {
                let read = reader.changes(site, start..=end);
                (reader, read)
            })
            .await;
            reader = back;
            let versions: Vec<Versions> = match read {
                Ok(versions) => versions,
                Err(error) => {
                    tracing::warn!(%error, %site, "reading versions to serve a sync");
                    return false;
                }
            };
            for frame in batch_chunks(chunk_versions(versions, max_bytes), max_bytes) {
                if let Err(error) = reply.send(&Message::SyncChunks(frame)).await {
                    tracing::debug!(%error, "a sync session ended early");
                    return false;
                }
            }
            start = end.saturating_add(1);
            if end == u64::MAX {
                break;
            }
        }
    }
    reply.finish().await;
    true
}

/// Tells the peer to come back later.
pub(super) async fn refuse(mut reply: SyncReply) {
    if reply.send(&Message::SyncBusy).await.is_ok() {
        reply.finish().await;
    }
}

/// Runs blocking SQLite work off the async threads.
pub(super) async fn blocking<T: Send + 'static>(work: impl FnOnce() -> T + Send + 'static) -> T {
    match tokio::task::spawn_blocking(work).await {
        Ok(value) => value,
        Err(error) => std::panic::resume_unwind(error.into_panic()),
    }
}
