//! `patina cluster members | status | rejoin`: the cluster as the node
//! sees it, read from its system views over the pg wire like any client
//! would (`patina.members`, `patina.node`, `patina.sync_state`), and
//! `CALL patina_rejoin()`.

use crate::conn::ConnectArgs;
use crate::output::{self, Format};
use crate::reload;

#[derive(Debug, clap::Subcommand)]
pub enum ClusterCommand {
    /// Lists the other members: site id, gossip address, state (alive,
    /// suspect, down, left), incarnation, round-trip time, when last heard
    /// from.
    Members(ViewArgs),
    /// This node (site id, address, versions, members up and down, whether
    /// it is behind, its replication lag in versions and seconds, its
    /// schema's hash), then per site the versions it holds, the gaps, the
    /// highest version heard of and its lag in versions and seconds.
    Status(ViewArgs),
    /// Announces this node to its bootstrap peers again.
    Rejoin(RejoinArgs),
}

#[derive(Debug, clap::Args)]
pub struct ViewArgs {
    /// One JSON object per row.
    #[arg(long, conflicts_with = "csv")]
    json: bool,
    /// CSV with a header line.
    #[arg(long)]
    csv: bool,
    #[command(flatten)]
    connect: ConnectArgs,
}

#[derive(Debug, clap::Args)]
pub struct RejoinArgs {
    #[command(flatten)]
    connect: ConnectArgs,
}

const MEMBERS: &str = "SELECT site_id, addr, state, incarnation, \
     round(rtt_ms::numeric, 3) AS rtt_ms, last_seen FROM patina.members ORDER BY addr";
const STATUS: &str = "SELECT site_id, gossip_addr, incarnation, db_version, members_up, \
     members_down, behind, lag_versions, round(lag_seconds::numeric, 3) AS lag_seconds, \
     schema_hash FROM patina.node; \
     SELECT site_id, max_version, gaps, missing, heard_version, lag_versions, \
     round(lag_seconds::numeric, 3) AS lag_seconds FROM patina.sync_state ORDER BY site_id";

pub fn run(command: ClusterCommand) -> anyhow::Result<()> {
    match command {
        ClusterCommand::Members(args) => view(args, MEMBERS),
        ClusterCommand::Status(args) => view(args, STATUS),
        ClusterCommand::Rejoin(args) => {
            let mut connection = args.connect.connect()?;
            let results = connection.simple_query("CALL patina_rejoin()")?;
            connection.close();
            reload::print_report(&results.notices)?;
            output::finish(results.error)
        }
    }
}

fn view(args: ViewArgs, sql: &str) -> anyhow::Result<()> {
    let format = Format::from_flags(args.json, args.csv);
    let mut connection = args.connect.connect()?;
    let results = connection.simple_query(sql)?;
    connection.close();
    output::print(results, format)
}
