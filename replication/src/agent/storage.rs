//! What the agent needs from the node's database: a narrow trait, so this
//! crate knows nothing of the pg front door that owns the writer.

use std::future::Future;
use std::path::Path;

use patina_store::{MergeError, MergeOutcome, Versions};

pub trait Storage: Send + Sync + 'static {
    /// The database file; the agent opens its own read-only connections on
    /// it (`patina_store::Reader`) to extract and serve changes.
    fn path(&self) -> &Path;

    /// Applies versions from other nodes in one transaction through the
    /// node's single writer. All or nothing.
    fn merge(
        &self,
        batch: Vec<Versions>,
    ) -> impl Future<Output = Result<MergeOutcome, MergeError>> + Send;

    /// Resolves after a local transaction committed (possibly more than
    /// one since the last call, possibly spuriously).
    fn committed(&self) -> impl Future<Output = ()> + Send;
}
