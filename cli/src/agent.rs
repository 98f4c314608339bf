//! `patina agent`: checks the whole configuration, then opens the node's
//! database, joins the cluster and serves PostgreSQL clients on every
//! configured listener until SIGINT or SIGTERM. Then it shuts down as
//! PostgreSQL's fast shutdown does: stops accepting, terminates every
//! session (FATAL 57P01; open transactions roll back), leaves the cluster
//! (announced, so peers see it left rather than failed) and checkpoints the
//! database.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use patina_pg::server::{self, Database};
use patina_replication::agent::{Agent, AgentConfig};
use patina_replication::core;
use patina_store::Store;
use tokio::sync::watch;

use crate::cluster_view;
use crate::config::Config;
use crate::config::settings::{LogFormat, Origin, Setting, Settings, parse_durability};
use crate::replication::NodeStorage;
use crate::{logging, memory, metrics};

/// How long leaving the cluster may take at shutdown.
const LEAVE_DEADLINE: Duration = Duration::from_secs(3);

/// How long terminated sessions may take to end at shutdown (a statement
/// SQLite is slow to interrupt, a client slow to read its FATAL).
const SESSIONS_DEADLINE: Duration = Duration::from_secs(3);

/// How long tasks still running when the node has shut down may delay
/// the exit.
const EXIT_DEADLINE: Duration = Duration::from_secs(1);

/// Every flag overrides the same key of the environment (`PATINA_*`) and
/// of the config file; see the README's "Configuration".
#[derive(Debug, clap::Args)]
pub struct AgentArgs {
    /// The TOML config file (env PATINA_CONFIG). Without one, the defaults
    /// below, the environment and the flags make the whole configuration.
    #[arg(short = 'c', long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Folder of the node's database, created if missing [default:
    /// ./patina-data] (env PATINA_DATA_DIR; data.dir).
    #[arg(long, value_name = "DIR")]
    data_dir: Option<PathBuf>,
    /// A .sql file or folder of them with the schema (repeatable; env
    /// PATINA_SCHEMA, comma-separated; data.schema).
    #[arg(long = "schema", value_name = "PATH")]
    schema: Vec<PathBuf>,
    /// When a commit is on disk: `normal` survives a crash of the process
    /// (a power loss may lose the last commits), `full` fsyncs every commit
    /// [default: normal] (env PATINA_DURABILITY; data.durability).
    #[arg(long, value_name = "normal|full")]
    durability: Option<String>,
    /// Address of the first PostgreSQL listener [default: 127.0.0.1:5433]
    /// (env PATINA_PG_ADDR; pg[0].addr).
    #[arg(long, value_name = "ADDR")]
    pg_addr: Option<SocketAddr>,
    /// UDP address of the node's QUIC endpoint for its peers [default:
    /// 127.0.0.1:7878] (env PATINA_GOSSIP_ADDR; gossip.addr).
    #[arg(long, value_name = "ADDR")]
    gossip_addr: Option<SocketAddr>,
    /// The gossip address peers reach this node at, if not --gossip-addr
    /// (env PATINA_EXTERNAL_ADDR; gossip.external_addr).
    #[arg(long, value_name = "ADDR")]
    external_addr: Option<SocketAddr>,
    /// Gossip address of a member to join through (repeatable; env
    /// PATINA_BOOTSTRAP, comma-separated; gossip.bootstrap). Without any,
    /// the node starts a cluster of its own that others may join.
    #[arg(long = "bootstrap", value_name = "ADDR")]
    bootstrap: Vec<SocketAddr>,
    /// CA certificate (PEM) that signs every peer's certificate: turns on
    /// mutual TLS between peers. Needs --peer-cert and --peer-key (env
    /// PATINA_PEER_CA; gossip.tls.ca).
    #[arg(long, value_name = "PATH")]
    peer_ca: Option<PathBuf>,
    /// This node's certificate (PEM), signed by --peer-ca (env
    /// PATINA_PEER_CERT; gossip.tls.cert).
    #[arg(long, value_name = "PATH")]
    peer_cert: Option<PathBuf>,
    /// The private key (PEM) of --peer-cert (env PATINA_PEER_KEY;
    /// gossip.tls.key).
    #[arg(long, value_name = "PATH")]
    peer_key: Option<PathBuf>,
    /// Address of the Prometheus endpoint (GET /metrics); off unless set
    /// (env PATINA_METRICS_ADDR; metrics.addr).
    #[arg(long, value_name = "ADDR")]
    metrics_addr: Option<SocketAddr>,
    /// Log level or filter, e.g. `info` or `warn,patina_replication=debug`
    /// [default: info] (env PATINA_LOG_LEVEL, else RUST_LOG; log.level).
    #[arg(long, value_name = "FILTER")]
    log_level: Option<String>,
    /// Log line format [default: plain] (env PATINA_LOG_FORMAT; log.format).
    #[arg(long, value_name = "plain|json")]
    log_format: Option<String>,
}

