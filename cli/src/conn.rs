//! Where `patina exec` and `patina query` connect: `--addr`, else the first
//! pg listener of the config file (`--config` or PATINA_CONFIG), else
//! PATINA_PG_ADDR, else 127.0.0.1:5433; as `--user` with PGPASSWORD.

use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::Context;

use crate::config::{DEFAULT_PG_ADDR, file, settings};
use crate::pgclient::{ClientError, Connection};

#[derive(Debug, clap::Args)]
pub struct ConnectArgs {
    /// The node's PostgreSQL address [default: the config file's first
    /// [[pg]] addr, else PATINA_PG_ADDR, else 127.0.0.1:5433].
    #[arg(long, value_name = "ADDR")]
    addr: Option<SocketAddr>,
    /// The config file to take the address from (env PATINA_CONFIG).
    #[arg(short = 'c', long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// User name to connect as; the password, if the listener asks for
    /// one, comes from the PGPASSWORD environment variable.
    #[arg(short = 'U', long, default_value = "postgres")]
    user: String,
    /// Database name [default: the user name].
    #[arg(short = 'd', long)]
    database: Option<String>,
}

impl ConnectArgs {
    fn addr(&self) -> anyhow::Result<SocketAddr> {
        if let Some(addr) = self.addr {
            return Ok(addr);
        }
        let config = self.config.clone().or_else(|| {
            std::env::var_os("PATINA_CONFIG")
                .filter(|path| !path.is_empty())
                .map(PathBuf::from)
        });
        if let Some(path) = config
            && let Some(addr) = file::first_pg_addr(&path)?
        {
            return Ok(addr);
        }
        if let Some(text) = std::env::var("PATINA_PG_ADDR")
            .ok()
            .filter(|t| !t.is_empty())
        {
            return settings::parse_addr(&text).map_err(|message| {
                anyhow::anyhow!("environment variable PATINA_PG_ADDR: {message}")
            });
        }
        DEFAULT_PG_ADDR.parse().context("the default pg address")
    }

    /// Connects to the node.
    pub fn connect(&self) -> anyhow::Result<Connection> {
        let addr = self.addr()?;
        let password = std::env::var("PGPASSWORD").ok();
        let database = self.database.as_deref().unwrap_or(&self.user);
        // A refusal at startup (authentication) is the server's error,
        // printed with its SQLSTATE like any other.
        Connection::connect(addr, &self.user, database, password.as_deref()).map_err(|error| {
            match error {
                ClientError::Server(server) => anyhow::Error::from(server),
                other => anyhow::Error::from(other),
            }
        })
    }
}
