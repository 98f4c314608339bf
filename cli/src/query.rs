//! `patina query SQL`: runs statements on the node and prints their rows:
//! an aligned table like psql's, one JSON object per row (`--json`), or
//! CSV with a header (`--csv`).

use crate::conn::ConnectArgs;
use crate::output::{self, Format};

#[derive(Debug, clap::Args)]
pub struct QueryArgs {
    /// The SQL to run: one statement or several separated by `;`.
    sql: String,
    /// One JSON object per row, one per line (numbers and booleans as
    /// JSON numbers and booleans, NULL as null); rows only.
    #[arg(long, conflicts_with = "csv")]
    json: bool,
    /// CSV with a header line, as psql --csv (RFC 4180 quoting; NULL as an
    /// empty field; statements without rows print their command tag).
    #[arg(long)]
    csv: bool,
    #[command(flatten)]
    connect: ConnectArgs,
}

pub fn run(args: QueryArgs) -> anyhow::Result<()> {
    let format = Format::from_flags(args.json, args.csv);
    let mut connection = args.connect.connect()?;
    let results = connection.simple_query(&args.sql)?;
    connection.close();
    output::print(results, format)
}
