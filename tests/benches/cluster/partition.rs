//! Phase 4: partitions, and how long a healed one takes to converge.

use super::*;

pub(crate) async fn partition(
    settings: &Settings,
    cluster: &Cluster,
    net: Option<&NetCounters>,
) -> Result<Heal, String> {
    let n = cluster.len();
    let side_a: Vec<usize> = (0..n / 2).collect();
    let side_b: Vec<usize> = (n / 2..n).collect();
    let clients = connect_all(cluster).await?;
    let mut rounds = Vec::new();
    // a short split first (healed as soon as each half holds its rows,
    // before SWIM declares the other half down), then the long ones
    let long_rounds = if settings.wait_down {
        settings.partition_rounds
    } else {
        0
    };
    for r in 0..=long_rounds {
        let mut round =
            heal_round(settings, cluster, net, &clients, &side_a, &side_b, r, r > 0).await?;
        // membership whole again (SWIM re-admitted the halves) before the
        // next round, and how long after the heal that took
        round.membership = wait_membership(cluster, MEMBERSHIP_DEADLINE)
            .await
            .map(|_| round.healed_at.elapsed());
        progress(&format!(
            "  round {r}: membership whole again {} after the heal",
            round
                .membership
                .as_ref()
                .map_or_else(|e| e.clone(), |d| format!("{d:.2?}"))
        ));
        rounds.push(round);
        tokio::time::sleep(Duration::from_secs_f64(settings.settle_secs.min(1.0))).await;
    }
    Ok(Heal {
        sides: (side_a.len(), side_b.len()),
        rows_per_side: settings.split_rows,
        rounds,
    })
}

/// Per node of `nodes`, the others it does not see up: by its log, the
/// last "member up"/"member down" line naming their gossip address ("member
/// up" is a debug line of `patina_replication::core::node`: see
/// `NODE_LOG`).
pub(crate) fn membership_gaps(cluster: &Cluster, nodes: &[usize]) -> Vec<(usize, Vec<usize>)> {
    let mut gaps = Vec::new();
    for &i in nodes {
        let mut up: std::collections::HashMap<String, bool> = std::collections::HashMap::new();
        for line in cluster.log(i).lines() {
            for (event, is_up) in [
                ("member up id=", true),
                ("member down id=", false),
                ("event=MemberUp(", true),
                ("event=MemberDown(", false),
            ] {
                if let Some(pos) = line.find(event) {
                    let id = &line[pos + event.len()..];
                    if let (Some(at), Some(hash)) = (id.find('@'), id.find('#'))
                        && at < hash
                    {
                        up.insert(id[at + 1..hash].to_owned(), is_up);
                    }
                }
            }
        }
        let missing: Vec<usize> = nodes
            .iter()
            .copied()
            .filter(|&j| j != i && up.get(&cluster.gossip_addr(j).to_string()) != Some(&true))
            .collect();
        if !missing.is_empty() {
            gaps.push((i, missing));
        }
    }
    gaps
}

