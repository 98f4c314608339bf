//! The merged settings checked as a whole into a [`Config`]: defaults
//! filled in, rules across keys enforced (peer TLS all or nothing, auth
//! required off loopback) and every file named opened and parsed.

use std::collections::HashSet;
use std::path::PathBuf;

use patina_pg::server::{AuthMethod, Listener, ListenerConfig, PasswordHash, PgUser, TlsFiles};
use patina_replication::tls::PeerTls;
use patina_store::Durability;

use super::settings::{ListenerSettings, LogFormat, Setting, Settings};
use super::{
    Config, ConfigError, DEFAULT_DATA_DIR, DEFAULT_GOSSIP_ADDR, DEFAULT_MAX_CONNECTIONS,
    DEFAULT_PG_ADDR, GossipConfig, PgListener,
};

pub fn check(settings: Settings) -> Result<Config, ConfigError> {
    let schema = match &settings.schema {
        Some(schema) => schema_paths(schema)?,
        None => Vec::new(),
    };
    let log_level = settings
        .log_level
        .clone()
        .map_or_else(|| Ok("info".to_owned()), |level| log_level(&level))?;
    let pg = listeners(&settings)?;
    let gossip = gossip(&settings)?;
    Ok(Config {
        data_dir: value_or(settings.data_dir, || PathBuf::from(DEFAULT_DATA_DIR)),
        durability: value_or(settings.durability, || Durability::Normal),
        schema,
        gossip,
        pg,
        metrics_addr: settings.metrics_addr.map(|addr| addr.value),
        log_level,
        log_format: value_or(settings.log_format, || LogFormat::Plain),
    })
}

fn value_or<T>(setting: Option<Setting<T>>, default: impl FnOnce() -> T) -> T {
    setting.map_or_else(default, |setting| setting.value)
}

fn error<T>(setting: &Setting<T>, message: impl std::fmt::Display) -> ConfigError {
    ConfigError::new(setting.origin.to_string(), message)
}

fn schema_paths(schema: &Setting<Vec<PathBuf>>) -> Result<Vec<PathBuf>, ConfigError> {
    for path in &schema.value {
        let metadata = std::fs::metadata(path)
            .map_err(|e| error(schema, format!("cannot read {}: {e}", path.display())))?;
        let is_sql = path.extension().is_some_and(|ext| ext == "sql");
        if !metadata.is_dir() && !is_sql {
            return Err(error(
                schema,
                format!("{} is neither a .sql file nor a folder", path.display()),
            ));
        }
    }
    Ok(schema.value.clone())
}

fn log_level(level: &Setting<String>) -> Result<String, ConfigError> {
    tracing_subscriber::EnvFilter::try_new(&level.value).map_err(|e| {
        error(
            level,
            format!(
                "{:?} is not a log level (error, warn, info, debug, trace) or filter: {e}",
                level.value
            ),
        )
    })?;
    Ok(level.value.clone())
}

fn gossip(settings: &Settings) -> Result<GossipConfig, ConfigError> {
    let tls = peer_tls(settings)?;
    Ok(GossipConfig {
        addr: value_or(settings.gossip_addr.clone(), default_gossip_addr),
        external_addr: settings.external_addr.as_ref().map(|addr| addr.value),
        bootstrap: settings
            .bootstrap
            .as_ref()
            .map(|list| list.value.clone())
            .unwrap_or_default(),
        tls,
    })
}

fn default_gossip_addr() -> std::net::SocketAddr {
    DEFAULT_GOSSIP_ADDR
        .parse()
        .unwrap_or_else(|_| unreachable!("the default gossip address parses"))
}

fn default_pg_addr() -> std::net::SocketAddr {
    DEFAULT_PG_ADDR
        .parse()
        .unwrap_or_else(|_| unreachable!("the default pg address parses"))
}

