//! `patina reload`: the node applies its schema files again, without a
//! restart (`CALL patina_reload()` over the pg wire), and this prints what
//! changed, or that nothing did; a refusal names the file, the statement
//! and the reason, and changes nothing.

use std::io::Write;

use crate::conn::ConnectArgs;
use crate::output;

#[derive(Debug, clap::Args)]
pub struct ReloadArgs {
    #[command(flatten)]
    connect: ConnectArgs,
}

pub fn run(args: ReloadArgs) -> anyhow::Result<()> {
    let mut connection = args.connect.connect()?;
    let results = connection.simple_query("CALL patina_reload()")?;
    connection.close();
    print_report(&results.notices)?;
    output::finish(results.error)
}

/// Prints a procedure's NOTICEs, its report, on stdout.
pub fn print_report(notices: &[String]) -> std::io::Result<()> {
    let mut out = std::io::stdout().lock();
    for notice in notices {
        let report = notice.strip_prefix("NOTICE:  ").unwrap_or(notice);
        writeln!(out, "{report}")?;
    }
    out.flush()
}
