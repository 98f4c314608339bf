//! Phase 2: how fast a single write reaches every node.

use super::*;

pub(crate) async fn propagation(
    settings: &Settings,
    cluster: &Cluster,
    net: Option<&NetCounters>,
) -> Result<Propagation, String> {
    let n = cluster.len();
    let writers = connect_all(cluster).await?;
    let observers = connect_all(cluster).await?;
    let tracker = Tracker::new("probe", 1, n);
    let inserts = prepare_all(&writers, &tracker.insert_sql()).await?;
    let poll = settings.poll(n);
    let count = (settings.rate * settings.prop_secs).round().max(1.0) as usize;
    let period = Duration::from_secs_f64(1.0 / settings.rate);
    let ips: Vec<IpAddr> = (0..n).map(|i| cluster.ip(i)).collect();
    let before = total_bytes(net);
    let meter = CpuMeter::start(node_pids(cluster)?);

    let write = async {
        let t0 = Instant::now();
        let result = write_probes(&tracker, &writers, &inserts, period, count).await;
        tracker.finish(PROBE_DRAIN);
        result.map(|written| written as f64 / t0.elapsed().as_secs_f64())
    };
    let observe = futures::future::join_all(
        observers
            .iter()
            .enumerate()
            .map(|(i, c)| tracker.observe(i, c, poll)),
    );
    let (rate, observed) = tokio::join!(write, observe);
    let cpu = meter.stop();
    let rate = rate?;
    for o in observed {
        o?;
    }
    let after = total_bytes(net);
    let stats = tracker.stats();
    let per = stats.probes.max(1) as f64;
    let net_per_probe = traffic_between(&before, &after, &ips).map(|(p, b)| (p / per, b / per));
    progress(&format!(
        "  all nodes p50 {} p99 {} max {}; one hop p50 {}; missing {}",
        opt_dur(pct(&stats.all_nodes, 0.5)),
        opt_dur(pct(&stats.all_nodes, 0.99)),
        opt_dur(stats.all_nodes.last().copied()),
        opt_dur(pct(&stats.first_remote, 0.5)),
        stats.missing
    ));
    Ok(Propagation {
        stats,
        rate,
        poll,
        net_per_probe,
        cpu,
    })
}

/// Writes `count` probes, one every `period` on the next node in turn,
/// open loop: each INSERT goes out on schedule whether or not the earlier
/// ones were acknowledged (at most one in flight per node connection is
/// typical; more are pipelined). Returns how many were written.
pub(crate) async fn write_probes(
    tracker: &Tracker,
    writers: &[Client],
    inserts: &[Statement],
    period: Duration,
    count: usize,
) -> Result<usize, String> {
    let n = writers.len();
    open_loop(count, period, |k| {
        let origin = k % n;
        let (idx, seq) = tracker.begin(origin);
        let client = &writers[origin];
        let insert = &inserts[origin];
        async move {
            let origin_col = origin as i32;
            bounded(
                || format!("node {origin}: probe insert"),
                client.execute(insert, &[&seq, &origin_col]),
            )
            .await?;
            tracker.acked(idx, Instant::now());
            Ok(())
        }
    })
    .await?;
    Ok(count)
}
