//! `patina agent`: opens the node's database, joins the cluster and serves
//! PostgreSQL clients until SIGINT or SIGTERM.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use patina_pg::server::{self, Database};
use patina_replication::agent::{Agent, AgentConfig};
use patina_replication::core;
use patina_replication::tls::PeerTls;
use patina_store::{Durability, Store};
use tokio::sync::watch;

use crate::replication::NodeStorage;

/// How long leaving the cluster may take at shutdown.
const LEAVE_DEADLINE: Duration = Duration::from_secs(3);

#[derive(Debug, clap::Args)]
pub struct AgentArgs {
    /// Folder of the node's database (created if missing).
    #[arg(long, default_value = "./patina-data")]
    data_dir: PathBuf,
    /// Address the PostgreSQL front door listens on.
    #[arg(long, default_value = "127.0.0.1:5433")]
    pg_addr: SocketAddr,
    /// When a commit is on disk: `normal` survives a crash of the process
    /// (a power loss may lose the last commits), `full` fsyncs every commit.
    #[arg(long, value_enum, default_value_t = DurabilityArg::Normal)]
    durability: DurabilityArg,
    /// UDP address of the node's QUIC endpoint for its peers.
    #[arg(long, default_value = "127.0.0.1:7878")]
    gossip_addr: SocketAddr,
    /// Gossip address of a member to join through (repeatable). Without
    /// any, the node starts a cluster of its own that others may join.
    #[arg(long = "bootstrap", value_name = "ADDR")]
    bootstrap: Vec<SocketAddr>,
    /// CA certificate (PEM) that signs every peer's certificate: turns on
    /// mutual TLS between peers. Needs --peer-cert and --peer-key.
    #[arg(long, requires_all = ["peer_cert", "peer_key"], value_name = "PATH")]
    peer_ca: Option<PathBuf>,
    /// This node's certificate (PEM), signed by --peer-ca.
    #[arg(long, requires_all = ["peer_ca", "peer_key"], value_name = "PATH")]
    peer_cert: Option<PathBuf>,
    /// The private key (PEM) of --peer-cert.
    #[arg(long, requires_all = ["peer_ca", "peer_cert"], value_name = "PATH")]
    peer_key: Option<PathBuf>,
}

impl AgentArgs {
    fn peer_tls(&self) -> PeerTls {
        match (&self.peer_ca, &self.peer_cert, &self.peer_key) {
            (Some(ca), Some(cert), Some(key)) => PeerTls::Mutual {
                ca: ca.clone(),
                cert: cert.clone(),
                key: key.clone(),
            },
            _ => PeerTls::Insecure,
        }
    }
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
enum DurabilityArg {
    Normal,
    Full,
}

impl From<DurabilityArg> for Durability {
    fn from(arg: DurabilityArg) -> Durability {
        match arg {
            DurabilityArg::Normal => Durability::Normal,
            DurabilityArg::Full => Durability::Full,
        }
    }
}

pub fn run(args: AgentArgs) -> anyhow::Result<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    runtime.block_on(serve(args))
}

async fn serve(args: AgentArgs) -> anyhow::Result<()> {
    std::fs::create_dir_all(&args.data_dir)
        .with_context(|| format!("creating the data directory {}", args.data_dir.display()))?;
    let path = args.data_dir.join("patina.db");
    let store = Store::open_with(&path, args.durability.into())
        .with_context(|| format!("opening the database {}", path.display()))?;
    let site = store.site_id();
    let db = Database::new(store).with_context(|| format!("preparing {}", path.display()))?;
    let config = AgentConfig {
        gossip_addr: args.gossip_addr,
        bootstrap: args.bootstrap.clone(),
        tls: args.peer_tls(),
        core: core::Config::default(),
    };
    let agent = Agent::bind(config, Arc::new(NodeStorage::new(db.clone())))
        .context("joining the cluster")?;
    let listener = tokio::net::TcpListener::bind(args.pg_addr)
        .await
        .with_context(|| format!("listening for PostgreSQL clients on {}", args.pg_addr))?;
    let (stop, stopped) = watch::channel(false);
    let replication = tokio::spawn(agent.run(async move {
        let mut stopped = stopped;
        let _ = stopped.wait_for(|stop| *stop).await;
    }));
    tracing::info!(
        pg_addr = %args.pg_addr,
        gossip_addr = %args.gossip_addr,
        data = %path.display(),
        %site,
        "patina node ready"
    );
    server::serve(listener, db, shutdown_signal()).await;
    tracing::info!("shutting down: leaving the cluster");
    let _ = stop.send(true);
    if tokio::time::timeout(LEAVE_DEADLINE, replication)
        .await
        .is_err()
    {
        tracing::warn!("leaving the cluster took too long; stopping anyway");
    }
    Ok(())
}

/// Resolves at the first SIGINT or SIGTERM.
async fn shutdown_signal() {
    let interrupt = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut terminate =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(signal) => signal,
                Err(error) => {
                    tracing::warn!(%error, "cannot watch SIGTERM");
                    let _ = interrupt.await;
                    return;
                }
            };
        tokio::select! {
            _ = interrupt => {}
            _ = terminate.recv() => {}
        }
    }
    #[cfg(not(unix))]
    let _ = interrupt.await;
}
