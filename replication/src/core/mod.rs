//! The sans-IO node: membership (foca SWIM), broadcast of fresh change
//! sets, reassembly of versions cut into parts, apply batching and
//! anti-entropy scheduling. Messages, sync answers, apply outcomes and the
//! current time go in; messages, sync requests, batches to merge, events
//! and the next deadline come out. No socket, no clock, no global RNG: one
//! seed replays a node exactly, so the simulation tests
//! (`tests/simulation.rs`) run whole clusters on virtual time.
//!
//! See [`Node`] for how a driver calls it.
//!
//! # Layout
//! - `node`: [`Node`], tying the pieces together.
//! - `config`: [`Config`].
//! - `membership`: the foca runtime glue, [`Member`], [`Event`].
//! - `chunk`: [`chunk_versions`] and size estimates; `reassembly`: parts
//!   waiting for the rest of their version.
//! - `broadcast`: the outgoing batch window and random fan-out.
//! - `anti_entropy`: sync rounds, sessions opened and served.
//! - `apply`: batches of complete versions; `timers`: the SWIM timer queue;
//!   `recontact`: how often members seen down are announced to.

mod anti_entropy;
mod apply;
mod broadcast;
mod chunk;
mod config;
mod membership;
mod node;
mod reassembly;
mod recontact;
mod timers;

pub use chunk::{batch_chunks, change_size, chunk_size, chunk_versions};
pub use config::{Config, SWIM_MAX_PACKET};
pub use membership::{Event, Member, MemberState};
pub use node::{Applied, Node};
pub use reassembly::ChunkError;
