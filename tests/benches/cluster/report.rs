//! The Markdown report: targets, then details.

use super::*;

pub(crate) fn propagation_target(n: usize) -> Option<Duration> {
    match n {
        0..=3 => Some(Duration::from_millis(10)),
        4..=10 => Some(Duration::from_millis(25)),
        11..=30 => Some(Duration::from_millis(100)),
        _ => None,
    }
}

pub(crate) const HEAL_TARGET: Duration = Duration::from_secs(3);
pub(crate) const CATCHUP_TARGET: f64 = 50_000.0;
pub(crate) const RSS_TARGET: f64 = 15e6;

pub(crate) fn verdict(met: bool) -> &'static str {
    if met { "met" } else { "**missed**" }
}

pub(crate) fn mb(b: f64) -> String {
    format!("{:.1} MB", b / 1e6)
}

pub(crate) fn cell<T>(r: &Option<Result<T, String>>, f: impl FnOnce(&T) -> String) -> String {
    match r {
        None => "not run".to_owned(),
        Some(Err(e)) if e.starts_with("skipped") => "skipped".to_owned(),
        Some(Err(_)) => "failed (see below)".to_owned(),
        Some(Ok(v)) => f(v),
    }
}

pub(crate) fn print_report(settings: &Settings, reports: &[SizeReport], took: Duration) {
    let sizes: Vec<String> = reports.iter().map(|r| format!("{} nodes", r.n)).collect();
    println!();
    println!("## Cluster bench ({})", sizes.join(", "));
    println!();
    println!("| measure | {} | target |", sizes.join(" | "));
    println!("|---|{}---|", "---|".repeat(reports.len()));
    let row = |label: &str, f: &dyn Fn(&SizeReport) -> String, target: &str| {
        let cells: Vec<String> = reports.iter().map(f).collect();
        println!("| {label} | {} | {target} |", cells.join(" | "));
    };
    row(
        "propagation p50, commit → visible on all nodes",
        &|r| cell(&r.propagation, |p| opt_dur(pct(&p.stats.all_nodes, 0.5))),
        "",
    );
    row(
        "propagation p99, commit → visible on all nodes",
        &|r| {
            cell(&r.propagation, |p| {
                let p99 = pct(&p.stats.all_nodes, 0.99);
                match (p99, propagation_target(r.n)) {
                    (Some(v), Some(t)) if p.stats.missing == 0 => {
                        format!("{} ({})", dur(v), verdict(v <= t))
                    }
                    (Some(v), Some(_)) => {
                        format!("{} + {} never seen (**missed**)", dur(v), p.stats.missing)
                    }
                    (v, None) => opt_dur(v),
                    (None, _) => "—".to_owned(),
                }
            })
        },
        "≤ 10 ms (3), ≤ 25 ms (10), ≤ 100 ms (30)",
    );
    row(
        "propagation: probe writes/s (open loop, on schedule)",
        &|r| cell(&r.propagation, |p| format!("{:.0}", p.rate)),
        &format!("{}", settings.rate),
    );
    row(
        "propagation max; first other node p50",
        &|r| {
            cell(&r.propagation, |p| {
                format!(
                    "{}; {}",
                    opt_dur(p.stats.all_nodes.last().copied()),
                    opt_dur(pct(&p.stats.first_remote, 0.5))
                )
            })
        },
        "",
    );
    row(
        &format!(
            "sustained writes, single-row autocommit, {} clients",
            settings.writers
        ),
        &|r| {
            cell(&r.throughput, |t| {
                format!("{} tx/s", count(t.transactions as f64 / t.secs))
            })
        },
        "",
    );
    row(
        "replication lag under that load, p50 / p99",
        &|r| {
            cell(&r.throughput, |t| {
                let missing = if t.stats.missing > 0 {
                    format!(" ({} never seen)", t.stats.missing)
                } else {
                    String::new()
                };
                format!(
                    "{} / {}{missing}",
                    opt_dur(pct(&t.stats.all_nodes, 0.5)),
                    opt_dur(pct(&t.stats.all_nodes, 0.99))
                )
            })
        },
        "",
    );
    row(
        "drain: load stops → every row on every node",
        &|r| {
            cell(&r.throughput, |t| {
                t.drain
                    .as_ref()
                    .map_or_else(|_| "not drained".to_owned(), |d| dur(*d))
            })
        },
        "",
    );
    let each = |h: &Heal, f: &dyn Fn(&HealRound) -> String| -> String {
        h.long().map(f).collect::<Vec<_>>().join(", ")
    };
    row(
        &format!(
            "partition heal, {} divergent rows per side, split noticed by SWIM: heal → converged, worst (each round)",
            count(settings.split_rows as f64)
        ),
        &|r| {
            cell(&r.partition, |h| {
                let worst = h
                    .long()
                    .map(|round| round.converged.as_ref().ok().copied())
                    .try_fold(Duration::ZERO, |worst, d| d.map(|d| worst.max(d)));
                match worst {
                    Some(w) if h.long().count() > 0 => format!(
                        "{} ({}) ({})",
                        dur(w),
                        verdict(w <= HEAL_TARGET),
                        each(h, &|round| opt_dur(round.converged.as_ref().ok().copied()))
                    ),
                    Some(_) => "no long round".to_owned(),
                    None => "not converged (**missed**)".to_owned(),
                }
            })
        },
        "≤ 3 s",
    );
    row(
        "  of which heal → a row across on every node (rediscovery), each round",
        &|r| {
            cell(&r.partition, |h| {
                each(h, &|round| {
                    opt_dur(round.first_cross.as_ref().ok().copied())
                })
            })
        },
        "",
    );
    row(
        "partition heal, short split (healed before SWIM noticed): heal → converged",
        &|r| {
            cell(&r.partition, |h| match h.short() {
                Some(round) => round.converged.as_ref().map_or_else(
                    |_| "not converged".to_owned(),
                    |d| format!("{} ({})", dur(*d), verdict(*d <= HEAL_TARGET)),
                ),
                None => "—".to_owned(),
            })
        },
        "≤ 3 s",
    );
    row(
        &format!(
            "catch-up of a new empty node, {} rows",
            count(settings.catchup_rows as f64)
        ),
        &|r| {
            cell(&r.catchup, |c| match c.rate() {
                Some(rate) => format!(
                    "{} rows/s: all in {} ({}); first row after {}, then {} rows/s",
                    count(rate),
                    opt_dur(c.done.as_ref().ok().copied()),
                    verdict(rate >= CATCHUP_TARGET),
                    opt_dur(c.first_row.as_ref().ok().copied()),
                    c.transfer_rate().map_or_else(|| "—".to_owned(), count),
                ),
                None => "not caught up (**missed**)".to_owned(),
            })
        },
        "≥ 50,000 rows/s",
    );
    row(
        "idle RSS per node, fresh: mean / max",
        &|r| {
            cell(&r.idle_fresh, |i| {
                format!(
                    "{} / {} ({})",
                    mb(mean(&i.rss)),
                    mb(max(&i.rss)),
                    verdict(max(&i.rss) <= RSS_TARGET)
                )
            })
        },
        "≤ 15 MB",
    );
    row(
        "idle RSS per node after the workloads: mean / max",
        &|r| {
            cell(&r.idle_after, |i| {
                format!(
                    "{} / {} ({})",
                    mb(mean(&i.rss)),
                    mb(max(&i.rss)),
                    verdict(max(&i.rss) <= RSS_TARGET)
                )
            })
        },
        "≤ 15 MB",
    );
    row(
        "idle memory per node after the workloads: RssAnon / Pss mean",
        &|r| {
            cell(&r.idle_after, |i| {
                format!("{} / {}", mb(mean(&i.rss_anon)), mb(mean(&i.pss)))
            })
        },
        "",
    );
    let net_cell = |i: &Idle| match &i.net {
        Ok(per_node) => {
            let b: Vec<f64> = per_node.iter().map(|(_, b)| *b).collect();
            format!("{}/s / {}/s", bytes(mean(&b)), bytes(max(&b)))
        }
        Err(_) => "—".to_owned(),
    };
    row(
        "idle gossip received per node, fresh: mean / max",
        &|r| cell(&r.idle_fresh, net_cell),
        "",
    );
    row(
        "idle gossip received per node, after: mean / max",
        &|r| cell(&r.idle_after, net_cell),
        "",
    );
    row(
        "idle CPU per node, fresh / after (mean, % of a core)",
        &|r| {
            format!(
                "{} / {}",
                cell(&r.idle_fresh, |i| format!("{:.1}%", mean(&i.cpu) * 100.0)),
                cell(&r.idle_after, |i| format!("{:.1}%", mean(&i.cpu) * 100.0))
            )
        },
        "",
    );
    let share = |c: Option<&CpuUse>| {
        c.and_then(others_share)
            .map_or_else(|| "—".to_owned(), |p| format!("{p:.0}%"))
    };
    row(
        "CPU used by other processes on the machine: idle (fresh) / propagation / throughput",
        &|r| {
            format!(
                "{} / {} / {}",
                share(
                    r.idle_fresh
                        .as_ref()
                        .and_then(|i| i.as_ref().ok())
                        .map(|i| &i.machine)
                ),
                share(
                    r.propagation
                        .as_ref()
                        .and_then(|p| p.as_ref().ok())
                        .map(|p| &p.cpu)
                ),
                share(
                    r.throughput
                        .as_ref()
                        .and_then(|t| t.as_ref().ok())
                        .map(|t| &t.cpu)
                ),
            )
        },
        "≈ 0% (else the run was disturbed)",
    );
    println!();
    println!(
        "Loopback, 2 cores shared by every node and the bench's clients; release build, \
         `--durability normal`, default replication settings. Propagation: {} single-row \
         INSERTs/s on rotating nodes for {} s; the observers poll while a probe is missing \
         (every {} ms per node at the sizes run), so a latency is at most one poll interval \
         late. Bench ran {:.0?}.",
        settings.rate,
        settings.prop_secs,
        reports
            .iter()
            .map(|r| format!("{:.1}", settings.poll(r.n).as_secs_f64() * 1e3))
            .collect::<Vec<_>>()
            .join(" / "),
        took
    );
    println!();
    print_details(reports);
}