impl AgentArgs {
    /// The flags' layer of settings.
    fn settings(&self) -> Result<Settings, crate::config::ConfigError> {
        fn flag<T>(flag: &'static str, value: Option<T>) -> Option<Setting<T>> {
            value.map(|value| Setting::new(value, Origin::Flag(flag)))
        }
        fn non_empty<T: Clone>(list: &[T]) -> Option<Vec<T>> {
            (!list.is_empty()).then(|| list.to_vec())
        }
        fn parsed<T>(
            name: &'static str,
            value: Option<&String>,
            parse: impl FnOnce(&str) -> Result<T, String>,
        ) -> Result<Option<Setting<T>>, crate::config::ConfigError> {
            value
                .map(|text| {
                    parse(text)
                        .map(|value| Setting::new(value, Origin::Flag(name)))
                        .map_err(|message| {
                            crate::config::ConfigError::new(Origin::Flag(name).to_string(), message)
                        })
                })
                .transpose()
        }
        let mut settings = Settings {
            data_dir: flag("--data-dir", self.data_dir.clone()),
            schema: flag("--schema", non_empty(&self.schema)),
            durability: parsed("--durability", self.durability.as_ref(), parse_durability)?,
            gossip_addr: flag("--gossip-addr", self.gossip_addr),
            external_addr: flag("--external-addr", self.external_addr),
            bootstrap: flag("--bootstrap", non_empty(&self.bootstrap)),
            peer_ca: flag("--peer-ca", self.peer_ca.clone()),
            peer_cert: flag("--peer-cert", self.peer_cert.clone()),
            peer_key: flag("--peer-key", self.peer_key.clone()),
            metrics_addr: flag("--metrics-addr", self.metrics_addr),
            log_level: flag("--log-level", self.log_level.clone()),
            log_format: parsed("--log-format", self.log_format.as_ref(), LogFormat::parse)?,
            ..Settings::default()
        };
        settings.first_pg.addr = flag("--pg-addr", self.pg_addr);
        Ok(settings)
    }

    /// The config file named by --config, else by PATINA_CONFIG.
    fn config_file(&self) -> Option<PathBuf> {
        self.config.clone().or_else(|| {
            std::env::var_os("PATINA_CONFIG")
                .filter(|path| !path.is_empty())
                .map(PathBuf::from)
        })
    }
}

pub fn run(args: AgentArgs) -> anyhow::Result<()> {
    // Everything is checked before anything is created or bound.
    let config = Config::load(args.config_file().as_deref(), args.settings()?)?;
    logging::init(&config.log_level, config.log_format);
    memory::limit_arenas();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    let served = runtime.block_on(serve(config));
    runtime.shutdown_timeout(EXIT_DEADLINE);
    served
}

