//! patina's cluster: SWIM membership (foca), QUIC transport (quinn with
//! rustls), broadcast of freshly committed change sets, and anti-entropy
//! sync that pulls whatever a node lacks.
//!
//! The decisions (who is a member, where to send a change set, what a peer
//! lacks, when to sync) are made by the sans-IO [`core::Node`]: messages,
//! timer expiries and the current time in; messages to send, change sets to
//! apply and timers out. It owns no socket, reads no clock and draws from a
//! seeded RNG, so the simulation tests run whole clusters on virtual time.
//! [`agent`] drives it with real sockets ([`transport`]) and the node's
//! store (through the narrow [`agent::Storage`] trait).
//!
//! This crate never parses SQL.
//!
//! # Layout
//! - [`identity`]: a member's identity (site id, gossip address, incarnation).
//! - [`message`]: what nodes say to each other; [`wire`]: how it is framed.
//! - [`sync`]: holdings per site and their difference.
//! - [`core`]: the sans-IO node.
//! - [`tls`], [`transport`]: QUIC endpoints, peer TLS, connections.
//! - [`agent`]: the async loop that connects them to a store.

pub mod agent;
pub mod core;
pub mod identity;
pub mod message;
pub mod sync;
pub mod tls;
pub mod transport;
pub mod wire;

pub use identity::NodeId;
pub use message::{Chunk, Message};
pub use sync::SyncState;
