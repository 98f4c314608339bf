//! A handle on a running agent: its status (what the node's system views
//! and `patina cluster status` show) and what an operator may ask of it.
//! `lag` says since when each site's replication lags, `departures` which
//! down members left.

mod departures;
mod lag;

use std::collections::{BTreeMap, HashMap};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, PoisonError, RwLock};
use std::time::{Duration, SystemTime};

use tokio::sync::mpsc;

use patina_store::SiteId;

use crate::core::{MemberState, Node};
use crate::identity::NodeId;
use crate::message::{Chunk, Message};
use crate::sync::SyncState;
use crate::transport::Transport;

/// What the agent knows of the cluster, as of `updated`.
#[derive(Debug, Clone)]
pub struct AgentStatus {
    pub id: NodeId,
    pub members: Vec<MemberStatus>,
    /// Per site, the versions this node holds.
    pub have: SyncState,
    /// Per site, the highest version this node has heard exists (from
    /// broadcasts, sync sessions and peers' sync requests), held or not.
    pub heard: BTreeMap<SiteId, u64>,
    /// Whether anti-entropy saw that this node lacks versions.
    pub behind: bool,
    /// Per site this node lacks versions of, since when the oldest of
    /// them has been known to exist (see `lag`): the replication lag in
    /// time is the time since. Sites it lacks nothing of are absent.
    pub lagging_since: BTreeMap<SiteId, SystemTime>,
    pub updated: SystemTime,
}

/// One member as this node sees it.
#[derive(Debug, Clone)]
pub struct MemberStatus {
    pub id: NodeId,
    pub state: MemberState,
    /// Down because it announced it left (rather than failed).
    pub left: bool,
    /// QUIC's round-trip time on this node's connection to it.
    pub rtt: Option<Duration>,
    /// When a message from it last arrived.
    pub last_seen: Option<SystemTime>,
}

/// What the agent's loop is asked to do.
#[derive(Debug)]
pub(crate) enum Command {
    /// Announce this node to the bootstrap peers again.
    Rejoin,
}

/// The agent stopped; it can no longer be asked anything.
#[derive(Debug, thiserror::Error)]
#[error("the cluster agent is not running")]
pub struct AgentStopped;

/// Cheap to clone; usable from any thread.
#[derive(Debug, Clone)]
pub struct AgentHandle {
    status: Arc<RwLock<AgentStatus>>,
    commands: mpsc::UnboundedSender<Command>,
    /// What the refreshes remember from one to the next.
    tracking: Arc<Mutex<Tracking>>,
}

#[derive(Debug, Default)]
struct Tracking {
    lag: lag::LagTracker,
    departures: departures::Departures,
}

impl AgentHandle {
    pub(crate) fn new(status: AgentStatus) -> (AgentHandle, mpsc::UnboundedReceiver<Command>) {
        let (commands, receiver) = mpsc::unbounded_channel();
        let handle = AgentHandle {
            status: Arc::new(RwLock::new(status)),
            commands,
            tracking: Arc::default(),
        };
        (handle, receiver)
    }

    /// The latest status (refreshed on membership changes and timer ticks).
    pub fn status(&self) -> AgentStatus {
        self.status
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Announces this node to its bootstrap peers again: after a partition
    /// that left it alone, or to re-introduce a node its peers forgot.
    pub fn rejoin(&self) -> Result<(), AgentStopped> {
        self.commands
            .send(Command::Rejoin)
            .map_err(|_| AgentStopped)
    }

    /// Refreshes the status from the node, the transport and when each
    /// peer was last heard from (forgetting peers that are no members).
    pub(crate) fn refresh(
        &self,
        node: &Node,
        transport: &Transport,
        last_seen: &mut HashMap<SocketAddr, SystemTime>,
        heard: &Heard,
    ) {
        let now = SystemTime::now();
        let members = node.members();
        last_seen.retain(|addr, _| members.iter().any(|m| m.id.addr == *addr));
        let mut tracking = self.tracking.lock().unwrap_or_else(PoisonError::into_inner);
        tracking.departures.observe(&members);
        let lagging_since = tracking.lag.observe(now, node.have(), &heard.0);
        super::metrics::lag(&lagging_since, now);
        let members = members
            .into_iter()
            .map(|member| MemberStatus {
                rtt: transport.rtt(member.id.addr),
                last_seen: last_seen.get(&member.id.addr).copied(),
                left: tracking.departures.left(&member.id),
                id: member.id,
                state: member.state,
            })
            .collect();
        drop(tracking);
        let status = AgentStatus {
            id: node.id(),
            members,
            have: node.have().clone(),
            heard: heard.0.clone(),
            behind: node.is_behind(),
            lagging_since,
            updated: now,
        };
        *self.status.write().unwrap_or_else(PoisonError::into_inner) = status;
    }
}

/// The highest version of each site this node has heard of.
#[derive(Debug, Default)]
pub(crate) struct Heard(BTreeMap<SiteId, u64>);

impl Heard {
    fn saw(&mut self, site: SiteId, version: u64) {
        let max = self.0.entry(site).or_default();
        *max = (*max).max(version);
    }

    /// Versions carried by broadcast or sync chunks.
    pub fn chunks(&mut self, chunks: &[Chunk]) {
        for chunk in chunks {
            match chunk {
                Chunk::Changes { site, version, .. } => self.saw(*site, *version),
                Chunk::Cleared { site, versions } => self.saw(*site, *versions.end()),
            }
        }
    }

    /// What a message shows exists: broadcast chunks, or a peer's holdings
    /// in its sync request.
    pub fn message(&mut self, message: &Message) {
        match message {
            Message::Broadcast(chunks) | Message::SyncChunks(chunks) => self.chunks(chunks),
            Message::SyncRequest(state) => self.state(state),
            Message::Swim(_) | Message::SyncBusy => {}
        }
    }

    /// A peer's holdings.
    pub fn state(&mut self, state: &SyncState) {
        for (site, progress) in &state.sites {
            self.saw(*site, progress.max_version);
        }
    }
}
