//! One layer of settings (the file, the environment or the flags), each
//! value parsed to its type and remembering where it came from, so a later
//! check can still name the file and key, the variable or the flag. Layers
//! are stacked with [`Settings::overlay`]: the upper one wins key by key.

use std::fmt;
use std::net::SocketAddr;
use std::num::NonZeroUsize;
use std::path::PathBuf;

use patina_pg::server::AuthMethod;
use patina_store::Durability;

/// Where a value was set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    /// A key of the config file, e.g. `pg[1].max_connections`.
    File { file: String, key: String },
    /// An environment variable.
    Env(&'static str),
    /// A command-line flag, e.g. `--pg-addr`.
    Flag(&'static str),
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Origin::File { file, key } => write!(f, "{file}: {key}"),
            Origin::Env(var) => write!(f, "environment variable {var}"),
            Origin::Flag(flag) => write!(f, "flag {flag}"),
        }
    }
}

/// A value and where it was set.
#[derive(Debug, Clone)]
pub struct Setting<T> {
    pub value: T,
    pub origin: Origin,
}

impl<T> Setting<T> {
    pub fn new(value: T, origin: Origin) -> Setting<T> {
        Setting { value, origin }
    }
}

/// How clients of one pg listener authenticate, as written in the config.
pub fn parse_auth(text: &str) -> Result<AuthMethod, String> {
    match text {
        "trust" => Ok(AuthMethod::Trust),
        "scram-sha-256" => Ok(AuthMethod::ScramSha256),
        "md5" => Ok(AuthMethod::Md5),
        other => Err(format!(
            "must be \"trust\", \"scram-sha-256\" or \"md5\", got {other:?}"
        )),
    }
}

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    Plain,
    Json,
}

impl LogFormat {
    pub fn parse(text: &str) -> Result<LogFormat, String> {
        match text {
            "plain" => Ok(LogFormat::Plain),
            "json" => Ok(LogFormat::Json),
            other => Err(format!("must be \"plain\" or \"json\", got {other:?}")),
        }
    }
}

pub fn parse_durability(text: &str) -> Result<Durability, String> {
    match text {
        "normal" => Ok(Durability::Normal),
        "full" => Ok(Durability::Full),
        other => Err(format!("must be \"normal\" or \"full\", got {other:?}")),
    }
}

pub fn parse_addr(text: &str) -> Result<SocketAddr, String> {
    text.trim().parse().map_err(|_| {
        format!("must be an IP address and a port, like 127.0.0.1:5433 or [::1]:5433, got {text:?}")
    })
}

pub fn parse_max_connections(value: i64) -> Result<NonZeroUsize, String> {
    usize::try_from(value)
        .ok()
        .and_then(NonZeroUsize::new)
        .ok_or_else(|| format!("must be at least 1, got {value}"))
}

pub fn parse_bool(text: &str) -> Result<bool, String> {
    match text.trim().to_ascii_lowercase().as_str() {
        "true" | "1" | "yes" | "on" => Ok(true),
        "false" | "0" | "no" | "off" => Ok(false),
        _ => Err(format!("must be true or false, got {text:?}")),
    }
}

/// One user of a pg listener: a name and PostgreSQL's stored verifier of
/// their password.
#[derive(Debug, Clone)]
pub struct UserSetting {
    pub name: String,
    pub password: Setting<String>,
}

/// The settings of one `[[pg]]` listener.
#[derive(Debug, Clone, Default)]
pub struct ListenerSettings {
    pub addr: Option<Setting<SocketAddr>>,
    pub auth: Option<Setting<AuthMethod>>,
    pub users: Vec<UserSetting>,
    pub tls_cert: Option<Setting<PathBuf>>,
    pub tls_key: Option<Setting<PathBuf>>,
    pub read_only: Option<Setting<bool>>,
    pub max_connections: Option<Setting<NonZeroUsize>>,
}

impl ListenerSettings {
    fn overlay(&mut self, upper: ListenerSettings) {
        overlay(&mut self.addr, upper.addr);
        overlay(&mut self.auth, upper.auth);
        overlay(&mut self.tls_cert, upper.tls_cert);
        overlay(&mut self.tls_key, upper.tls_key);
        overlay(&mut self.read_only, upper.read_only);
        overlay(&mut self.max_connections, upper.max_connections);
        if !upper.users.is_empty() {
            self.users = upper.users;
        }
    }

    fn is_empty(&self) -> bool {
        self.addr.is_none()
            && self.auth.is_none()
            && self.users.is_empty()
            && self.tls_cert.is_none()
            && self.tls_key.is_none()
            && self.read_only.is_none()
            && self.max_connections.is_none()
    }
}

/// Every setting of a node, each unset unless this layer sets it.
#[derive(Debug, Clone, Default)]
pub struct Settings {
    pub data_dir: Option<Setting<PathBuf>>,
    pub schema: Option<Setting<Vec<PathBuf>>>,
    pub durability: Option<Setting<Durability>>,
    pub gossip_addr: Option<Setting<SocketAddr>>,
    pub external_addr: Option<Setting<SocketAddr>>,
    pub bootstrap: Option<Setting<Vec<SocketAddr>>>,
    pub peer_ca: Option<Setting<PathBuf>>,
    pub peer_cert: Option<Setting<PathBuf>>,
    pub peer_key: Option<Setting<PathBuf>>,
    pub peer_insecure: Option<Setting<bool>>,
    /// The listeners of the config file.
    pub pg: Vec<ListenerSettings>,
    /// What the environment or the flags set on the first listener
    /// (creating it if the file has none).
    pub first_pg: ListenerSettings,
    pub metrics_addr: Option<Setting<SocketAddr>>,
    pub log_level: Option<Setting<String>>,
    pub log_format: Option<Setting<LogFormat>>,
}

impl Settings {
    /// This layer with `upper` on top: every key `upper` sets replaces
    /// this layer's.
    pub fn overlay(mut self, upper: Settings) -> Settings {
        overlay(&mut self.data_dir, upper.data_dir);
        overlay(&mut self.schema, upper.schema);
        overlay(&mut self.durability, upper.durability);
        overlay(&mut self.gossip_addr, upper.gossip_addr);
        overlay(&mut self.external_addr, upper.external_addr);
        overlay(&mut self.bootstrap, upper.bootstrap);
        overlay(&mut self.peer_ca, upper.peer_ca);
        overlay(&mut self.peer_cert, upper.peer_cert);
        overlay(&mut self.peer_key, upper.peer_key);
        overlay(&mut self.peer_insecure, upper.peer_insecure);
        overlay(&mut self.metrics_addr, upper.metrics_addr);
        overlay(&mut self.log_level, upper.log_level);
        overlay(&mut self.log_format, upper.log_format);
        if !upper.pg.is_empty() {
            self.pg = upper.pg;
        }
        self.first_pg.overlay(upper.first_pg);
        self
    }

    /// The listeners with the overrides of the first one applied.
    pub fn listeners(&self) -> Vec<ListenerSettings> {
        let mut listeners = self.pg.clone();
        if self.first_pg.is_empty() {
            return listeners;
        }
        match listeners.first_mut() {
            Some(first) => first.overlay(self.first_pg.clone()),
            None => listeners.push(self.first_pg.clone()),
        }
        listeners
    }
}

fn overlay<T>(lower: &mut Option<T>, upper: Option<T>) {
    if upper.is_some() {
        *lower = upper;
    }
}
