//! The node's database as the replication agent sees it: the pg front
//! door's writer for merges, its commit signal for broadcasts.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use patina_pg::server::Database;
use patina_replication::agent::Storage;
use patina_store::{MergeError, MergeOutcome, Versions};
use tokio::sync::Notify;

#[derive(Debug)]
pub struct NodeStorage {
    db: Database,
    path: PathBuf,
    commits: Arc<Notify>,
}

impl NodeStorage {
    pub fn new(db: Database) -> NodeStorage {
        NodeStorage {
            path: db.path().to_path_buf(),
            commits: db.commits(),
            db,
        }
    }
}

impl Storage for NodeStorage {
    fn path(&self) -> &Path {
        &self.path
    }

    async fn merge(&self, batch: Vec<Versions>) -> Result<MergeOutcome, MergeError> {
        self.db.merge(batch).await
    }

    async fn committed(&self) {
        self.commits.notified().await;
    }
}
