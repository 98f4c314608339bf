//! The node's configuration: defaults, then the config file (`--config`),
//! then the environment (`PATINA_*`), then the command-line flags, each
//! layer overriding the one below key by key. The merged settings are
//! checked as a whole into a typed [`Config`] before anything is created
//! or bound, so a node never starts half-configured; every error names
//! where the bad value was set.
//!
//! - `raw`: the file as serde reads it; `file`: the file's layer;
//!   `env`: the environment's layer; `settings`: a layer and its values'
//!   origins; `check`: the whole into [`Config`].

mod check;
pub mod env;
pub mod file;
mod raw;
pub mod settings;

use std::fmt;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use patina_pg::server::Listener;
use patina_replication::tls::PeerTls;
use patina_store::Durability;

pub use settings::{LogFormat, Settings};

/// Where the data lives when nothing says otherwise.
pub const DEFAULT_DATA_DIR: &str = "./patina-data";
/// The PostgreSQL front door when nothing says otherwise.
pub const DEFAULT_PG_ADDR: &str = "127.0.0.1:5433";
/// The gossip endpoint when nothing says otherwise.
pub const DEFAULT_GOSSIP_ADDR: &str = "127.0.0.1:7878";
/// Each listener's connection limit when nothing says otherwise
/// (PostgreSQL's default `max_connections`).
pub const DEFAULT_MAX_CONNECTIONS: usize = 100;

/// A bad setting: where it was set and what is wrong with it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{origin}: {message}")]
pub struct ConfigError {
    origin: String,
    message: String,
}

impl ConfigError {
    pub fn new(origin: impl Into<String>, message: impl fmt::Display) -> ConfigError {
        ConfigError {
            origin: origin.into(),
            message: message.to_string(),
        }
    }
}

/// A checked configuration: every file named exists and parses.
#[derive(Debug)]
pub struct Config {
    pub data_dir: PathBuf,
    pub durability: Durability,
    /// `.sql` files and folders of them, applied by the node at start.
    pub schema: Vec<PathBuf>,
    pub gossip: GossipConfig,
    /// At least one listener.
    pub pg: Vec<PgListener>,
    pub metrics_addr: Option<SocketAddr>,
    pub log_level: String,
    pub log_format: LogFormat,
}

#[derive(Debug, Clone)]
pub struct GossipConfig {
    pub addr: SocketAddr,
    /// The address peers reach this node at, when not `addr` (behind NAT,
    /// or `addr` is a wildcard).
    pub external_addr: Option<SocketAddr>,
    pub bootstrap: Vec<SocketAddr>,
    /// Insecure (the transport then warns loudly at start) when nothing
    /// configures it, or `insecure = true`.
    pub tls: PeerTls,
}

/// One pg listener: its address and its settings, loaded (TLS files read).
#[derive(Debug)]
pub struct PgListener {
    pub addr: SocketAddr,
    pub listener: Listener,
}

impl Config {
    /// Reads the file (if any) and the environment, puts `flags` on top and
    /// checks the result.
    pub fn load(file: Option<&Path>, flags: Settings) -> Result<Config, ConfigError> {
        let from_file = match file {
            Some(path) => file::read(path)?,
            None => Settings::default(),
        };
        let from_env = env::read(|var| std::env::var(var).ok())?;
        check::check(from_file.overlay(from_env).overlay(flags))
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::settings::{Origin, Setting};
    use super::*;

    fn write(dir: &Path, text: &str) -> PathBuf {
        let path = dir.join("patina.toml");
        std::fs::write(&path, text).expect("writes the config");
        path
    }

    /// The file's layer alone, checked.
    fn check_file(text: &str) -> Result<Config, ConfigError> {
        let dir = tempfile::tempdir().expect("tempdir");
        check::check(file::read(&write(dir.path(), text))?)
    }

    fn error_of(text: &str) -> String {
        check_file(text).expect_err("refused").to_string()
    }

    #[test]
    fn the_example_file_parses_and_checks() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../patina.example.toml");
        let config = check::check(file::read(&path).expect("parses")).expect("checks");
        assert_eq!(config.pg.len(), 2);
        assert_eq!(config.pg[1].addr.to_string(), "0.0.0.0:5432");
        assert!(matches!(config.gossip.tls, PeerTls::Insecure));
        assert_eq!(config.log_format, LogFormat::Plain);
    }

    #[test]
    fn no_file_means_the_defaults() {
        let config = check::check(Settings::default()).expect("checks");
        assert_eq!(config.data_dir, PathBuf::from(DEFAULT_DATA_DIR));
        assert_eq!(config.pg.len(), 1);
        assert_eq!(config.pg[0].addr.to_string(), DEFAULT_PG_ADDR);
        assert_eq!(config.gossip.addr.to_string(), DEFAULT_GOSSIP_ADDR);
        assert!(matches!(config.gossip.tls, PeerTls::Insecure));
        assert_eq!(config.metrics_addr, None);
    }

    #[test]
    fn errors_name_the_file_and_the_key() {
        let error = error_of(
            "[[pg]]\naddr = \"127.0.0.1:6000\"\n[[pg]]\naddr = \"127.0.0.1:6001\"\nmax_connections = 0\n",
        );
        assert!(
            error.ends_with("patina.toml: pg[1].max_connections: must be at least 1, got 0"),
            "{error}"
        );
        let error = error_of("[gossip]\naddr = \"localhost\"\n");
        assert!(
            error.contains("patina.toml: gossip.addr: must be an IP address"),
            "{error}"
        );
        let error = error_of("[data]\ndurability = \"sometimes\"\n");
        assert!(
            error.contains("data.durability: must be \"normal\" or \"full\""),
            "{error}"
        );
    }

