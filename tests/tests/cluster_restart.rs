//! A node killed with SIGKILL misses the writes made while it is down;
//! restarted on the same data folder and addresses, it catches up, its own
//! writes from just before the crash reach everyone, and its writes after
//! the restart spread too (its versions go on from where they were). Needs
//! the patina binary (`cargo build -p patina-cli`, or `PATINA_BIN`).

use std::collections::BTreeMap;
use std::time::Duration;

use patina_tests::{Cluster, ClusterOptions, pairs};

const DEADLINE: Duration = Duration::from_secs(30);
const DUMP: &str = "SELECT k, v FROM kv ORDER BY k";
/// The node that crashes (not node 0, which the others bootstrap from).
const VICTIM: usize = 2;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn restarted_node_catches_up_and_spreads_its_last_writes() {
    let mut cluster = Cluster::start(3, ClusterOptions::default()).await;
    cluster
        .create_table("CREATE TABLE kv (k INTEGER PRIMARY KEY, v TEXT)", "kv")
        .await;
    let mut expected = BTreeMap::new();

    // writes everyone saw before the crash
    cluster
        .exec(
            VICTIM,
            "INSERT INTO kv VALUES (1, 'seen 1'), (2, 'seen 2'), (3, 'seen 3')",
        )
        .await;
    for k in 1..=3 {
        expected.insert(k, format!("seen {k}"));
    }
    cluster
        .wait_rows(DEADLINE, DUMP, &pairs(expected.clone()))
        .await;

    // its last writes, committed just before SIGKILL: perhaps not yet sent
    for k in 10..20 {
        cluster
            .exec(
                VICTIM,
                &format!("INSERT INTO kv VALUES ({k}, 'last words {k}')"),
            )
            .await;
        expected.insert(k, format!("last words {k}"));
    }
    cluster.kill(VICTIM);

    // writes it misses while down
    cluster
        .exec(
            0,
            "BEGIN; UPDATE kv SET v = 'changed while down' WHERE k = 1; \
             DELETE FROM kv WHERE k = 2; COMMIT",
        )
        .await;
    expected.insert(1, "changed while down".to_owned());
    expected.remove(&2);
    for k in 100..120 {
        let node = k % 2;
        cluster
            .exec(
                node,
                &format!("INSERT INTO kv VALUES ({k}, 'while down {k}')"),
            )
            .await;
        expected.insert(k, format!("while down {k}"));
    }
    let missed: BTreeMap<_, _> = expected
        .iter()
        .filter(|(k, _)| !(10..20).contains(*k))
        .map(|(k, v)| (*k, v.clone()))
        .collect();
    // the survivors agree on everything but (perhaps) the victim's last words
    cluster
        .wait_rows_on(
            DEADLINE,
            &[0, 1],
            "SELECT k, v FROM kv WHERE k NOT BETWEEN 10 AND 19 ORDER BY k",
            &pairs(missed),
        )
        .await;

    cluster.restart(VICTIM).await;
    let took = cluster
        .wait_rows(DEADLINE, DUMP, &pairs(expected.clone()))
        .await;
    report("caught up after the restart in", took);

    // writes after the restart: from the victim, and to it
    cluster
        .exec(VICTIM, "INSERT INTO kv VALUES (200, 'after restart')")
        .await;
    cluster
        .exec(
            VICTIM,
            "UPDATE kv SET v = 'updated after restart' WHERE k = 3",
        )
        .await;
    cluster
        .exec(1, "INSERT INTO kv VALUES (201, 'to the restarted node')")
        .await;
    expected.insert(200, "after restart".to_owned());
    expected.insert(3, "updated after restart".to_owned());
    expected.insert(201, "to the restarted node".to_owned());
    cluster.wait_rows(DEADLINE, DUMP, &pairs(expected)).await;
}

#[allow(clippy::print_stderr)]
fn report(what: &str, took: Duration) {
    eprintln!("{what} {took:.2?}");
}
