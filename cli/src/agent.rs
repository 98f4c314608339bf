//! `patina agent`: opens the node's database and serves PostgreSQL clients
//! until SIGINT or SIGTERM.

use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::Context;
use patina_pg::server::{self, Database};
use patina_store::{Durability, Store};

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
    let listener = tokio::net::TcpListener::bind(args.pg_addr)
        .await
        .with_context(|| format!("listening for PostgreSQL clients on {}", args.pg_addr))?;
    tracing::info!(pg_addr = %args.pg_addr, data = %path.display(), %site, "patina node ready");
    server::serve(listener, db, shutdown_signal()).await;
    tracing::info!("shutting down");
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
