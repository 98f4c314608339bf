//! `patina`: the command-line entry point, one file per subcommand.
//!
//! - `agent`: runs a node (`config/`: its configuration; `logging`,
//!   `metrics`: its logs and Prometheus endpoint; `replication`: its
//!   database as the replication agent sees it; `memory`: malloc and
//!   SQLite memory given back when idle);
//! - `exec`, `query`: SQL against a node (`conn`: where to connect;
//!   `pgclient`: the wire protocol; `output`: how results print);
//! - `cluster`, `reload`: the node's cluster views and procedures over the
//!   pg wire (`cluster_view`: what the agent lends the views);
//! - `backup`, `restore`: snapshots of a running node, made a stopped
//!   node's database (`data_dir`: the lock that tells the two apart);
//! - `tls`: certificates; `hash_password`: password verifiers.

mod agent;
mod backup;
mod cluster;
mod cluster_view;
mod config;
mod conn;
mod data_dir;
mod exec;
mod hash_password;
mod logging;
mod memory;
mod metrics;
mod output;
mod pgclient;
mod query;
mod reload;
mod replication;
mod restore;
mod tls;

use std::process::ExitCode;

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
    Agent(Box<agent::AgentArgs>),
    /// Runs SQL on a node and prints each statement's command tag.
    Exec(exec::ExecArgs),
    /// Runs SQL on a node and prints the rows (a table, --json or --csv).
    Query(query::QueryArgs),
    /// The cluster as the node sees it: its members, its own status, and
    /// rejoining.
    #[command(subcommand)]
    Cluster(cluster::ClusterCommand),
    /// Applies the node's schema files again without a restart, printing
    /// what changed or why nothing did.
    Reload(reload::ReloadArgs),
    /// Writes a consistent snapshot of a running node to a file.
    Backup(backup::BackupArgs),
    /// Makes a backup the database of a stopped node, which then catches
    /// up from the cluster.
    Restore(restore::RestoreArgs),
    /// Makes TLS certificates for peers and pg listeners.
    #[command(subcommand)]
    Tls(tls::TlsCommand),
    /// Reads a password from stdin and prints its verifier for the config
    /// file's [[pg.users]].
    HashPassword(hash_password::HashPasswordArgs),
}

/// Exit code of a bad configuration or an unreachable node (as psql's
/// for a failed connection).
const EXIT_SETUP: u8 = 2;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Agent(args) => agent::run(*args),
        command => {
            logging::init_quiet();
            match command {
                Command::Exec(args) => exec::run(args),
                Command::Query(args) => query::run(args),
                Command::Cluster(command) => cluster::run(command),
                Command::Reload(args) => reload::run(args),
                Command::Backup(args) => backup::run(args),
                Command::Restore(args) => restore::run(args),
                Command::Tls(command) => tls::run(command),
                Command::HashPassword(args) => hash_password::run(args),
                Command::Agent(_) => unreachable!("handled above"),
            }
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => ExitCode::from(report(&error)),
    }
}

/// Prints the error to stderr and says which exit code it means.
#[allow(clippy::print_stderr)]
fn report(error: &anyhow::Error) -> u8 {
    if let Some(server) = error.downcast_ref::<pgclient::ServerError>() {
        // as psql shows it, with the SQLSTATE
        eprintln!("{server}");
        if let Some(detail) = &server.detail {
            eprintln!("DETAIL:  {detail}");
        }
        if let Some(hint) = &server.hint {
            eprintln!("HINT:  {hint}");
        }
        return 1;
    }
    eprintln!("patina: {error:#}");
    let setup = error.downcast_ref::<config::ConfigError>().is_some()
        || matches!(
            error.downcast_ref::<pgclient::ClientError>(),
            Some(pgclient::ClientError::Unreachable { .. })
        );
    if setup { EXIT_SETUP } else { 1 }
}
