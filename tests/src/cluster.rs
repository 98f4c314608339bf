//! A cluster of real `patina agent` processes on loopback.
//!
//! Every node has a loopback address of its own (`<base>.<i+1>`, node 0 on
//! `<base>.1`) on which both its PostgreSQL front door (TCP) and its gossip
//! socket (UDP, `--gossip-addr`) listen, at ports that were free on that
//! address. The default base is unique to the cluster (`127.<from the
//! pid>.<counter>`), so clusters of concurrent tests never share an address
//! and a partition ([`Cluster::partition`]) cuts only its own cluster.
//! Node 0 starts with no `--bootstrap`; every other node bootstraps from
//! node 0's gossip address.
//!
//! Waiting is always on a condition with a deadline: [`Cluster::wait_for`]
//! polls until the condition holds and panics otherwise, naming what was
//! awaited and showing the last state seen and the tail of every node's log.
//! Dropping the cluster (also while panicking) kills every node and removes
//! its folders (`PATINA_CLUSTER_KEEP=1` keeps them, and prints where); a
//! failing test prints the end of every node's log (its last 200 lines, or
//! `PATINA_CLUSTER_LOG_LINES`).

use std::ffi::OsString;
use std::future::Future;
use std::net::{IpAddr, Ipv4Addr, SocketAddr, TcpListener, UdpSocket};
use std::path::PathBuf;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tempfile::TempDir;
use tokio_postgres::{Client, SimpleQueryMessage};

use crate::certs::{PeerTlsFiles, TestCa};
use crate::client::describe_error;
use crate::client::try_connect_to;
use crate::partition::Partition;
use crate::patina::{Patina, log_tail, patina_bin};

/// How often a condition is checked while waiting.
const POLL: Duration = Duration::from_millis(25);
/// How long one query of the harness may take before it counts as failed.
const QUERY_TIMEOUT: Duration = Duration::from_secs(30);
/// How long a new table may take to reach every node.
const SCHEMA_DEADLINE: Duration = Duration::from_secs(30);
/// Log lines per node shown when a wait times out.
const WAIT_LOG_LINES: usize = 30;
/// Log lines per node printed when a test fails (env
/// `PATINA_CLUSTER_LOG_LINES` overrides).
const FAILURE_LOG_LINES: usize = 200;

/// Rows as text (the simple protocol's text format), NULL as `None`.
pub type Rows = Vec<Vec<Option<String>>>;

/// How a cluster is started.
#[derive(Debug, Clone, Default)]
pub struct ClusterOptions {
    /// The first three octets of the nodes' addresses (`[127, 0, 1]` puts
    /// node i on 127.0.1.(i+1)); `None` picks a base unique to this cluster.
    pub ip_base: Option<[u8; 3]>,
    /// Mutual TLS between peers: one CA for the cluster, a certificate of
    /// its own for every node (`--peer-ca`, `--peer-cert`, `--peer-key`).
    /// Without it the nodes run in insecure mode.
    pub mtls: bool,
    /// More arguments for every node (after the harness's own).
    pub extra_args: Vec<String>,
}

/// How one node added with [`Cluster::add_node_with`] differs from the
/// cluster's defaults.
#[derive(Debug, Default)]
pub struct NodeOptions<'a> {
    /// Its certificate comes from this CA (and it trusts this CA) instead of
    /// the cluster's; on a cluster without mTLS it makes the node use TLS
    /// anyway.
    pub ca: Option<&'a TestCa>,
    /// The nodes whose gossip addresses it bootstraps from (default: node 0).
    pub bootstrap: Option<Vec<usize>>,
}

#[derive(Debug)]
struct Node {
    patina: Patina,
    ip: Ipv4Addr,
    gossip_addr: SocketAddr,
    /// Its arguments but `--bootstrap` (gossip address, TLS, extra).
    own_args: Vec<OsString>,
    alive: bool,
}

/// A cluster of `patina agent` processes; see the module doc.
#[derive(Debug)]
pub struct Cluster {
    nodes: Vec<Node>,
    ip_base: [u8; 3],
    options: ClusterOptions,
    bin: PathBuf,
    ca: Option<TestCa>,
    /// Certificates and keys of every node.
    tls_dir: TempDir,
    /// One open connection per node, made on first use.
    clients: Mutex<Vec<Option<Arc<Client>>>>,
    started: Instant,
}

/// What a condition given to [`Cluster::wait_for`] returns: `true`/`Ok(())`
/// when it holds; `false`, or `Err` describing the state seen, when not yet.
pub trait Outcome {
    fn into_result(self) -> Result<(), String>;
}

