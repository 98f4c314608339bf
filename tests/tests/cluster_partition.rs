//! Four nodes split 2|2 by an nftables partition (gossip UDP dropped
//! between the halves): both halves take writes, conflicting ones included
//! (the same keys updated on both sides, an update against a delete, the
//! same key inserted on both sides); once healed, every table is identical
//! and each conflict went the way the merge rules say.
//!
//! Needs the patina binary and nftables (`nft`, as root): without them the
//! test prints why and passes, unless `PATINA_REQUIRE_PARTITION=1` (then it
//! fails). `scripts/install-test-deps` installs nftables.

use std::time::{Duration, Instant};

use patina_tests::{Cluster, ClusterOptions, Partition, pairs};

const DEADLINE: Duration = Duration::from_secs(30);
/// After healing, the halves must find each other again (SWIM may have
/// declared the other half down) and exchange what they missed.
const HEAL_DEADLINE: Duration = Duration::from_secs(90);
/// SWIM (foca's LAN profile: a probe a second, suspicion of a few
/// periods) declares the other half down within seconds.
const SWIM_DEADLINE: Duration = Duration::from_secs(30);
const DUMP: &str = "SELECT k, v FROM kv ORDER BY k";
const SIDE_A: [usize; 2] = [0, 1];
const SIDE_B: [usize; 2] = [2, 3];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn halves_converge_after_the_partition_heals() {
    if let Err(why) = Partition::available() {
        skip(&why);
        return;
    }
    let cluster = Cluster::start(4, ClusterOptions::default()).await;
    cluster
        .create_table("CREATE TABLE kv (k INTEGER PRIMARY KEY, v TEXT)", "kv")
        .await;
    let seed: Vec<String> = (1..=20).map(|k| format!("({k}, 'seed {k}')")).collect();
    cluster
        .exec(0, &format!("INSERT INTO kv VALUES {}", seed.join(", ")))
        .await;
    cluster
        .wait_rows(
            DEADLINE,
            DUMP,
            &pairs((1..=20).map(|k| (k, format!("seed {k}")))),
        )
        .await;

    let log_offsets: Vec<usize> = (0..cluster.len()).map(|i| cluster.log(i).len()).collect();
    let partition = cluster
        .partition(&SIDE_A, &SIDE_B)
        .unwrap_or_else(|e| panic!("{e}"));
    let partitioned = Instant::now();

    // each half still replicates inside itself, and nothing crosses
    cluster
        .exec(0, "INSERT INTO kv VALUES (1000, 'probe from side A')")
        .await;
    cluster
        .exec(2, "INSERT INTO kv VALUES (2000, 'probe from side B')")
        .await;
    cluster
        .wait_count_on(DEADLINE, &SIDE_A, "kv WHERE k = 1000", 1)
        .await;
    cluster
        .wait_count_on(DEADLINE, &SIDE_B, "kv WHERE k = 2000", 1)
        .await;
    for (side, probe) in [(SIDE_A, 2000), (SIDE_B, 1000)] {
        for i in side {
            assert_eq!(
                cluster.count(i, &format!("kv WHERE k = {probe}")).await,
                Ok(0),
                "row {probe} crossed the partition to node {i}"
            );
        }
    }

    // conflicting writes on both sides
    // keys 1–10: updated once on each side (equal clocks: the greater value
    // wins, 'side B' > 'side A')
    cluster
        .exec(1, "UPDATE kv SET v = 'side A' WHERE k <= 10")
        .await;
    cluster
        .exec(3, "UPDATE kv SET v = 'side B' WHERE k <= 10")
        .await;
    // key 11: deleted on A, updated on B (the delete wins)
    cluster.exec(0, "DELETE FROM kv WHERE k = 11").await;
    cluster
        .exec(2, "UPDATE kv SET v = 'updated on B' WHERE k = 11")
        .await;
    // key 12: updated twice on A, once on B (the higher clock wins)
    cluster
        .exec(0, "UPDATE kv SET v = 'A first' WHERE k = 12")
        .await;
    cluster
        .exec(0, "UPDATE kv SET v = 'A second' WHERE k = 12")
        .await;
    cluster
        .exec(3, "UPDATE kv SET v = 'B only' WHERE k = 12")
        .await;
    // key 300: inserted on both sides (equal clocks: 'B 300' > 'A 300')
    cluster
        .exec(1, "INSERT INTO kv VALUES (300, 'A 300')")
        .await;
    cluster
        .exec(2, "INSERT INTO kv VALUES (300, 'B 300')")
        .await;
    // rows of their own on each side
    for k in 101..=110 {
        cluster
            .exec(
                k as usize % 2,
                &format!("INSERT INTO kv VALUES ({k}, 'A {k}')"),
            )
            .await;
        cluster
            .exec(
                2 + k as usize % 2,
                &format!("INSERT INTO kv VALUES ({}, 'B {}')", k + 100, k + 100),
            )
            .await;
    }
    // every write reached the other node of its half before the heal
    cluster.wait_identical_on(DEADLINE, &SIDE_A, DUMP).await;
    cluster.wait_identical_on(DEADLINE, &SIDE_B, DUMP).await;
    // and the partition lasts until failure detection saw it: every node
    // logged a member of the other half down (SWIM's "member down"), so the
    // heal must also bring the halves back together
    let noticed = cluster
        .wait_for(
            SWIM_DEADLINE,
            "every node to log \"member down\" for a node of the other half",
            || async {
                let mut waiting = Vec::new();
                for (side, other) in [(SIDE_A, SIDE_B), (SIDE_B, SIDE_A)] {
                    for i in side {
                        let log = cluster.log(i);
                        let since = log.get(log_offsets[i]..).unwrap_or("");
                        let saw = since.lines().any(|line| {
                            line.contains("member down")
                                && other.iter().any(|j| {
                                    line.contains(&format!("@{}", cluster.gossip_addr(*j)))
                                })
                        });
                        if !saw {
                            waiting.push(i);
                        }
                    }
                }
                if waiting.is_empty() {
                    Ok(())
                } else {
                    Err(format!(
                        "no \"member down\" for the other half yet on nodes {waiting:?}"
                    ))
                }
            },
        )
        .await;
    let split_for = partitioned.elapsed();
    report_line(&format!(
        "the partition was noticed (member down) after {noticed:.2?} of waiting"
    ));

    partition.heal();
    let mut expected: std::collections::BTreeMap<i64, String> =
        (13..=20).map(|k| (k, format!("seed {k}"))).collect();
    for k in 1..=10 {
        expected.insert(k, "side B".to_owned());
    }
    expected.insert(12, "A second".to_owned());
    expected.insert(300, "B 300".to_owned());
    expected.insert(1000, "probe from side A".to_owned());
    expected.insert(2000, "probe from side B".to_owned());
    for k in 101..=110 {
        expected.insert(k, format!("A {k}"));
        expected.insert(k + 100, format!("B {}", k + 100));
    }
    let dumps = cluster.wait_identical(HEAL_DEADLINE, DUMP).await;
    report(
        split_for,
        Instant::now().duration_since(partitioned) - split_for,
    );
    assert_eq!(
        dumps,
        pairs(expected),
        "the nodes agree, but not on what the merge rules give"
    );
}

#[allow(clippy::print_stderr)]
fn skip(why: &str) {
    if std::env::var_os("PATINA_REQUIRE_PARTITION").is_some_and(|v| v == "1") {
        panic!("PATINA_REQUIRE_PARTITION=1 but {why}");
    }
    eprintln!(
        "SKIPPED cluster_partition: {why}. Partitions need the nft tool (Debian package \
         nftables; scripts/install-test-deps installs it) and root (CAP_NET_ADMIN)."
    );
}

#[allow(clippy::print_stderr)]
fn report_line(what: &str) {
    eprintln!("{what}");
}

#[allow(clippy::print_stderr)]
fn report(split_for: Duration, healed_in: Duration) {
    eprintln!(
        "partition held {split_for:.2?}; the halves converged {healed_in:.2?} after the heal"
    );
}
