//! `patina`: the command-line entry point. `patina agent` runs a node.

mod agent;
mod replication;

use clap::{Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(
    name = "patina",
    version,
    about = "A replicated SQL database that speaks PostgreSQL"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Runs a node: the local database, its PostgreSQL front door and its
    /// place in the cluster.
    Agent(agent::AgentArgs),
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    init_logging();
    match cli.command {
        Command::Agent(args) => agent::run(args),
    }
}

/// Logs to stderr; `RUST_LOG` filters (default: info).
fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .init();
}
