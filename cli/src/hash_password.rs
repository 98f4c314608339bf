//! `patina hash-password`: reads a password from stdin and prints the
//! verifier to put in a `[[pg.users]]` entry's `password`, as PostgreSQL
//! would store it.

use std::io::{BufRead, Write};

use patina_pg::server::PasswordHash;

#[derive(Debug, clap::Args)]
pub struct HashPasswordArgs {
    /// The verifier kind, as the listener's auth.
    #[arg(long, value_enum, default_value_t = Method::ScramSha256)]
    method: Method,
    /// The user name (an md5 verifier depends on it).
    #[arg(long, required_if_eq("method", "md5"))]
    user: Option<String>,
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
enum Method {
    #[value(name = "scram-sha-256")]
    ScramSha256,
    Md5,
}

pub fn run(args: HashPasswordArgs) -> anyhow::Result<()> {
    let mut line = String::new();
    std::io::stdin().lock().read_line(&mut line)?;
    let password = line.trim_end_matches(['\r', '\n']);
    if password.is_empty() {
        anyhow::bail!(
            "no password on stdin (pipe it in: printf %s \"$PASSWORD\" | patina hash-password)"
        );
    }
    let hash = match args.method {
        Method::ScramSha256 => PasswordHash::scram(password),
        Method::Md5 => PasswordHash::md5(args.user.as_deref().unwrap_or_default(), password),
    };
    let mut out = std::io::stdout().lock();
    writeln!(out, "{hash}")?;
    Ok(())
}