/// Peer TLS: mutual with all three files, else insecure (explicitly or for
/// lack of settings).
fn peer_tls(settings: &Settings) -> Result<PeerTls, ConfigError> {
    let files = [
        ("ca", &settings.peer_ca),
        ("cert", &settings.peer_cert),
        ("key", &settings.peer_key),
    ];
    let set: Vec<&Setting<PathBuf>> = files.iter().filter_map(|(_, file)| file.as_ref()).collect();
    let insecure = settings.peer_insecure.as_ref();
    if let (Some(insecure), Some(file)) = (insecure.filter(|flag| flag.value), set.first()) {
        return Err(error(
            insecure,
            format!(
                "insecure = true contradicts the peer TLS file set at {}",
                file.origin
            ),
        ));
    }
    let (Some(ca), Some(cert), Some(key)) =
        (&settings.peer_ca, &settings.peer_cert, &settings.peer_key)
    else {
        if let Some(first) = set.first() {
            let missing: Vec<&str> = files
                .iter()
                .filter(|(_, file)| file.is_none())
                .map(|(name, _)| *name)
                .collect();
            return Err(error(
                first,
                format!(
                    "peer TLS needs ca, cert and key together; {} not set",
                    missing.join(" and ")
                ),
            ));
        }
        if let Some(insecure) = insecure.filter(|flag| !flag.value) {
            return Err(error(
                insecure,
                "insecure = false needs the peer TLS files: ca, cert and key",
            ));
        }
        return Ok(PeerTls::Insecure);
    };
    let tls = PeerTls::Mutual {
        ca: ca.value.clone(),
        cert: cert.value.clone(),
        key: key.value.clone(),
    };
    // Reads and checks the files now, not when the endpoint is bound.
    tls.quic_configs().map_err(|e| error(cert, e))?;
    Ok(tls)
}

fn listeners(settings: &Settings) -> Result<Vec<PgListener>, ConfigError> {
    let mut listeners = settings.listeners();
    if listeners.is_empty() {
        listeners.push(ListenerSettings::default());
    }
    let mut seen = HashSet::new();
    let mut checked = Vec::with_capacity(listeners.len());
    for listener in listeners {
        let checked_listener = self::listener(listener.clone())?;
        if !seen.insert(checked_listener.addr) {
            let message = format!("two pg listeners on {}", checked_listener.addr);
            return Err(match &listener.addr {
                Some(addr) => error(addr, message),
                None => ConfigError::new("pg", message),
            });
        }
        checked.push(checked_listener);
    }
    Ok(checked)
}

fn listener(settings: ListenerSettings) -> Result<PgListener, ConfigError> {
    let addr = settings
        .addr
        .as_ref()
        .map_or_else(default_pg_addr, |addr| addr.value);
    // Where an error about the listener as a whole points.
    let blame = |message: &str| match (&settings.auth, &settings.addr) {
        (Some(auth), _) => error(auth, message),
        (None, Some(addr)) => error(addr, message),
        (None, None) => ConfigError::new("pg[0]", message),
    };
    let auth = match &settings.auth {
        Some(auth) => auth.value,
        None if addr.ip().is_loopback() => AuthMethod::Trust,
        None => {
            return Err(blame(&format!(
                "the listener on {addr} is not on a loopback address, so it needs an explicit \
                 auth setting: auth = \"scram-sha-256\" (or \"md5\", or \"trust\" to let \
                 anyone in)"
            )));
        }
    };
    if auth != AuthMethod::Trust && settings.users.is_empty() {
        return Err(blame(
            "password authentication needs at least one user ([[pg.users]] with name and password)",
        ));
    }
    let mut users = Vec::with_capacity(settings.users.len());
    for user in &settings.users {
        let password = user.password.value.parse::<PasswordHash>().map_err(|e| {
            error(
                &user.password,
                format!(
                    "must be a password verifier (\"SCRAM-SHA-256$…\" or \"md5…\") as \
                     `patina hash-password` prints; plain-text passwords are not accepted ({e})"
                ),
            )
        })?;
        users.push(PgUser {
            name: user.name.clone(),
            password,
        });
    }
    let tls = match (&settings.tls_cert, &settings.tls_key) {
        (Some(cert), Some(key)) => Some(TlsFiles {
            cert: cert.value.clone(),
            key: key.value.clone(),
        }),
        (Some(one), None) | (None, Some(one)) => {
            return Err(error(one, "a pg listener's TLS needs both cert and key"));
        }
        (None, None) => None,
    };
    let config = ListenerConfig {
        auth,
        users,
        tls,
        read_only: settings.read_only.is_some_and(|flag| flag.value),
        max_connections: settings
            .max_connections
            .map_or(DEFAULT_MAX_CONNECTIONS, |max| max.value.get()),
    };
    // Reads the TLS files now, so a bad one stops the node before it binds.
    let listener = Listener::new(config).map_err(|e| match &settings.tls_cert {
        Some(cert) => error(cert, e),
        None => blame(&e.to_string()),
    })?;
    Ok(PgListener { addr, listener })
}
