//! `COPY patina.backup TO STDOUT`: a consistent online snapshot of the
//! node's database, streamed to the client as the COPY's data (the file's
//! bytes, in no COPY format: psql's `\copy patina.backup to 'file'` and
//! `patina backup <file>` write it out as is).
//!
//! The snapshot is SQLite's `VACUUM INTO` on a connection of its own: one
//! read transaction, so it is consistent, and it never waits for the
//! writer nor makes it wait (WAL). It is written next to the database
//! (the data directory must have room for one more copy), then streamed
//! and removed — also when the client goes away mid-stream.

use std::io::{self, Read};
use std::path::{Path, PathBuf};

use bytes::Bytes;
use futures::{Sink, SinkExt, Stream};
use pgwire::error::PgWireError;
use pgwire::messages::copy::{CopyData, CopyDone, CopyOutResponse};
use pgwire::messages::{PgWireBackendMessage as Out, PgWireFrontendMessage as In};

use super::errors::PgError;
use super::session::Session;

/// Bytes per CopyData message.
const CHUNK: usize = 64 * 1024;

/// The snapshot file, removed when dropped.
struct Snapshot(PathBuf);

impl Drop for Snapshot {
    fn drop(&mut self) {
        if let Err(error) = std::fs::remove_file(&self.0)
            && error.kind() != io::ErrorKind::NotFound
        {
            tracing::warn!(path = %self.0.display(), %error, "removing a backup snapshot failed");
        }
    }
}

/// Takes the snapshot of the database at `database` into a new file
/// beside it.
fn snapshot(database: &Path) -> Result<Snapshot, PgError> {
    let name = format!(
        ".patina-backup-{}.tmp",
        uuid::Uuid::new_v4()
            .simple()
            .to_string()
            .get(..12)
            .unwrap_or("0")
    );
    let snapshot = Snapshot(database.with_file_name(name));
    let failed = |error: &dyn std::fmt::Display| {
        PgError::new(
            "58030",
            format!(
                "could not write the backup snapshot {}: {error}",
                snapshot.0.display()
            ),
        )
    };
    let conn = patina_store::Store::open_reader_at(database).map_err(|e| failed(&e))?;
    conn.execute("VACUUM INTO ?1", [snapshot.0.to_string_lossy()])
        .map_err(|e| failed(&e))?;
    Ok(snapshot)
}

/// Streams a snapshot: the command tag, or the error to report; `Err` when
/// the connection failed.
pub(super) async fn run<W>(
    wire: &mut W,
    session: &mut Session,
) -> io::Result<Result<String, PgError>>
where
    W: Stream<Item = Result<In, PgWireError>> + Sink<Out, Error = io::Error> + Unpin,
{
    let database = session.database_path().to_path_buf();
    let taken = tokio::task::spawn_blocking(move || snapshot(&database))
        .await
        .map_err(io::Error::other)?;
    let snapshot = match taken {
        Ok(snapshot) => snapshot,
        Err(error) => {
            session.fail();
            return Ok(Err(error));
        }
    };
    let mut file = std::fs::File::open(&snapshot.0)?;
    wire.feed(Out::CopyOutResponse(CopyOutResponse::new(0, 1, vec![0])))
        .await?;
    let mut bytes: u64 = 0;
    loop {
        let mut chunk = vec![0; CHUNK];
        let read = file.read(&mut chunk)?;
        if read == 0 {
            break;
        }
        chunk.truncate(read);
        bytes += read as u64;
        wire.feed(Out::CopyData(CopyData::new(Bytes::from(chunk))))
            .await?;
    }
    wire.feed(Out::CopyDone(CopyDone::new())).await?;
    tracing::info!(bytes, "backup streamed");
    Ok(Ok("COPY 1".to_owned()))
}