/// Runs the node the configuration describes: opens the database,
/// applies the schema files, binds the listeners, joins the cluster.
pub async fn serve(config: Config) -> anyhow::Result<()> {
    let exporter = match config.metrics_addr {
        Some(addr) => Some(metrics::serve(addr).await?),
        None => None,
    };
    std::fs::create_dir_all(&config.data_dir)
        .with_context(|| format!("creating the data directory {}", config.data_dir.display()))?;
    let _lock = crate::data_dir::lock(&config.data_dir, "starting another")?;
    let path = config.data_dir.join("patina.db");
    let store = Store::open_with(&path, config.durability)
        .with_context(|| format!("opening the database {}", path.display()))?;
    let site = store.site_id();
    let db = Database::new(store).with_context(|| format!("preparing {}", path.display()))?;
    apply_schema_files(&db, &config.schema).await?;
    let pg_addrs: Vec<String> = config.pg.iter().map(|pg| pg.addr.to_string()).collect();
    let mut listeners = Vec::with_capacity(config.pg.len());
    for pg in config.pg {
        let bound = tokio::net::TcpListener::bind(pg.addr)
            .await
            .with_context(|| format!("listening for PostgreSQL clients on {}", pg.addr))?;
        listeners.push((bound, pg.listener));
    }
    let agent_config = AgentConfig {
        gossip_addr: config.gossip.addr,
        external_addr: config.gossip.external_addr,
        bootstrap: config.gossip.bootstrap.clone(),
        tls: config.gossip.tls.clone(),
        core: core::Config::default(),
    };
    let agent = Agent::bind(agent_config, Arc::new(NodeStorage::new(db.clone())))
        .context("joining the cluster")?;
    cluster_view::install(&db, agent.handle());
    let (stop, stopped) = watch::channel(false);
    let replication = tokio::spawn(agent.run(stop_signal(stopped.clone())));
    let releases = tokio::spawn(memory::release_when_idle());
    let mut servers = tokio::task::JoinSet::new();
    for (socket, listener) in listeners {
        servers.spawn(server::serve_listener(
            socket,
            db.clone(),
            listener,
            stop_signal(stopped.clone()),
        ));
    }
    tracing::info!(
        pg_addr = %pg_addrs.join(", "),
        gossip_addr = %config.gossip.addr,
        metrics_addr = ?config.metrics_addr,
        schema = ?config.schema,
        data = %path.display(),
        %site,
        "patina node ready"
    );
    shutdown_signal().await;
    tracing::info!("shutting down: terminating sessions and leaving the cluster");
    let _ = stop.send(true);
    let sessions_ended = async { while servers.join_next().await.is_some() {} };
    if tokio::time::timeout(SESSIONS_DEADLINE, sessions_ended)
        .await
        .is_err()
    {
        tracing::warn!("sessions took too long to end; stopping anyway");
    }
    if tokio::time::timeout(LEAVE_DEADLINE, replication)
        .await
        .is_err()
    {
        tracing::warn!("leaving the cluster took too long; stopping anyway");
    }
    if tokio::time::timeout(SESSIONS_DEADLINE, db.close())
        .await
        .is_err()
    {
        tracing::warn!("the writer stayed busy; stopping without a checkpoint");
    }
    releases.abort();
    drop(exporter);
    tracing::info!("patina node stopped");
    Ok(())
}

/// Applies the schema files before anything is served (a refusal stops
/// the node, naming the file, the statement and the reason) and keeps
/// their paths for `CALL patina_reload()`.
async fn apply_schema_files(db: &Database, paths: &[PathBuf]) -> anyhow::Result<()> {
    db.set_schema_paths(paths.to_vec());
    if paths.is_empty() {
        return Ok(());
    }
    let report = db
        .apply_schema_files(paths)
        .await
        .context("applying the schema files")?;
    if report.steps.is_empty() {
        tracing::info!(
            files = report.files.len(),
            "schema files match the database"
        );
    }
    Ok(())
}

/// Resolves once `stop` says so.
async fn stop_signal(mut stopped: watch::Receiver<bool>) {
    let _ = stopped.wait_for(|stop| *stop).await;
}

/// Resolves at the first SIGINT or SIGTERM.
async fn shutdown_signal() {
    let interrupt = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut terminate =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(signal) => signal,
                Err(error) => {
                    tracing::warn!(%error, "cannot watch SIGTERM");
                    let _ = interrupt.await;
                    return;
                }
            };
        tokio::select! {
            _ = interrupt => {}
            _ = terminate.recv() => {}
        }
    }
    #[cfg(not(unix))]
    let _ = interrupt.await;
}
