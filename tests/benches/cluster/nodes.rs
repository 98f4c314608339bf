//! Clients of the nodes, waits on row counts, logs, CPU and traffic counters.

use super::*;

pub(crate) async fn connect(cluster: &Cluster, i: usize) -> Result<Client, String> {
    let addr = cluster.pg_addr(i);
    try_connect_to(addr)
        .await
        .map_err(|e| format!("node {i}: connecting to {addr}: {}", describe_error(&e)))
}

pub(crate) async fn connect_all(cluster: &Cluster) -> Result<Vec<Client>, String> {
    let mut clients = Vec::new();
    for i in 0..cluster.len() {
        clients.push(connect(cluster, i).await?);
    }
    Ok(clients)
}

/// `sql` prepared on each client, in order.
pub(crate) async fn prepare_all(clients: &[Client], sql: &str) -> Result<Vec<Statement>, String> {
    let mut statements = Vec::with_capacity(clients.len());
    for (i, client) in clients.iter().enumerate() {
        statements
            .push(bounded(|| format!("node {i}: preparing {sql}"), client.prepare(sql)).await?);
    }
    Ok(statements)
}

pub(crate) async fn bounded<T>(
    what: impl FnOnce() -> String,
    query: impl Future<Output = Result<T, patina_tests::tokio_postgres::Error>>,
) -> Result<T, String> {
    match tokio::time::timeout(QUERY_TIMEOUT, query).await {
        Ok(Ok(v)) => Ok(v),
        Ok(Err(e)) => Err(format!("{}: {}", what(), describe_error(&e))),
        Err(_) => Err(format!("{}: no answer within {QUERY_TIMEOUT:?}", what())),
    }
}

/// Polls `sql` (one bigint) on every client every `poll` until it reached
/// each of `thresholds` (ascending) there; per node and threshold, how
/// long after the call that took. Errors when the deadline passes.
pub(crate) async fn watch_counts(
    clients: &[Client],
    sql: &str,
    thresholds: &[i64],
    deadline: Duration,
    poll: Duration,
) -> Result<Vec<Vec<Duration>>, String> {
    let start = Instant::now();
    let last_seen: Vec<Cell<i64>> = clients.iter().map(|_| Cell::new(-1)).collect();
    let watches = clients.iter().enumerate().map(|(i, client)| {
        let last_seen = &last_seen[i];
        async move {
            let statement =
                bounded(|| format!("node {i}: preparing {sql}"), client.prepare(sql)).await?;
            let mut reached = Vec::new();
            loop {
                let asked = Instant::now();
                let row = bounded(
                    || format!("node {i}: {sql}"),
                    client.query_one(&statement, &[]),
                )
                .await?;
                let value: i64 = row.get(0);
                last_seen.set(value);
                let at = (asked + asked.elapsed() / 2).saturating_duration_since(start);
                while reached.len() < thresholds.len() && value >= thresholds[reached.len()] {
                    reached.push(at);
                }
                if reached.len() == thresholds.len() {
                    return Ok::<_, String>(reached);
                }
                if start.elapsed() > deadline {
                    return Err(format!(
                        "node {i}: `{sql}` answered {value}, not yet {} after {deadline:?}",
                        thresholds[reached.len()]
                    ));
                }
                tokio::time::sleep(poll).await;
            }
        }
    });
    let results = futures::future::join_all(watches).await;
    let mut out = Vec::new();
    let mut errors = Vec::new();
    for r in results {
        match r {
            Ok(v) => out.push(v),
            Err(e) => errors.push(e),
        }
    }
    if errors.is_empty() {
        Ok(out)
    } else {
        let seen: Vec<String> = last_seen.iter().map(|c| c.get().to_string()).collect();
        Err(format!(
            "{} (values seen per node: {})",
            errors.join("; "),
            seen.join(", ")
        ))
    }
}

/// The latest time per threshold over the nodes.
pub(crate) fn slowest(per_node: &[Vec<Duration>], threshold: usize) -> Duration {
    per_node
        .iter()
        .filter_map(|t| t.get(threshold))
        .copied()
        .max()
        .unwrap_or_default()
}

