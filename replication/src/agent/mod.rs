//! The async driver: one task owns the sans-IO [`Node`] and feeds it what
//! the transport receives, what the store commits and what the timers say;
//! after every input it carries out what the node asks for (send, open a
//! sync, apply). Everything slow (SQLite reads, merges, sync sessions) runs
//! in tasks of its own and reports back on channels, so the loop never
//! waits on the network or the disk.

mod apply;
mod handle;
mod local;
mod metrics;
mod serve;
mod storage;

use std::collections::HashMap;
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use patina_store::{OpenError, ReadError, Reader, Versions};
use tokio::sync::mpsc;

pub use handle::{AgentHandle, AgentStatus, AgentStopped, MemberStatus};
pub use storage::Storage;

use crate::NodeId;
use crate::core::{self, Event, Node};
use crate::message::{Chunk, Message};
use crate::sync::SyncState;
use crate::tls::PeerTls;
use crate::transport::{Inbound, Transport, TransportError};

/// Complete versions waiting to be applied beyond which sync sessions stop
/// being read (their peers wait, by QUIC flow control) until the store
/// catches up.
const MAX_APPLY_BACKLOG: usize = 4096;

/// How long a leaving node keeps its connections open after announcing
/// that it leaves: closing a QUIC connection discards what the peer
/// received but has not read yet, the announcement with it (Serf waits
/// the same way, its `LeavePropagateDelay`).
const LEAVE_PROPAGATION: std::time::Duration = std::time::Duration::from_millis(500);

/// How often at most the status an [`AgentHandle`] reads is refreshed.
const STATUS_INTERVAL: std::time::Duration = std::time::Duration::from_millis(250);

#[derive(Debug, Clone)]
pub struct AgentConfig {
    /// The UDP address of this node's QUIC endpoint.
    pub gossip_addr: SocketAddr,
    /// The address peers reach this node at, when it is not the bound one
    /// (a wildcard bind, NAT): what this node tells the cluster it is.
    pub external_addr: Option<SocketAddr>,
    /// Gossip addresses of members to join through.
    pub bootstrap: Vec<SocketAddr>,
    pub tls: PeerTls,
    pub core: core::Config,
}