impl Outcome for bool {
    fn into_result(self) -> Result<(), String> {
        if self {
            Ok(())
        } else {
            Err("the condition did not hold".to_owned())
        }
    }
}

impl Outcome for Result<(), String> {
    fn into_result(self) -> Result<(), String> {
        self
    }
}

/// Polls `condition` every 25 ms until it holds, and returns how long that
/// took; panics after `deadline`, naming `what` was awaited, the last state
/// the condition described, and `context()` (e.g. logs). A check still
/// running at the deadline is abandoned.
pub async fn wait_until<F, Fut, O>(
    deadline: Duration,
    what: &str,
    mut condition: F,
    context: impl FnOnce() -> String,
) -> Duration
where
    F: FnMut() -> Fut,
    Fut: Future<Output = O>,
    O: Outcome,
{
    let start = Instant::now();
    let until = start + deadline;
    let mut last = "(never checked)".to_owned();
    loop {
        let left = until.saturating_duration_since(Instant::now());
        match tokio::time::timeout(left.max(POLL), condition()).await {
            Ok(outcome) => match outcome.into_result() {
                Ok(()) => return start.elapsed(),
                Err(state) => last = state,
            },
            Err(_) => last = format!("{last} (then a check was still running at the deadline)"),
        }
        if Instant::now() >= until {
            panic!(
                "timed out after {:.1?} waiting for {what}\nlast state: {last}\n{}",
                start.elapsed(),
                context()
            );
        }
        tokio::time::sleep(POLL).await;
    }
}

/// A port that was free a moment ago for TCP on `ip`, and also for UDP so
/// nothing else is likely to take it.
fn free_port_on(ip: Ipv4Addr) -> u16 {
    for _ in 0..100 {
        let tcp = TcpListener::bind((ip, 0)).unwrap_or_else(|e| panic!("bind {ip}:0: {e}"));
        let port = tcp.local_addr().expect("a bound socket's address").port();
        if UdpSocket::bind((ip, port)).is_ok() {
            return port;
        }
    }
    panic!("no port free for both TCP and UDP on {ip}")
}

/// A UDP port that was free a moment ago on `ip`, free for TCP too.
fn free_udp_port_on(ip: Ipv4Addr) -> u16 {
    for _ in 0..100 {
        let udp = UdpSocket::bind((ip, 0)).unwrap_or_else(|e| panic!("bind {ip}:0/udp: {e}"));
        let port = udp.local_addr().expect("a bound socket's address").port();
        if TcpListener::bind((ip, port)).is_ok() {
            return port;
        }
    }
    panic!("no port free for both UDP and TCP on {ip}")
}

/// A base `127.x.y` no other cluster of this process uses, and unlikely to
/// be used by another process (x comes from the pid).
fn unique_ip_base() -> [u8; 3] {
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    let pid = std::process::id();
    [127, 10 + (pid % 240) as u8, (1 + n % 255) as u8]
}

