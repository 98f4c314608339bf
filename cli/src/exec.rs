//! `patina exec SQL`: runs statements on the node and prints each one's
//! command tag (`INSERT 0 1`, `CREATE TABLE`), as psql does.

use std::io::Write;

use crate::conn::ConnectArgs;
use crate::output;

#[derive(Debug, clap::Args)]
pub struct ExecArgs {
    /// The SQL to run: one statement or several separated by `;` (run in
    /// one implicit transaction, as psql -c does).
    sql: String,
    #[command(flatten)]
    connect: ConnectArgs,
}

pub fn run(args: ExecArgs) -> anyhow::Result<()> {
    let mut connection = args.connect.connect()?;
    let results = connection.simple_query(&args.sql)?;
    connection.close();
    output::notices(&results.notices);
    let mut out = std::io::stdout().lock();
    for outcome in &results.outcomes {
        writeln!(out, "{}", output::tag(outcome))?;
    }
    out.flush()?;
    output::finish(results.error)
}
