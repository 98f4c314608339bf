//! Phase 3: sustained write load and the replication lag under it.

use super::*;

pub(crate) async fn throughput(
    settings: &Settings,
    cluster: &Cluster,
    net: Option<&NetCounters>,
) -> Result<Throughput, String> {
    let n = cluster.len();
    let probe_writers = connect_all(cluster).await?;
    let observers = connect_all(cluster).await?;
    let counters = connect_all(cluster).await?;
    let tracker = Tracker::new("probe", 1_000_000_000, n);
    let probe_inserts = prepare_all(&probe_writers, &tracker.insert_sql()).await?;
    let mut bulk = Vec::new();
    for c in 0..settings.writers {
        let node = c % n;
        let client = connect(cluster, node).await?;
        let statement = bounded(
            || format!("node {node}: prepare"),
            client.prepare("INSERT INTO bulk (id, v, n) VALUES ($1, $2, $3)"),
        )
        .await?;
        bulk.push((node, client, statement));
    }
    let poll = settings.poll(n);
    let ips: Vec<IpAddr> = (0..n).map(|i| cluster.ip(i)).collect();
    let next_id = Cell::new(1i64);
    let load_for = Duration::from_secs_f64(settings.tput_secs);
    let before = total_bytes(net);
    let meter = CpuMeter::start(node_pids(cluster)?);
    let t0 = Instant::now();
    let end = t0 + load_for;

    let writers = bulk.iter().map(|(node, client, statement)| {
        let next_id = &next_id;
        async move {
            let mut latencies = Vec::new();
            while Instant::now() < end {
                let id = next_id.get();
                next_id.set(id + 1);
                let v = format!("row {id} from node {node}");
                let m = (id % 1000) as i32;
                let t = Instant::now();
                bounded(
                    || format!("node {node}: bulk insert"),
                    client.execute(statement, &[&id, &v, &m]),
                )
                .await?;
                latencies.push(t.elapsed());
            }
            Ok::<_, String>(latencies)
        }
    });
    let probes = async {
        let count = (load_for.as_secs_f64() / TPUT_PROBE_EVERY.as_secs_f64()) as usize;
        let result = write_probes(
            &tracker,
            &probe_writers,
            &probe_inserts,
            TPUT_PROBE_EVERY,
            count,
        )
        .await;
        tracker.finish(PROBE_DRAIN);
        result
    };
    let observe = futures::future::join_all(
        observers
            .iter()
            .enumerate()
            .map(|(i, c)| tracker.observe(i, c, poll)),
    );
    let load = async {
        let (bulk_results, probes) = tokio::join!(futures::future::join_all(writers), probes);
        let loaded_in = t0.elapsed();
        let cpu = meter.stop();
        let mut latencies = Vec::new();
        for r in bulk_results {
            latencies.extend(r?);
        }
        let probes = probes?;
        let bulk_rows = latencies.len() as i64;
        progress(&format!(
            "  {bulk_rows} rows + {probes} probes in {loaded_in:.2?}; waiting for the drain"
        ));
        // every committed bulk row on every node
        let drain = watch_counts(
            &counters,
            "SELECT count(*) FROM bulk",
            &[bulk_rows],
            SPREAD_DEADLINE,
            Duration::from_millis((n as u64 * 5).max(50)),
        )
        .await
        .map(|per_node| slowest(&per_node, 0));
        Ok::<_, String>((latencies, probes, loaded_in, drain, cpu))
    };
    let (load, observed) = tokio::join!(load, observe);
    let (mut bulk_latency, probes, loaded_in, drain, cpu) = load?;
    for o in observed {
        o?;
    }
    let after = total_bytes(net);
    bulk_latency.sort();
    let bulk_rows = bulk_latency.len() as i64;
    let transactions = bulk_rows as u64 + probes as u64;
    let stats = tracker.stats();
    progress(&format!(
        "  {:.0} tx/s; lag p50 {} p99 {}; drain {}",
        transactions as f64 / loaded_in.as_secs_f64(),
        opt_dur(pct(&stats.all_nodes, 0.5)),
        opt_dur(pct(&stats.all_nodes, 0.99)),
        match &drain {
            Ok(d) => dur(*d),
            Err(e) => e.clone(),
        }
    ));
    Ok(Throughput {
        writers: settings.writers,
        secs: loaded_in.as_secs_f64(),
        bulk_rows,
        transactions,
        bulk_latency,
        stats,
        drain,
        net_per_tx: traffic_between(&before, &after, &ips).map(|(p, b)| {
            let per = transactions.max(1) as f64;
            (p / per, b / per)
        }),
        cpu,
    })
}
