//! Phases 1 and 5: what an idle node costs.

use super::*;

pub(crate) async fn idle(
    cluster: &Cluster,
    net: Option<&NetCounters>,
    secs: f64,
    rows_held: i64,
) -> Result<Idle, String> {
    let n = cluster.len();
    let pids = node_pids(cluster)?;
    let ips: Vec<IpAddr> = (0..n).map(|i| cluster.ip(i)).collect();
    let net_before = net.map(NetCounters::snapshot);
    let cpu_before: Vec<Option<f64>> = pids.iter().map(|p| procfs::cpu_seconds(*p)).collect();
    let meter = CpuMeter::start(pids.clone());
    let t = Instant::now();
    tokio::time::sleep(Duration::from_secs_f64(secs)).await;
    let elapsed = t.elapsed().as_secs_f64();
    let machine = meter.stop();
    let net_after = net.map(NetCounters::snapshot);
    let cpu: Vec<f64> = pids
        .iter()
        .zip(&cpu_before)
        .map(|(p, before)| match (before, procfs::cpu_seconds(*p)) {
            (Some(b), Some(a)) => (a - b) / elapsed,
            _ => f64::NAN,
        })
        .collect();
    let net = match (net_before, net_after) {
        (Some(Ok(before)), Some(Ok(after))) => Ok(nft::delta(&before, &after, &ips)
            .into_iter()
            .map(|(p, b)| (p as f64 / elapsed, b as f64 / elapsed))
            .collect()),
        (Some(Err(e)), _) | (_, Some(Err(e))) => Err(e),
        _ => Err("no nftables counters".to_owned()),
    };
    let mut rss = Vec::new();
    let mut rss_anon = Vec::new();
    let mut rss_file = Vec::new();
    let mut pss = Vec::new();
    for p in &pids {
        rss.push(procfs::rss(*p).ok_or_else(|| format!("no VmRSS for pid {p}"))? as f64);
        rss_anon.push(procfs::rss_anon(*p).unwrap_or(0) as f64);
        rss_file.push(procfs::rss_file(*p).unwrap_or(0) as f64);
        pss.push(procfs::pss(*p).unwrap_or(0) as f64);
    }
    Ok(Idle {
        secs: elapsed,
        rss,
        rss_anon,
        rss_file,
        pss,
        cpu,
        net,
        rows_held,
        machine,
    })
}