/// Copies every node's log to `CLUSTER_LOG_DIR` (if set), as
/// `<n>nodes-<what>-node<i>.log`.
pub(crate) fn keep_logs(cluster: &Cluster, what: &str) {
    let Some(dir) = std::env::var_os("CLUSTER_LOG_DIR") else {
        return;
    };
    let dir = PathBuf::from(dir);
    if let Err(e) = std::fs::create_dir_all(&dir) {
        progress(&format!("cannot create {}: {e}", dir.display()));
        return;
    }
    let n = cluster.len();
    for i in 0..n {
        let to = dir.join(format!("{n}nodes-{what}-node{i}.log"));
        if let Err(e) = std::fs::copy(cluster.node(i).log_path(), &to) {
            progress(&format!(
                "cannot copy node {i}'s log to {}: {e}",
                to.display()
            ));
        }
    }
}

/// The pid of every node.
pub(crate) fn node_pids(cluster: &Cluster) -> Result<Vec<u32>, String> {
    let mut pids = Vec::new();
    for i in 0..cluster.len() {
        let data_dir = cluster.node(i).data_dir();
        pids.push(
            procfs::pid_of(&data_dir)
                .ok_or_else(|| format!("no process runs {}", data_dir.display()))?,
        );
    }
    Ok(pids)
}

pub(crate) fn cpu_line(cpu: &CpuUse) -> String {
    let cpus = cpu.cpus.max(1) as f64;
    format!(
        "CPU: nodes {:.2} s + bench {:.2} s over {:.2} s wall = {:.0}% of the {} CPUs{}",
        cpu.nodes,
        cpu.bench,
        cpu.wall,
        (cpu.nodes + cpu.bench) / cpu.wall / cpus * 100.0,
        cpu.cpus,
        cpu.others().map_or_else(String::new, |o| format!(
            "; other processes on the machine used {:.0}%",
            o / cpu.wall / cpus * 100.0
        )),
    )
}

/// Other processes' share of the machine during a phase, in %.
pub(crate) fn others_share(cpu: &CpuUse) -> Option<f64> {
    cpu.others()
        .map(|o| o / cpu.wall / cpu.cpus.max(1) as f64 * 100.0)
}

pub(crate) fn total_bytes(net: Option<&NetCounters>) -> Option<nft::Snapshot> {
    net.and_then(|net| net.snapshot().ok())
}

/// Gossip (packets, bytes) received by all nodes between two snapshots.
pub(crate) fn traffic_between(
    before: &Option<nft::Snapshot>,
    after: &Option<nft::Snapshot>,
    ips: &[IpAddr],
) -> Option<(f64, f64)> {
    let (Some(before), Some(after)) = (before, after) else {
        return None;
    };
    Some(
        nft::delta(before, after, ips)
            .iter()
            .fold((0.0, 0.0), |(p, b), (dp, db)| {
                (p + *dp as f64, b + *db as f64)
            }),
    )
}

pub(crate) fn traffic(what: &str, t: Option<(f64, f64)>) -> String {
    t.map_or_else(String::new, |(p, b)| {
        format!(
            "; gossip received per {what}, all nodes: {:.0} packets, {}",
            p,
            bytes(b)
        )
    })
}

/// Latency histogram of (probe, other node) pairs, and the share of
/// probes slower than 50 ms on their last node.
pub(crate) fn spread(s: &ProbeStats) -> String {
    let edges = [5u64, 20, 50, 200, 1000];
    let mut counts = [0usize; 6];
    for d in &s.per_node {
        let ms = d.as_millis() as u64;
        counts[edges.iter().position(|e| ms < *e).unwrap_or(edges.len())] += 1;
    }
    let total = s.per_node.len().max(1) as f64;
    let labels = [
        "< 5 ms",
        "5–20 ms",
        "20–50 ms",
        "50–200 ms",
        "0.2–1 s",
        "≥ 1 s",
    ];
    let hist: Vec<String> = labels
        .iter()
        .zip(counts)
        .map(|(l, c)| format!("{l} {:.1}%", c as f64 / total * 100.0))
        .collect();
    let late = s
        .all_nodes
        .iter()
        .filter(|d| **d >= Duration::from_millis(50))
        .count();
    format!(
        "(probe, other node) pairs: {}; probes not on every node within 50 ms: {:.1}%",
        hist.join(", "),
        late as f64 / s.all_nodes.len().max(1) as f64 * 100.0
    )
}