/// The all-nodes latency per second of the run: p50 and max.
pub(crate) fn timeline(s: &ProbeStats) -> String {
    let mut buckets: Vec<Vec<Duration>> = Vec::new();
    for (at, latency) in &s.timeline {
        let b = at.as_secs() as usize;
        if buckets.len() <= b {
            buckets.resize(b + 1, Vec::new());
        }
        buckets[b].push(*latency);
    }
    buckets
        .iter_mut()
        .enumerate()
        .filter(|(_, b)| !b.is_empty())
        .map(|(i, b)| {
            b.sort();
            format!(
                "{i}–{} s: {} / {}",
                i + 1,
                opt_dur(pct(b, 0.5)),
                opt_dur(b.last().copied())
            )
        })
        .collect::<Vec<_>>()
        .join("; ")
}

pub(crate) fn poll_gap(s: &ProbeStats) -> String {
    format!(
        "{} observer queries, {} apart on a node on average",
        count(s.polls as f64),
        opt_dur(s.mean_poll_gap)
    )
}

pub(crate) fn print_details(reports: &[SizeReport]) {
    println!("### Details");
    for r in reports {
        println!();
        println!("**{} nodes**", r.n);
        if let Some(d) = r.started_in {
            println!("- cluster started (all nodes accepting) in {}", dur(d));
        }
        if let Some(d) = r.membership_in {
            println!(
                "- after the tables and one row per node, every node's log showed every other node up {} later",
                dur(d)
            );
        }
        for note in &r.notes {
            println!("- note: {note}");
        }
        for (label, idle) in [
            ("fresh", &r.idle_fresh),
            ("after the workloads", &r.idle_after),
        ] {
            match idle {
                Some(Ok(i)) => {
                    let net = match &i.net {
                        Ok(per_node) => {
                            let p: Vec<f64> = per_node.iter().map(|(p, _)| *p).collect();
                            let b: Vec<f64> = per_node.iter().map(|(_, b)| *b).collect();
                            format!(
                                "gossip received {:.1} packets/s, {}/s per node (mean; cluster total {}/s)",
                                mean(&p),
                                bytes(mean(&b)),
                                bytes(b.iter().sum())
                            )
                        }
                        Err(e) => format!("no network numbers: {}", first_line(e)),
                    };
                    println!(
                        "- idle ({label}, {} rows held, {:.0} s): VmRSS mean {} (min {}, max {}) = RssAnon {} + RssFile {} (mean; \
                         RssFile is mostly the binary's pages, shared by every node); Pss mean {}; CPU mean {:.1}% (max {:.1}%); {net}",
                        count(i.rows_held as f64),
                        i.secs,
                        mb(mean(&i.rss)),
                        mb(i.rss.iter().copied().fold(f64::INFINITY, f64::min)),
                        mb(max(&i.rss)),
                        mb(mean(&i.rss_anon)),
                        mb(mean(&i.rss_file)),
                        mb(mean(&i.pss)),
                        mean(&i.cpu) * 100.0,
                        max(&i.cpu) * 100.0,
                    );
                }
                Some(Err(e)) => println!("- idle ({label}): {e}"),
                None => {}
            }
        }
        match &r.propagation {
            Some(Ok(p)) => {
                let s = &p.stats;
                println!(
                    "- propagation: {} probes at {:.0}/s, poll every {:.1} ms per node ({}); \
                     all nodes p50 {} p90 {} p99 {} max {} (upper bounds: p50 {} p99 {}); per (probe, other node) p50 {} p99 {}; \
                     first other node p50 {} p99 {}; writer's INSERT p50 {} p99 {}; never seen everywhere {}{}; {}",
                    s.probes,
                    p.rate,
                    p.poll.as_secs_f64() * 1e3,
                    poll_gap(s),
                    opt_dur(pct(&s.all_nodes, 0.5)),
                    opt_dur(pct(&s.all_nodes, 0.9)),
                    opt_dur(pct(&s.all_nodes, 0.99)),
                    opt_dur(s.all_nodes.last().copied()),
                    opt_dur(pct(&s.all_nodes_upper, 0.5)),
                    opt_dur(pct(&s.all_nodes_upper, 0.99)),
                    opt_dur(pct(&s.per_node, 0.5)),
                    opt_dur(pct(&s.per_node, 0.99)),
                    opt_dur(pct(&s.first_remote, 0.5)),
                    opt_dur(pct(&s.first_remote, 0.99)),
                    opt_dur(pct(&s.write, 0.5)),
                    opt_dur(pct(&s.write, 0.99)),
                    s.missing,
                    traffic("probe", p.net_per_probe),
                    cpu_line(&p.cpu),
                );
                println!("  - {}", spread(s));
            }
            Some(Err(e)) => println!("- propagation: {e}"),
            None => {}
        }
        match &r.throughput {
            Some(Ok(t)) => {
                let s = &t.stats;
                println!(
                    "- throughput: {} clients, {} bulk rows + {} probes in {:.2} s = {} tx/s; client INSERT p50 {} p99 {}; \
                     lag (probe every 20 ms, {}) p50 {} p90 {} p99 {} max {}, never seen everywhere {}; \
                     drain {}{}; {}",
                    t.writers,
                    count(t.bulk_rows as f64),
                    s.probes,
                    t.secs,
                    count(t.transactions as f64 / t.secs),
                    opt_dur(pct(&t.bulk_latency, 0.5)),
                    opt_dur(pct(&t.bulk_latency, 0.99)),
                    poll_gap(s),
                    opt_dur(pct(&s.all_nodes, 0.5)),
                    opt_dur(pct(&s.all_nodes, 0.9)),
                    opt_dur(pct(&s.all_nodes, 0.99)),
                    opt_dur(s.all_nodes.last().copied()),
                    s.missing,
                    match &t.drain {
                        Ok(d) => dur(*d),
                        Err(e) => first_line(e),
                    },
                    traffic("transaction", t.net_per_tx),
                    cpu_line(&t.cpu),
                );
                println!("  - lag by second of the load (p50 / max): {}", timeline(s));
                println!("  - {}", spread(s));
            }
            Some(Err(e)) => println!("- throughput: {e}"),
            None => {}
        }
        match &r.partition {
            Some(Ok(h)) => {
                println!(
                    "- partition {}|{} nodes, {} rows written per side per round:",
                    h.sides.0,
                    h.sides.1,
                    count(h.rows_per_side as f64)
                );
                for (i, round) in h.rounds.iter().enumerate() {
                    println!(
                        "  - round {i} ({}): written in {}, each half converged inside {} later; {}; held {} in all; \
                         after the heal: a row across on every node {}, converged {}, membership whole again by {} (checked from convergence on); \
                         gossip bytes received per row delivered: {} inside the halves, {} after the heal",
                        if round.long { "long" } else { "short" },
                        dur(round.written_in),
                        dur(round.sides_converged_in),
                        match &round.noticed {
                            Ok(d) =>
                                format!("every node logged the other half down {} later", dur(*d)),
                            Err(e) => first_line(e),
                        },
                        dur(round.held),
                        round
                            .first_cross
                            .as_ref()
                            .map_or_else(|e| first_line(e), |d| dur(*d)),
                        round
                            .converged
                            .as_ref()
                            .map_or_else(|e| first_line(e), |d| dur(*d)),
                        round
                            .membership
                            .as_ref()
                            .map_or_else(|e| first_line(e), |d| dur(*d)),
                        round
                            .bytes_inside
                            .map_or_else(|| "—".to_owned(), |b| format!("{b:.0} B")),
                        round
                            .bytes_heal
                            .map_or_else(|| "—".to_owned(), |b| format!("{b:.0} B")),
                    );
                }
            }
            Some(Err(e)) => println!("- partition: {e}"),
            None => {}
        }
        match &r.catchup {
            Some(Ok(c)) => println!(
                "- catch-up: {} rows loaded on node 0 in {} ({} rows/s), on all {} nodes {} after the load began; \
                 new node accepting {} after its restart began, first row at {}, all rows at {} \
                 ({} rows/s overall, {} rows/s from first row to last); its VmRSS then {}; \
                 the new node used {} CPU-s meanwhile; {}; gossip bytes received per row delivered: {} while \
                 the load spread, {} by the new node",
                count(c.rows as f64),
                dur(c.loaded_in),
                count(c.rows as f64 / c.loaded_in.as_secs_f64()),
                r.n,
                c.spread_in
                    .as_ref()
                    .map_or_else(|e| first_line(e), |d| dur(*d)),
                dur(c.ready),
                c.first_row
                    .as_ref()
                    .map_or_else(|e| first_line(e), |d| dur(*d)),
                c.done.as_ref().map_or_else(|e| first_line(e), |d| dur(*d)),
                c.rate().map_or_else(|| "—".to_owned(), count),
                c.transfer_rate().map_or_else(|| "—".to_owned(), count),
                c.rss_after.map_or_else(|| "—".to_owned(), mb),
                c.new_node_cpu
                    .map_or_else(|| "—".to_owned(), |s| format!("{s:.2}")),
                c.cpu.as_ref().map_or_else(|| "—".to_owned(), cpu_line),
                c.spread_bytes
                    .map_or_else(|| "—".to_owned(), |b| format!("{b:.0} B")),
                c.catchup_bytes
                    .map_or_else(|| "—".to_owned(), |b| format!("{b:.0} B")),
            ),
            Some(Err(e)) => println!("- catch-up: {e}"),
            None => {}
        }
    }
}
