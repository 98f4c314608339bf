//! Moving the WAL back into the database file, beside the writer.
//!
//! SQLite's automatic checkpoint runs inside the commit that crosses the WAL
//! size limit, so one client in every few thousand pays for copying
//! megabytes and an fsync. The server runs passive checkpoints from a
//! thread of its own: they never block the writer or readers. Under a
//! steady stream of writes they never catch up with the last commit, and
//! only a checkpoint on the writer lets the WAL start over, so the writer
//! keeps one at a higher limit: by then most pages were copied already.

use std::path::Path;
use std::time::Duration;

use rusqlite::Connection;

/// WAL pages after which the writer checkpoints what is left.
pub(crate) const WRITER_LIMIT_PAGES: i64 = 4000;

/// How often the WAL is checkpointed.
const INTERVAL: Duration = Duration::from_millis(500);

/// Starts the checkpoint thread for the database at `path`; it lives as
/// long as the process.
pub(crate) fn spawn(path: &Path) -> std::io::Result<()> {
    let path = path.to_path_buf();
    std::thread::Builder::new()
        .name("patina-checkpoint".to_owned())
        .spawn(move || run(&path))
        .map(|_| ())
}

fn run(path: &Path) {
    let conn = match Connection::open(path) {
        Ok(conn) => conn,
        Err(error) => {
            tracing::error!(%error, "cannot open the database to checkpoint it; the WAL will grow");
            return;
        }
    };
    loop {
        std::thread::sleep(INTERVAL);
        if let Err(error) = checkpoint(&conn) {
            tracing::warn!(%error, "checkpointing the WAL failed");
        }
    }
}

/// A passive checkpoint: copies what committed since the last one, and
/// costs nothing when nothing did.
fn checkpoint(conn: &Connection) -> rusqlite::Result<()> {
    let (wal_pages, copied): (i64, i64) =
        conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |r| {
            Ok((r.get(1)?, r.get(2)?))
        })?;
    tracing::trace!(wal_pages, copied, "checkpointed the WAL");
    Ok(())
}