/// Waits until every node's log shows every other node up.
pub(crate) async fn wait_membership(
    cluster: &Cluster,
    deadline: Duration,
) -> Result<Duration, String> {
    let nodes: Vec<usize> = (0..cluster.len()).collect();
    let logged = |i: usize| {
        let log = cluster.log(i);
        log.contains("member up id=") || log.contains("event=MemberUp(")
    };
    if !nodes.iter().any(|&i| logged(i)) {
        return Err(format!(
            "not awaited: the nodes do not log \"member up\" (RUST_LOG without {NODE_LOG:?}?)"
        ));
    }
    let t = Instant::now();
    loop {
        let gaps = membership_gaps(cluster, &nodes);
        if gaps.is_empty() {
            return Ok(t.elapsed());
        }
        if t.elapsed() > deadline {
            let shown: Vec<String> = gaps
                .iter()
                .take(5)
                .map(|(i, missing)| format!("node {i} does not see {missing:?} up"))
                .collect();
            return Err(format!(
                "membership incomplete after {deadline:?}: {}{}",
                shown.join("; "),
                if gaps.len() > 5 { "; …" } else { "" }
            ));
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Nodes of `nodes` that logged no "member down" for a node of the other
/// half since `offsets`.
pub(crate) fn not_noticed(
    cluster: &Cluster,
    offsets: &[usize],
    nodes: &[usize],
    side_a: &[usize],
    side_b: &[usize],
) -> Vec<usize> {
    nodes
        .iter()
        .copied()
        .filter(|&i| {
            let other = if side_a.contains(&i) { side_b } else { side_a };
            let log = cluster.log(i);
            let since = log.get(offsets[i]..).unwrap_or("");
            !since.lines().any(|line| {
                line.contains("member down")
                    && other
                        .iter()
                        .any(|j| line.contains(&format!("@{}", cluster.gossip_addr(*j))))
            })
        })
        .collect()
}

/// One partition: split, each half writes `split_rows` rows of its own
/// (keys of this round only), each half converges inside, (if `long`)
/// SWIM notices, heal, converge.
#[allow(clippy::too_many_arguments)]
pub(crate) async fn heal_round(
    settings: &Settings,
    cluster: &Cluster,
    net: Option<&NetCounters>,
    clients: &[Client],
    side_a: &[usize],
    side_b: &[usize],
    round: usize,
    long: bool,
) -> Result<HealRound, String> {
    let n = cluster.len();
    let rows = settings.split_rows;
    let base = round as i64 * 2 * rows;
    let count_sql = format!("SELECT count(*) FROM split WHERE k > {base}");
    let log_offsets: Vec<usize> = (0..n).map(|i| cluster.log(i).len()).collect();
    let ips: Vec<IpAddr> = (0..n).map(|i| cluster.ip(i)).collect();
    let partition = cluster.partition(side_a, side_b)?;
    let partitioned = Instant::now();
    let net_start = total_bytes(net);

    // each half writes its own rows: A keys base+1..=base+rows, B the next rows
    let write_side = |side: &[usize], first_key: i64| {
        let side = side.to_vec();
        async move {
            let mut batch = 0usize;
            let mut first = first_key;
            while first < first_key + rows {
                let last = (first + SPLIT_BATCH - 1).min(first_key + rows - 1);
                let node = side[batch % side.len()];
                let sql = format!(
                    "INSERT INTO split (k, v) WITH RECURSIVE s(x) AS \
                     (SELECT {first} UNION ALL SELECT x + 1 FROM s WHERE x < {last}) \
                     SELECT x, 'written on node {node} during partition {round}, key ' || x FROM s"
                );
                bounded(
                    || format!("node {node}: split insert"),
                    clients[node].batch_execute(&sql),
                )
                .await?;
                first = last + 1;
                batch += 1;
            }
            Ok::<_, String>(())
        }
    };
    let (a, b) = tokio::join!(
        write_side(side_a, base + 1),
        write_side(side_b, base + rows + 1)
    );
    a?;
    b?;
    let written_in = partitioned.elapsed();
    // each half converged inside (and nothing crossed)
    let t = Instant::now();
    watch_counts(
        clients,
        &count_sql,
        &[rows],
        SPREAD_DEADLINE,
        Duration::from_millis((n as u64 * 5).max(25)),
    )
    .await?;
    let sides_converged_in = t.elapsed();
    let net_inside = total_bytes(net);
    for (i, client) in clients.iter().enumerate() {
        let c: i64 = bounded(
            || format!("node {i}: count"),
            client.query_one(count_sql.as_str(), &[]),
        )
        .await?
        .get(0);
        if c != rows {
            return Err(format!(
                "node {i} holds {c} rows of round {round} during the partition, not {rows}: rows crossed it"
            ));
        }
    }
    let everyone: Vec<usize> = (0..n).collect();
    let noticed = if long {
        // SWIM notices the partition: every node logs a member of the
        // other half down
        let t = Instant::now();
        loop {
            let waiting = not_noticed(cluster, &log_offsets, &everyone, side_a, side_b);
            if waiting.is_empty() {
                break Ok(t.elapsed());
            }
            if t.elapsed() > DOWN_DEADLINE {
                break Err(format!(
                    "nodes {waiting:?} logged no \"member down\" for the other half within {DOWN_DEADLINE:?}"
                ));
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    } else {
        let waiting = not_noticed(cluster, &log_offsets, &everyone, side_a, side_b);
        Err(format!(
            "healed before waiting: {} of {n} nodes had logged the other half down",
            n - waiting.len()
        ))
    };
    let held = partitioned.elapsed();
    let net_healing = total_bytes(net);
    partition.heal();
    let healed_at = Instant::now();
    let healed_utc = utc_time_of_day(std::time::SystemTime::now());
    let times = watch_counts(
        clients,
        &count_sql,
        &[rows + 1, 2 * rows],
        SPREAD_DEADLINE,
        Duration::from_millis((n as u64 * 2).max(20)),
    )
    .await;
    let net_healed = total_bytes(net);
    let (first_cross, converged) = match times {
        Ok(per_node) => (Ok(slowest(&per_node, 0)), Ok(slowest(&per_node, 1))),
        Err(e) => (Err(e.clone()), Err(e)),
    };
    // row deliveries: inside, every row to the other nodes of its half;
    // at the heal, every row to every node of the other half
    let inside_deliveries = rows as f64 * (side_a.len() + side_b.len() - 2) as f64;
    let heal_deliveries = rows as f64 * n as f64;
    let bytes_inside = traffic_between(&net_start, &net_inside, &ips)
        .filter(|_| inside_deliveries > 0.0)
        .map(|(_, b)| b / inside_deliveries);
    let bytes_heal =
        traffic_between(&net_healing, &net_healed, &ips).map(|(_, b)| b / heal_deliveries);
    progress(&format!(
        "  round {round} ({}): halves {side_a:?} | {side_b:?} wrote {rows} rows each in {written_in:.2?}, \
         converged inside {sides_converged_in:.2?} later; {}; held {held:.2?}; healed at {healed_utc}; \
         after the heal every node had a row of the other half in {} and all rows in {}",
        if long { "long" } else { "short" },
        match &noticed {
            Ok(d) => format!("SWIM saw the other half down {d:.2?} later"),
            Err(e) => e.clone(),
        },
        first_cross.as_ref().map_or_else(|e| e.clone(), |d| dur(*d)),
        converged.as_ref().map_or_else(|e| e.clone(), |d| dur(*d)),
    ));
    Ok(HealRound {
        long,
        written_in,
        sides_converged_in,
        noticed,
        held,
        first_cross,
        converged,
        healed_at,
        membership: Err("not awaited".to_owned()),
        bytes_inside,
        bytes_heal,
    })
}

/// `at` as the UTC time of day (`HH:MM:SS.mmm`), to find the heal in the
/// nodes' logs.
fn utc_time_of_day(at: std::time::SystemTime) -> String {
    let since_epoch = at.duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
    let ms = since_epoch.as_millis() % 86_400_000;
    format!(
        "{:02}:{:02}:{:02}.{:03} UTC",
        ms / 3_600_000,
        ms / 60_000 % 60,
        ms / 1_000 % 60,
        ms % 1_000
    )
}
