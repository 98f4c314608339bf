//! What nodes say to each other. Every message travels as one frame
//! (see `wire`); the transport decides the channel: SWIM packets as QUIC
//! datagrams, broadcasts on unidirectional streams, a sync session on one
//! bidirectional stream (the request one way, the versions the other).

use std::ops::RangeInclusive;

use patina_store::{Change, Keys, SiteId};
use serde::{Deserialize, Serialize};

use crate::sync::SyncState;

/// A piece of one site's version: a whole small change set, one part of a
/// large one (reassembled before it is applied, never applied half), or a
/// run of versions that no longer hold any change.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Chunk {
    Changes {
        site: SiteId,
        version: u64,
        /// Position of this part and how many parts the version has.
        part: u32,
        parts: u32,
        changes: Vec<Change>,
        /// The version's [`Keys`] (every part carries all of them).
        keys: Keys,
    },
    Cleared {
        site: SiteId,
        versions: RangeInclusive<u64>,
    },
}

impl Chunk {
    pub fn site(&self) -> SiteId {
        match self {
            Chunk::Changes { site, .. } | Chunk::Cleared { site, .. } => *site,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Message {
    /// A SWIM packet, opaque to everything but foca.
    Swim(Vec<u8>),
    /// Freshly committed changes being spread by gossip.
    Broadcast(Vec<Chunk>),
    /// Opens a sync session: what the asking node already has.
    SyncRequest(SyncState),
    /// Part of the answer to a sync request.
    SyncChunks(Vec<Chunk>),
    /// The answering node is serving too many sessions; ask again later.
    SyncBusy,
}