#[derive(Debug, thiserror::Error)]
pub enum AgentError {
    #[error("gossip transport on {addr}: {source}")]
    Transport {
        addr: SocketAddr,
        source: Box<TransportError>,
    },
    #[error("opening the database for replication: {0}")]
    Open(#[from] OpenError),
    #[error("reading the database for replication: {0}")]
    Read(#[from] ReadError),
}

/// What tasks of the agent report to its loop.
enum Report {
    SyncChunks(SocketAddr, Vec<Chunk>),
    SyncEnded(SocketAddr, bool),
    Served(SocketAddr),
}

/// A bound, not yet running agent.
#[derive(Debug)]
pub struct Agent<S: Storage> {
    storage: Arc<S>,
    transport: Transport,
    inbound: mpsc::Receiver<Inbound>,
    node: Node,
    config: AgentConfig,
    reader: Reader,
    head: u64,
    handle: AgentHandle,
    commands: mpsc::UnboundedReceiver<handle::Command>,
}

impl<S: Storage> Agent<S> {
    /// Binds the gossip endpoint and reads what this node holds. Must run
    /// inside a tokio runtime.
    pub fn bind(config: AgentConfig, storage: Arc<S>) -> Result<Agent<S>, AgentError> {
        let (transport, inbound) =
            Transport::bind(config.gossip_addr, &config.tls).map_err(|source| {
                AgentError::Transport {
                    addr: config.gossip_addr,
                    source: Box::new(source),
                }
            })?;
        let mut reader = Reader::open(storage.path())?;
        let have = SyncState {
            sites: reader.sync_state()?,
        };
        let head = reader.db_version()?;
        // A later start must win over the memory peers keep of this node's
        // previous run: wall-clock milliseconds only grow.
        let since_epoch = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default();
        let id = NodeId::new(
            reader.site_id(),
            config.external_addr.unwrap_or(transport.local_addr()),
            since_epoch.as_millis() as u64,
        );
        let seed =
            since_epoch.as_nanos() as u64 ^ u64::from_le_bytes(first_eight(id.site.as_bytes()));
        let node = Node::new(id, have.clone(), config.core.clone(), seed, Instant::now());
        let (handle, commands) = AgentHandle::new(AgentStatus {
            id,
            members: Vec::new(),
            have,
            heard: Default::default(),
            behind: false,
            lagging_since: Default::default(),
            updated: SystemTime::now(),
        });
        Ok(Agent {
            storage,
            transport,
            inbound,
            node,
            config,
            reader,
            head,
            handle,
            commands,
        })
    }

    pub fn id(&self) -> NodeId {
        self.node.id()
    }

    /// A handle on the agent once it runs: its status, and rejoining.
    pub fn handle(&self) -> AgentHandle {
        self.handle.clone()
    }

    /// Runs until `shutdown` resolves, then leaves the cluster (announced,
    /// so peers do not wait for a failure detector) and closes connections.
    pub async fn run(self, shutdown: impl Future<Output = ()>) {
        let Agent {
            storage,
            transport,
            mut inbound,
            mut node,
            config,
            reader,
            head,
            handle,
            mut commands,
        } = self;
        let (report_tx, mut reports) = mpsc::channel::<Report>(64);
        // Sync sessions report apart so the loop can stop reading them while
        // the store is behind (and their end comes after their chunks).
        let (chunks_tx, mut chunks) = mpsc::channel::<Report>(8);
        let (local_tx, mut local) = mpsc::channel::<Vec<Versions>>(64);
        let watcher = tokio::spawn(local::watch_commits(
            storage.clone(),
            reader,
            head,
            local_tx,
        ));
        let max_bytes = config.core.max_chunk_bytes;
        let readers = serve::Readers::new(storage.path());
        // The merge in progress, polled by this loop itself: no task to
        // spawn and no report to pass back for every merge.
        let mut applying: Option<Pin<Box<dyn Future<Output = apply::Applied> + Send>>> = None;

        let mut last_seen: HashMap<SocketAddr, SystemTime> = HashMap::new();
        let mut next_status = Instant::now();
        let mut heard = handle::Heard::default();
        node.join(&config.bootstrap, Instant::now());
        metrics::members(&node);
        tokio::pin!(shutdown);
        // One timer, moved only when the node's deadline changes: a fresh
        // one per input would be registered and cancelled every time.
        let timer = tokio::time::sleep(std::time::Duration::ZERO);
        tokio::pin!(timer);
        let mut armed: Option<Instant> = None;
        loop {
            drive(&mut node, &transport, &chunks_tx);
            // One merge at a time; versions completed meanwhile wait in the
            // node and go together in the next, larger batch.
            if applying.is_none()
                && let Some(batch) = node.poll_apply()
            {
                let storage = storage.clone();
                applying = Some(Box::pin(async move {
                    let started = Instant::now();
                    let versions = batch.len();
                    let results = apply::apply(storage.as_ref(), batch).await;
                    tracing::debug!(versions, took = ?started.elapsed(), "applied a batch");
                    results
                }));
            }
            let timeout = node.poll_timeout();
            if timeout != armed {
                if let Some(at) = timeout {
                    timer.as_mut().reset(at.into());
                }
                armed = timeout;
            }
            // Each input carries the time it arrived, not when the wait began.
            tokio::select! {
                () = &mut shutdown => break,
                Some(inbound) = inbound.recv() => match inbound {
                    Inbound::Message { from, message } => {
                        last_seen.insert(from, SystemTime::now());
                        heard.message(&message);
                        node.handle_message(from, message, Instant::now());
                    }
                    Inbound::Sync { from, request, reply } => {
                        heard.state(&request);
                        match node.serve_sync(from, &request, Instant::now()) {
                            None => { tokio::spawn(serve::refuse(reply)); }
                            Some(ranges) => {
                                let readers = readers.clone();
                                let report = report_tx.clone();
                                tokio::spawn(async move {
                                    serve::serve(readers, ranges, reply, max_bytes).await;
                                    let _ = report.send(Report::Served(from)).await;
                                });
                            }
                        }
                    }
                },
                Some(versions) = local.recv() => {
                    metrics::local_changes(&versions);
                    node.local_changes(versions, Instant::now());
                }
                Some(report) = reports.recv() => {
                    handle_report(&mut node, report, Instant::now());
                }
                results = merged(&mut applying) => {
                    applying = None;
                    metrics::applied(&results);
                    node.applied(results);
                }
                Some(report) = chunks.recv(), if node.apply_backlog() < MAX_APPLY_BACKLOG => {
                    if let Report::SyncChunks(_, received) = &report {
                        heard.chunks(received);
                    }
                    handle_report(&mut node, report, Instant::now());
                }
                Some(handle::Command::Rejoin) = commands.recv() => {
                    tracing::info!(bootstrap = ?config.bootstrap, "rejoining the cluster");
                    node.join(&config.bootstrap, Instant::now());
                }
                () = &mut timer, if armed.is_some() => {
                    armed = None;
                    let now = Instant::now();
                    node.handle_timeout(now);
                    if now >= next_status {
                        next_status = now + STATUS_INTERVAL;
                        handle.refresh(&node, &transport, &mut last_seen, &heard);
                    }
                    metrics::transport(transport.stats());
                }
            }
        }
        node.leave(Instant::now());
        drive(&mut node, &transport, &chunks_tx);
        tokio::time::sleep(LEAVE_PROPAGATION).await;
        watcher.abort();
        transport.close().await;
    }
}

/// The outcome of the merge in progress; never resolves while there is
/// none.
async fn merged(
    applying: &mut Option<Pin<Box<dyn Future<Output = apply::Applied> + Send>>>,
) -> apply::Applied {
    match applying {
        Some(merge) => merge.await,
        None => std::future::pending().await,
    }
}

fn handle_report(node: &mut Node, report: Report, now: Instant) {
    match report {
        Report::SyncChunks(from, chunks) => node.sync_chunks(from, chunks, now),
        Report::SyncEnded(peer, ok) => {
            metrics::sync_ended(ok);
            node.sync_ended(peer, ok, now);
        }
        Report::Served(from) => node.served(from),
    }
}

/// Carries out everything the node asks for after an input.
fn drive(node: &mut Node, transport: &Transport, sessions: &mpsc::Sender<Report>) {
    let mut membership_changed = false;
    while let Some(event) = node.poll_event() {
        membership_changed |= matches!(
            event,
            Event::MemberUp(_) | Event::MemberDown(_) | Event::MemberRenamed { .. }
        );
        // The node logs membership changes itself. A member that comes up
        // (again) may be a new process on an address this node still has
        // a connection to, which died with the previous one.
        if let Event::MemberRenamed { new: id, .. } | Event::MemberUp(id) = event {
            transport.reconnect(id.addr);
        }
    }
    if membership_changed {
        metrics::members(node);
    }
    while let Some((to, message)) = node.poll_transmit_many() {
        transport.send_to_all(&to, message);
    }
    while let Some((peer, request)) = node.poll_sync() {
        let transport = transport.clone();
        let sessions = sessions.clone();
        tokio::spawn(async move {
            let started = Instant::now();
            let ok = sync_with(&transport, peer, request, &sessions).await;
            tracing::debug!(%peer, ok, took = ?started.elapsed(), "sync session ended");
            let _ = sessions.send(Report::SyncEnded(peer, ok)).await;
        });
    }
}

/// One sync session this node opened: forwards every chunk the peer sends.
async fn sync_with(
    transport: &Transport,
    peer: SocketAddr,
    request: SyncState,
    chunks: &mpsc::Sender<Report>,
) -> bool {
    let mut session = match transport.open_sync(peer, request).await {
        Ok(session) => session,
        Err(error) => {
            tracing::debug!(%peer, %error, "cannot open a sync session");
            return false;
        }
    };
    loop {
        match session.next().await {
            Ok(Some(Message::SyncChunks(received))) => {
                if chunks
                    .send(Report::SyncChunks(peer, received))
                    .await
                    .is_err()
                {
                    return false;
                }
            }
            Ok(Some(Message::SyncBusy)) => return false,
            Ok(Some(other)) => {
                tracing::warn!(%peer, message = ?kind(&other), "unexpected message in a sync session");
                return false;
            }
            Ok(None) => return true,
            Err(error) => {
                tracing::debug!(%peer, %error, "sync session failed");
                return false;
            }
        }
    }
}

fn kind(message: &Message) -> &'static str {
    match message {
        Message::Swim(_) => "swim",
        Message::Broadcast(_) => "broadcast",
        Message::SyncRequest(_) => "sync request",
        Message::SyncChunks(_) => "sync chunks",
        Message::SyncBusy => "sync busy",
    }
}

fn first_eight(bytes: &[u8; 16]) -> [u8; 8] {
    let mut out = [0; 8];
    out.copy_from_slice(&bytes[..8]);
    out
}