fn failure_log_lines() -> usize {
    std::env::var("PATINA_CLUSTER_LOG_LINES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(FAILURE_LOG_LINES)
}

/// The rows of a simple-protocol answer, as text (NULL as `None`).
pub fn rows_of(messages: Vec<SimpleQueryMessage>) -> Rows {
    messages
        .into_iter()
        .filter_map(|m| match m {
            SimpleQueryMessage::Row(row) => Some(
                (0..row.len())
                    .map(|i| row.get(i).map(str::to_owned))
                    .collect(),
            ),
            _ => None,
        })
        .collect()
}

/// Two-column rows from pairs (e.g. the expected `(k, v)` rows of a table,
/// in the order of the query's ORDER BY).
pub fn pairs<K: ToString, V: ToString>(pairs: impl IntoIterator<Item = (K, V)>) -> Rows {
    pairs
        .into_iter()
        .map(|(k, v)| vec![Some(k.to_string()), Some(v.to_string())])
        .collect()
}

/// A row as one short line.
fn show_row(row: &[Option<String>]) -> String {
    let cells: Vec<&str> = row.iter().map(|c| c.as_deref().unwrap_or("NULL")).collect();
    format!("({})", cells.join(", "))
}

impl Cluster {
    /// Starts `n` nodes (n ≥ 1) and waits until every one accepts
    /// PostgreSQL connections; panics (with the logs) if one cannot.
    pub async fn start(n: usize, options: ClusterOptions) -> Cluster {
        assert!(n >= 1, "a cluster has at least one node");
        let bin = patina_bin();
        assert!(
            bin.is_file(),
            "the patina binary is missing: {} does not exist. Build it with \
             `cargo build -p patina-cli` (or set PATINA_BIN to its path)",
            bin.display()
        );
        let tls_dir = tempfile::Builder::new()
            .prefix("patina-cluster-tls-")
            .tempdir()
            .expect("a temporary folder for certificates");
        let ca = options.mtls.then(TestCa::new);
        let mut cluster = Cluster {
            nodes: Vec::new(),
            ip_base: options.ip_base.unwrap_or_else(unique_ip_base),
            options,
            bin,
            ca,
            tls_dir,
            clients: Mutex::new(Vec::new()),
            started: Instant::now(),
        };
        // node 0 first, so the others find it when they bootstrap
        cluster.add_node().await;
        let mut pending = Vec::new();
        for i in 1..n {
            pending.push(cluster.prepare(i, NodeOptions::default()));
        }
        let started = futures::future::join_all(pending.into_iter().map(|(prepared, args)| {
            let bin = cluster.bin.clone();
            async move {
                let result = Patina::try_start_at(
                    &bin,
                    prepared.pg_addr,
                    &args,
                    &prepared.label,
                    Some(failure_log_lines()),
                )
                .await;
                (prepared, result)
            }
        }))
        .await;
        let mut errors = Vec::new();
        for (prepared, result) in started {
            match result {
                Ok(patina) => cluster.push(prepared, patina),
                Err(e) => errors.push(format!("{}: {e}", prepared.label)),
            }
        }
        if !errors.is_empty() {
            panic!("cannot start the cluster:\n{}", errors.join("\n"));
        }
        cluster
    }

    /// Adds a node bootstrapping from node 0 (with a certificate from the
    /// cluster's CA on an mTLS cluster), waits until it accepts connections
    /// and returns its index. Create its tables yourself.
    pub async fn add_node(&mut self) -> usize {
        self.add_node_with(NodeOptions::default()).await
    }

    /// Like [`Cluster::add_node`], with options.
    pub async fn add_node_with(&mut self, options: NodeOptions<'_>) -> usize {
        let i = self.nodes.len();
        let (prepared, args) = self.prepare(i, options);
        match Patina::try_start_at(
            &self.bin,
            prepared.pg_addr,
            &args,
            &prepared.label,
            Some(failure_log_lines()),
        )
        .await
        {
            Ok(patina) => self.push(prepared, patina),
            Err(e) => panic!("cannot start {}: {e}", prepared.label),
        }
        i
    }

    /// Addresses, certificates and arguments of node `i`.
    fn prepare(&self, i: usize, options: NodeOptions<'_>) -> (Prepared, Vec<OsString>) {
        let [a, b, c] = self.ip_base;
        let last = u8::try_from(i + 1)
            .ok()
            .filter(|last| *last < 255)
            .unwrap_or_else(|| panic!("at most 254 nodes per cluster"));
        let ip = Ipv4Addr::new(a, b, c, last);
        let pg_addr = SocketAddr::new(IpAddr::V4(ip), free_port_on(ip));
        let gossip_addr = SocketAddr::new(IpAddr::V4(ip), free_udp_port_on(ip));
        let mut args: Vec<OsString> = vec!["--gossip-addr".into(), gossip_addr.to_string().into()];
        if let Some(ca) = options.ca.or(self.ca.as_ref()) {
            let names = vec![ip.to_string(), format!("node{i}")];
            let files: PeerTlsFiles =
                ca.write_node_files(self.tls_dir.path(), &format!("node{i}"), &names);
            args.extend(files.args().into_iter().map(OsString::from));
        }
        args.extend(self.options.extra_args.iter().map(OsString::from));
        let own_args = args.clone();
        let bootstrap = options
            .bootstrap
            .unwrap_or_else(|| if i == 0 { vec![] } else { vec![0] });
        args.extend(self.bootstrap_args(&bootstrap));
        let label = format!("node {i} (pg {pg_addr}, gossip {gossip_addr})");
        (
            Prepared {
                ip,
                pg_addr,
                gossip_addr,
                own_args,
                label,
            },
            args,
        )
    }

    /// `--bootstrap <gossip address>` for each of `peers`.
    fn bootstrap_args(&self, peers: &[usize]) -> Vec<OsString> {
        let mut args = Vec::new();
        for &peer in peers {
            args.push("--bootstrap".into());
            args.push(self.nodes[peer].gossip_addr.to_string().into());
        }
        args
    }

    fn push(&mut self, prepared: Prepared, patina: Patina) {
        self.nodes.push(Node {
            patina,
            ip: prepared.ip,
            gossip_addr: prepared.gossip_addr,
            own_args: prepared.own_args,
            alive: true,
        });
        self.clients.lock().expect("client cache").push(None);
    }

    /// How many nodes were started (killed ones included).
    pub fn len(&self) -> usize {
        self.nodes.len()
    }

    /// Whether the cluster has no node (never: it starts with one).
    pub fn is_empty(&self) -> bool {
        self.nodes.is_empty()
    }

    /// The indexes of the nodes not killed.
    pub fn live(&self) -> Vec<usize> {
        (0..self.nodes.len())
            .filter(|i| self.nodes[*i].alive)
            .collect()
    }

    /// Node `i`'s loopback address.
    pub fn ip(&self, i: usize) -> IpAddr {
        IpAddr::V4(self.nodes[i].ip)
    }

    /// Node `i`'s front door address.
    pub fn pg_addr(&self, i: usize) -> SocketAddr {
        self.nodes[i].patina.pg_addr()
    }

    /// Node `i`'s gossip address.
    pub fn gossip_addr(&self, i: usize) -> SocketAddr {
        self.nodes[i].gossip_addr
    }

    /// The CA of an mTLS cluster.
    pub fn ca(&self) -> Option<&TestCa> {
        self.ca.as_ref()
    }

    /// Node `i` as a [`Patina`] (its folder, data dir, log).
    pub fn node(&self, i: usize) -> &Patina {
        &self.nodes[i].patina
    }

    /// Node `i`'s log so far (all its runs).
    pub fn log(&self, i: usize) -> String {
        self.nodes[i].patina.log()
    }

    /// The last `lines` lines of every node's log, each under a header.
    pub fn logs_tail(&self, lines: usize) -> String {
        let mut out = String::new();
        for (i, node) in self.nodes.iter().enumerate() {
            let state = if node.alive { "" } else { " [killed]" };
            out.push_str(&format!(
                "----- node {i}{state} ({}) -----\n{}\n",
                node.patina.log_path().display(),
                log_tail(&node.patina.log(), lines)
            ));
        }
        out
    }

    /// Kills node `i` with SIGKILL. Its data folder stays for
    /// [`Cluster::restart`].
    pub fn kill(&mut self, i: usize) {
        self.nodes[i].patina.kill();
        self.nodes[i].alive = false;
        self.forget_client(i);
    }

    /// Starts node `i` again on the same data folder, addresses and
    /// arguments, and waits until it accepts connections.
    pub async fn restart(&mut self, i: usize) {
        self.forget_client(i);
        if let Err(e) = self.nodes[i].patina.restart().await {
            panic!("cannot restart node {i}: {e}");
        }
        self.nodes[i].alive = true;
    }

    /// Kills node `i` (SIGKILL) and starts it again on the same data folder
    /// and addresses, bootstrapping from `peers` from now on (also at later
    /// restarts); waits until it accepts connections. E.g. a node started
    /// alone (`bootstrap: Some(vec![])`) to create its tables, then joined.
    pub async fn restart_with_bootstrap(&mut self, i: usize, peers: &[usize]) {
        let mut args = self.nodes[i].own_args.clone();
        args.extend(self.bootstrap_args(peers));
        self.nodes[i].patina.set_extra_args(&args);
        self.restart(i).await;
    }

    /// A nftables partition dropping UDP (gossip) between the nodes of `a`
    /// and those of `b`; `Err` says why it cannot be made (no `nft`, not
    /// root). Heal it with [`Partition::heal`] or by dropping it.
    pub fn partition(&self, a: &[usize], b: &[usize]) -> Result<Partition, String> {
        let ips = |side: &[usize]| side.iter().map(|i| self.ip(*i)).collect::<Vec<_>>();
        Partition::split(&ips(a), &ips(b))
    }

    fn forget_client(&self, i: usize) {
        self.clients.lock().expect("client cache")[i] = None;
    }

    /// The cached connection to node `i`, opened if needed.
    pub async fn client(&self, i: usize) -> Result<Arc<Client>, String> {
        let cached = self.clients.lock().expect("client cache")[i].clone();
        if let Some(client) = cached.filter(|c| !c.is_closed()) {
            return Ok(client);
        }
        let addr = self.pg_addr(i);
        let client =
            Arc::new(try_connect_to(addr).await.map_err(|e| {
                format!("node {i}: cannot connect to {addr}: {}", describe_error(&e))
            })?);
        self.clients.lock().expect("client cache")[i] = Some(Arc::clone(&client));
        Ok(client)
    }

    /// Runs `sql` (one or more statements, simple protocol) on node `i` and
    /// returns the rows of its results.
    pub async fn try_query(&self, i: usize, sql: &str) -> Result<Rows, String> {
        let client = self.client(i).await?;
        match tokio::time::timeout(QUERY_TIMEOUT, client.simple_query(sql)).await {
            Ok(Ok(messages)) => Ok(rows_of(messages)),
            Ok(Err(e)) => {
                if e.as_db_error().is_none() {
                    self.forget_client(i);
                }
                Err(format!("node {i}: {}: {sql}", describe_error(&e)))
            }
            Err(_) => {
                self.forget_client(i);
                Err(format!(
                    "node {i}: no answer within {QUERY_TIMEOUT:?}: {sql}"
                ))
            }
        }
    }

    /// Like [`Cluster::try_query`], panicking on an error.
    pub async fn query(&self, i: usize, sql: &str) -> Rows {
        self.try_query(i, sql)
            .await
            .unwrap_or_else(|e| panic!("{e}"))
    }

    /// Runs `sql` on node `i`; panics on an error.
    pub async fn exec(&self, i: usize, sql: &str) {
        self.query(i, sql).await;
    }

    /// Creates the (empty) table `table` with `create` on the first live
    /// node and waits until the schema reached every live node.
    pub async fn create_table(&self, create: &str, table: &str) {
        let first = *self.live().first().expect("a live node");
        self.exec(first, create).await;
        self.wait_count(SCHEMA_DEADLINE, table, 0).await;
    }

    /// `SELECT count(*) FROM <table>` on node `i`.
    pub async fn count(&self, i: usize, table: &str) -> Result<i64, String> {
        let rows = self
            .try_query(i, &format!("SELECT count(*) FROM {table}"))
            .await?;
        rows.first()
            .and_then(|row| row.first().cloned().flatten())
            .and_then(|n| n.parse().ok())
            .ok_or_else(|| format!("node {i}: count(*) of {table} answered {rows:?}"))
    }

    /// The rows of `select` on node `i` (give it an ORDER BY), for comparing
    /// tables across nodes.
    pub async fn table_dump(&self, i: usize, select: &str) -> Result<Rows, String> {
        self.try_query(i, select).await
    }

    /// Polls `condition` until it holds and returns how long that took;
    /// panics after `deadline` naming what was awaited, the last state the
    /// condition described (return `Err(state)` rather than `false` to say
    /// it) and the tail of every node's log.
    pub async fn wait_for<F, Fut, O>(
        &self,
        deadline: Duration,
        what: &str,
        condition: F,
    ) -> Duration
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = O>,
        O: Outcome,
    {
        wait_until(deadline, what, condition, || self.logs_tail(WAIT_LOG_LINES)).await
    }

    /// Waits until `count(*)` of `table` is `n` on every node of `nodes`.
    pub async fn wait_count_on(
        &self,
        deadline: Duration,
        nodes: &[usize],
        table: &str,
        n: i64,
    ) -> Duration {
        let what = format!("{n} rows in {table} on nodes {nodes:?}");
        self.wait_for(deadline, &what, || async {
            let mut seen = Vec::new();
            let mut done = true;
            for &i in nodes {
                match self.count(i, table).await {
                    Ok(c) => {
                        done &= c == n;
                        seen.push(format!("node {i}: {c}"));
                    }
                    Err(e) => {
                        done = false;
                        seen.push(e);
                    }
                }
            }
            if done { Ok(()) } else { Err(seen.join("; ")) }
        })
        .await
    }

    /// Waits until `count(*)` of `table` is `n` on every live node.
    pub async fn wait_count(&self, deadline: Duration, table: &str, n: i64) -> Duration {
        self.wait_count_on(deadline, &self.live(), table, n).await
    }

    /// Waits until `select` answers the same rows on every node of `nodes`,
    /// and returns them.
    pub async fn wait_identical_on(
        &self,
        deadline: Duration,
        nodes: &[usize],
        select: &str,
    ) -> Rows {
        let what = format!("identical answers on nodes {nodes:?} to {select}");
        let agreed = Mutex::new(Rows::new());
        self.wait_for(deadline, &what, || async {
            let mut dumps = Vec::new();
            for &i in nodes {
                dumps.push((i, self.table_dump(i, select).await?));
            }
            let (first, reference) = &dumps[0];
            let mut differences = Vec::new();
            for (i, dump) in &dumps[1..] {
                if dump != reference {
                    differences.push(describe_difference(*first, reference, *i, dump));
                }
            }
            if differences.is_empty() {
                *agreed.lock().expect("agreed rows") = reference.clone();
                Ok(())
            } else {
                Err(differences.join("; "))
            }
        })
        .await;
        agreed.into_inner().expect("agreed rows")
    }

    /// Waits until `select` answers the same rows on every live node, and
    /// returns them.
    pub async fn wait_identical(&self, deadline: Duration, select: &str) -> Rows {
        self.wait_identical_on(deadline, &self.live(), select).await
    }

    /// Waits until `select` answers exactly `expected` on every node of
    /// `nodes`.
    pub async fn wait_rows_on(
        &self,
        deadline: Duration,
        nodes: &[usize],
        select: &str,
        expected: &Rows,
    ) -> Duration {
        let what = format!(
            "the expected {} rows on nodes {nodes:?} from {select}",
            expected.len()
        );
        self.wait_for(deadline, &what, || async {
            let mut differences = Vec::new();
            for &i in nodes {
                let dump = self.table_dump(i, select).await?;
                if &dump != expected {
                    differences.push(describe_difference(usize::MAX, expected, i, &dump));
                }
            }
            if differences.is_empty() {
                Ok(())
            } else {
                Err(differences.join("; "))
            }
        })
        .await
    }

    /// Waits until `select` answers exactly `expected` on every live node.
    pub async fn wait_rows(&self, deadline: Duration, select: &str, expected: &Rows) -> Duration {
        self.wait_rows_on(deadline, &self.live(), select, expected)
            .await
    }

    /// How long ago the cluster was started.
    pub fn elapsed(&self) -> Duration {
        self.started.elapsed()
    }
}

/// Node `a`'s rows (`usize::MAX`: the expected rows) against node `b`'s,
/// as one line: the counts, then (up to 5 of each) the rows only `a` has
/// and the rows only `b` has.
fn describe_difference(a: usize, rows_a: &Rows, b: usize, rows_b: &Rows) -> String {
    use std::collections::BTreeSet;
    let set_a: BTreeSet<&Vec<Option<String>>> = rows_a.iter().collect();
    let set_b: BTreeSet<&Vec<Option<String>>> = rows_b.iter().collect();
    let some = |rows: Vec<&&Vec<Option<String>>>| {
        let total = rows.len();
        let mut shown: Vec<String> = rows.iter().take(5).map(|r| show_row(r)).collect();
        if total > 5 {
            shown.push(format!("… {} more", total - 5));
        }
        format!("{total} [{}]", shown.join(" "))
    };
    let only_a = some(set_a.difference(&set_b).collect());
    let only_b = some(set_b.difference(&set_a).collect());
    let (a_has, a_only) = if a == usize::MAX {
        ("expected".to_owned(), "missing".to_owned())
    } else {
        (format!("node {a} has"), format!("only on node {a}"))
    };
    let order = if set_a == set_b {
        " (the same rows in another order)"
    } else {
        ""
    };
    format!(
        "{a_has} {} rows, node {b} has {}{order}: {a_only}: {only_a}; only on node {b}: {only_b}",
        rows_a.len(),
        rows_b.len(),
    )
}

#[derive(Debug)]
struct Prepared {
    ip: Ipv4Addr,
    pg_addr: SocketAddr,
    gossip_addr: SocketAddr,
    own_args: Vec<OsString>,
    label: String,
}

impl Drop for Cluster {
    #[allow(clippy::print_stderr)]
    fn drop(&mut self) {
        if std::thread::panicking() {
            eprintln!(
                "----- the cluster ({} nodes on {}.{}.{}.x, up {:.1?}) failed; the logs of its \
                 nodes follow -----",
                self.nodes.len(),
                self.ip_base[0],
                self.ip_base[1],
                self.ip_base[2],
                self.started.elapsed()
            );
        }
        if std::env::var_os("PATINA_CLUSTER_KEEP").is_some_and(|v| v == "1") {
            for (i, node) in self.nodes.iter_mut().enumerate() {
                node.patina.keep_dir();
                eprintln!(
                    "PATINA_CLUSTER_KEEP: node {i} kept in {}",
                    node.patina.dir().display()
                );
            }
        }
        // the nodes kill themselves (and print their logs) as they drop
    }
}
