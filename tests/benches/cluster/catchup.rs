//! A new empty node catching up with a loaded cluster.

use super::*;

pub(crate) async fn catchup(settings: &Settings, n: usize) -> Result<Catchup, String> {
    let rows = settings.catchup_rows;
    progress(&format!("{n} nodes: catch-up cluster, loading {rows} rows"));
    let mut cluster = Cluster::start(n, ClusterOptions::default()).await;
    for i in 0..n {
        cluster.try_query(i, CATCHUP_TABLE).await?;
    }
    let loader = connect(&cluster, 0).await?;
    let ips: Vec<IpAddr> = (0..n).map(|i| cluster.ip(i)).collect();
    let net = NetCounters::new(&ips).ok();
    let net_before = total_bytes(net.as_ref());
    let t = Instant::now();
    let mut first = 1;
    while first <= rows {
        let last = (first + CATCHUP_BATCH - 1).min(rows);
        bounded(
            || "node 0: load".to_owned(),
            loader.batch_execute(&format!(
                "INSERT INTO kv (k, v) WITH RECURSIVE s(x) AS \
                 (SELECT {first} UNION ALL SELECT x + 1 FROM s WHERE x < {last}) \
                 SELECT x, 'row ' || x FROM s"
            )),
        )
        .await?;
        first = last + 1;
    }
    let loaded_in = t.elapsed();
    let clients = connect_all(&cluster).await?;
    let spread_in = watch_counts(
        &clients,
        "SELECT count(*) FROM kv",
        &[rows],
        SPREAD_DEADLINE,
        Duration::from_millis((n as u64 * 5).max(50)),
    )
    .await
    .map(|_| t.elapsed());
    progress(&format!(
        "  loaded in {loaded_in:.2?}; on all {n} nodes after {}",
        spread_in
            .as_ref()
            .map_or_else(|e| e.clone(), |d| format!("{d:.2?}"))
    ));
    drop(clients);
    spread_in
        .as_ref()
        .map_err(|e| format!("the load did not spread: {e}"))?;
    let spread_bytes = traffic_between(&net_before, &total_bytes(net.as_ref()), &ips)
        .map(|(_, b)| b / (rows as f64 * (n - 1).max(1) as f64));
    drop(net);

    let joining = cluster
        .add_node_with(NodeOptions {
            bootstrap: Some(vec![]),
            ..NodeOptions::default()
        })
        .await;
    cluster.try_query(joining, CATCHUP_TABLE).await?;
    let new_ip = [cluster.ip(joining)];
    let new_net = NetCounters::new(&new_ip).ok();
    let new_net_before = total_bytes(new_net.as_ref());
    let t = Instant::now();
    cluster.restart_with_bootstrap(joining, &[0]).await;
    let ready = t.elapsed();
    let new_pid = procfs::pid_of(&cluster.node(joining).data_dir());
    let new_cpu_before = new_pid.and_then(procfs::cpu_seconds);
    let meter = node_pids(&cluster).ok().map(CpuMeter::start);
    let client = connect(&cluster, joining).await?;
    let times = watch_counts(
        std::slice::from_ref(&client),
        "SELECT count(*) FROM kv",
        &[1, rows],
        SPREAD_DEADLINE,
        Duration::from_millis(10),
    )
    .await;
    let cpu = meter.map(|m| m.stop());
    let catchup_bytes = traffic_between(&new_net_before, &total_bytes(new_net.as_ref()), &new_ip)
        .map(|(_, b)| b / rows as f64);
    let new_node_cpu = match (new_cpu_before, new_pid.and_then(procfs::cpu_seconds)) {
        (Some(before), Some(after)) => Some(after - before),
        _ => None,
    };
    let (first_row, done) = match times {
        Ok(per_node) => (Ok(ready + per_node[0][0]), Ok(ready + per_node[0][1])),
        Err(e) => (Err(e.clone()), Err(e)),
    };
    let rss_after = procfs::pid_of(&cluster.node(joining).data_dir())
        .and_then(procfs::rss)
        .map(|b| b as f64);
    keep_logs(&cluster, "catchup");
    let result = Catchup {
        rows,
        loaded_in,
        spread_in,
        ready,
        first_row,
        done,
        rss_after,
        new_node_cpu,
        cpu,
        spread_bytes,
        catchup_bytes,
    };
    progress(&format!(
        "  new node: accepting after {ready:.2?}, first row {}, all rows {} ({} rows/s)",
        result
            .first_row
            .as_ref()
            .map_or_else(|e| e.clone(), |d| dur(*d)),
        result.done.as_ref().map_or_else(|e| e.clone(), |d| dur(*d)),
        result.rate().map_or_else(|| "—".to_owned(), count),
    ));
    Ok(result)
}
