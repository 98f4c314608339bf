//! Reading this node's freshly committed versions, so they are broadcast
//! the moment they commit.

use std::sync::Arc;

use patina_store::{ReadError, Reader, Versions};
use tokio::sync::mpsc;

use super::Storage;
use super::serve::blocking;

/// Waits for commits and sends each run of new local versions, read on a
/// connection of its own, to `out`. Versions committed before the agent
/// started are not sent: anti-entropy spreads those. Ends when `out`
/// closes.
pub(super) async fn watch_commits<S: Storage>(
    storage: Arc<S>,
    mut reader: Reader,
    mut last: u64,
    out: mpsc::Sender<Vec<Versions>>,
) {
    loop {
        storage.committed().await;
        let (back, read) = blocking(move || {
            let read = new_versions(&mut reader, last);
            (reader, read)
        })
        .await;
        reader = back;
        match read {
            Ok(Some(NewVersions { head, versions })) => {
                tracing::trace!(from = last + 1, to = head, "broadcasting local versions");
                last = head;
                if out.send(versions).await.is_err() {
                    return;
                }
            }
            Ok(None) => {}
            Err(error) => tracing::warn!(%error, "reading local changes to broadcast"),
        }
    }
}

/// Versions committed after the last ones read, up to `head`.
struct NewVersions {
    head: u64,
    versions: Vec<Versions>,
}

fn new_versions(reader: &mut Reader, last: u64) -> Result<Option<NewVersions>, ReadError> {
    let head = reader.db_version()?;
    if head <= last {
        return Ok(None);
    }
    let versions = reader.changes(reader.site_id(), last + 1..=head)?;
    Ok(Some(NewVersions { head, versions }))
}