    #[test]
    fn toml_errors_say_where() {
        let error = error_of("[data]\ndir = \"x\"\n[pg\n");
        assert!(error.contains("patina.toml: line 3, column"), "{error}");
        let error = error_of("[[pg]]\naddr = \"127.0.0.1:6000\"\nmax_connectoins = 3\n");
        assert!(error.contains("line 3, column 1"), "{error}");
        assert!(error.contains("max_connectoins"), "{error}");
        let error = error_of("[[pg]]\nmax_connections = \"many\"\n");
        assert!(error.contains("pg[0].max_connections: line 2"), "{error}");
    }

    #[test]
    fn a_listener_off_loopback_must_name_its_auth() {
        let error = error_of("[[pg]]\naddr = \"0.0.0.0:5432\"\n");
        assert!(error.contains("pg[0].addr"), "{error}");
        assert!(error.contains("not on a loopback address"), "{error}");
        let config = check_file("[[pg]]\naddr = \"0.0.0.0:5432\"\nauth = \"trust\"\n")
            .expect("explicit trust is allowed");
        assert_eq!(config.pg[0].addr.to_string(), "0.0.0.0:5432");
    }

    #[test]
    fn passwords_must_be_verifiers() {
        let error = error_of(
            "[[pg]]\nauth = \"scram-sha-256\"\n[[pg.users]]\nname = \"app\"\npassword = \"hunter2\"\n",
        );
        assert!(
            error.contains("pg[0].users[0].password: must be a password verifier"),
            "{error}"
        );
        let error = error_of("[[pg]]\nauth = \"md5\"\n");
        assert!(error.contains("needs at least one user"), "{error}");
    }

    #[test]
    fn peer_tls_is_all_or_nothing() {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::write(dir.path().join("ca.pem"), "").expect("writes");
        let path = write(dir.path(), "[gossip.tls]\nca = \"ca.pem\"\n");
        let error = check::check(file::read(&path).expect("parses")).expect_err("refused");
        assert!(
            error.to_string().contains(
                "gossip.tls.ca: peer TLS needs ca, cert and key together; cert and key not set"
            ),
            "{error}"
        );

        let path = write(
            dir.path(),
            "[gossip.tls]\nca = \"ca.pem\"\ncert = \"missing.pem\"\nkey = \"k.pem\"\n",
        );
        let error = check::check(file::read(&path).expect("parses")).expect_err("refused");
        assert!(error.to_string().contains("gossip.tls.cert"), "{error}");

        let path = write(dir.path(), "[gossip.tls]\ninsecure = true\n");
        let config = check::check(file::read(&path).expect("parses")).expect("checks");
        assert!(matches!(config.gossip.tls, PeerTls::Insecure));
    }

    #[test]
    fn schema_paths_must_exist() {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::write(
            dir.path().join("a.sql"),
            "CREATE TABLE a (id INTEGER PRIMARY KEY);",
        )
        .expect("writes");
        std::fs::write(dir.path().join("notes.txt"), "").expect("writes");
        let path = write(dir.path(), "[data]\nschema = [\"a.sql\", \".\"]\n");
        let config = check::check(file::read(&path).expect("parses")).expect("checks");
        assert_eq!(
            config.schema,
            vec![dir.path().join("a.sql"), dir.path().join(".")]
        );
        let path = write(dir.path(), "[data]\nschema = [\"nope.sql\"]\n");
        let error = check::check(file::read(&path).expect("parses")).expect_err("refused");
        assert!(
            error.to_string().contains("data.schema: cannot read"),
            "{error}"
        );
        let path = write(dir.path(), "[data]\nschema = [\"notes.txt\"]\n");
        let error = check::check(file::read(&path).expect("parses")).expect_err("refused");
        assert!(
            error
                .to_string()
                .contains("neither a .sql file nor a folder"),
            "{error}"
        );
    }

    #[test]
    fn upper_layers_win_key_by_key() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = write(
            dir.path(),
            "[data]\ndir = \"file-data\"\n[gossip]\naddr = \"127.0.0.1:7001\"\n[[pg]]\naddr = \"127.0.0.1:6001\"\nmax_connections = 7\n",
        );
        let from_file = file::read(&path).expect("parses");
        let from_env = env::read(|var| match var {
            "PATINA_PG_ADDR" => Some("127.0.0.1:6002".to_owned()),
            "PATINA_DATA_DIR" => Some("env-data".to_owned()),
            _ => None,
        })
        .expect("parses");
        let mut flags = Settings::default();
        flags.first_pg.addr = Some(Setting::new(
            "127.0.0.1:6003".parse().expect("addr"),
            Origin::Flag("--pg-addr"),
        ));
        let config = check::check(from_file.overlay(from_env).overlay(flags)).expect("checks");
        assert_eq!(config.pg[0].addr.to_string(), "127.0.0.1:6003");
        assert_eq!(config.data_dir, PathBuf::from("env-data"));
        assert_eq!(config.gossip.addr.to_string(), "127.0.0.1:7001");
    }

    #[test]
    fn a_flag_off_loopback_needs_auth_from_somewhere() {
        let mut flags = Settings::default();
        flags.first_pg.addr = Some(Setting::new(
            "0.0.0.0:6000".parse().expect("addr"),
            Origin::Flag("--pg-addr"),
        ));
        let error = check::check(flags).expect_err("refused");
        assert!(error.to_string().starts_with("flag --pg-addr: "), "{error}");
    }
}
