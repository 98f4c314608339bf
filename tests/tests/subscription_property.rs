//! The property of query subscriptions: whatever random writes (inserts,
//! updates, key changes, deletes, to both tables of a join, on any node, some in
//! multi-statement transactions) the cluster takes, replaying a
//! subscription's notifications onto the rows `patina_subscribe` returned
//! reproduces exactly the query's result at the end — on every node, for
//! incrementally maintained joins (with and without equality constants)
//! and for a re-run aggregate. The writes
//! come from a seeded generator: a failing run prints its seed, and
//! `PATINA_SUBS_SEED=<seed>` replays it (`PATINA_SUBS_WRITES` sets how
//! many writes; default 80). Needs the patina binary.

#[path = "subscriptions/follow.rs"]
mod follow;

use std::time::Duration;

use follow::{Followed, Session, session, subscribe};
use patina_tests::rng::Rng;
use patina_tests::{Cluster, ClusterOptions};

const DEADLINE: Duration = Duration::from_secs(60);
const NODES: usize = 2;

const QUERIES: [&str; 4] = [
    "SELECT p.id, p.kind, p.age, o.name FROM pets p JOIN owners o ON o.id = p.owner WHERE p.age % 3 <> 0",
    "SELECT o.name, count(*) AS n, sum(p.age) AS ages FROM pets p JOIN owners o ON o.id = p.owner GROUP BY o.name",
    // Equality constants: only rows matching them are candidates.
    "SELECT p.id, p.age, o.name FROM pets p JOIN owners o ON o.id = p.owner AND o.name = 'o1' WHERE p.kind IN ('k2', 'k4')",
    "SELECT id, owner FROM pets WHERE age = 3",
];

/// One random write statement.
fn write(rng: &mut Rng) -> String {
    let owner = rng.next_u64() % 5;
    let pet = rng.next_u64() % 12;
    let name = format!("o{}", rng.next_u64() % 3);
    let age = rng.next_u64() % 7;
    match rng.next_u64() % 8 {
        // A key change: the row moves.
        7 => format!(
            "UPDATE pets SET id = {} WHERE id = {pet} AND NOT EXISTS (SELECT 1 FROM pets WHERE id = {})",
            (pet + 1) % 12,
            (pet + 1) % 12
        ),
        0 => format!(
            "INSERT INTO owners VALUES ({owner}, '{name}') ON CONFLICT (id) DO UPDATE SET name = excluded.name"
        ),
        1 => format!("UPDATE owners SET name = '{name}' WHERE id = {owner}"),
        2 => format!("DELETE FROM owners WHERE id = {owner}"),
        3 | 4 => format!(
            "INSERT INTO pets VALUES ({pet}, {owner}, 'k{age}', {age}) \
             ON CONFLICT (id) DO UPDATE SET owner = excluded.owner, age = excluded.age"
        ),
        5 => format!("UPDATE pets SET age = {age}, owner = {owner} WHERE id = {pet}"),
        _ => format!("DELETE FROM pets WHERE id = {pet}"),
    }
}

#[allow(clippy::print_stderr)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replaying_notifications_reproduces_the_result_on_every_node() {
    let seed = Rng::seed_from_env("PATINA_SUBS_SEED", 0x5eed_0006);
    let writes: usize = std::env::var("PATINA_SUBS_WRITES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(80);
    eprintln!("subscription property: seed {seed} (replay with PATINA_SUBS_SEED={seed})");
    let mut rng = Rng::new(seed);
    let cluster = Cluster::start(NODES, ClusterOptions::default()).await;
    cluster
        .create_table(
            "CREATE TABLE owners (id int PRIMARY KEY, name text)",
            "owners",
        )
        .await;
    cluster
        .create_table(
            "CREATE TABLE pets (id int PRIMARY KEY, owner int, kind text, age int DEFAULT 0)",
            "pets",
        )
        .await;
    for _ in 0..10 {
        cluster.exec(0, &write(&mut rng)).await;
    }
    cluster
        .wait_identical(DEADLINE, "SELECT * FROM pets ORDER BY id")
        .await;

    // Every node follows every query.
    let mut followers: Vec<(usize, Session, Vec<Followed>)> = Vec::new();
    for node in 0..NODES {
        let mut s = session(cluster.pg_addr(node)).await;
        let mut followed = Vec::new();
        for query in QUERIES {
            followed.push(subscribe(&mut s, query).await.expect("subscribe"));
        }
        followers.push((node, s, followed));
    }

    for _ in 0..writes {
        let node = (rng.next_u64() % NODES as u64) as usize;
        let sql = if rng.next_u64().is_multiple_of(4) {
            format!("BEGIN; {}; {}; COMMIT", write(&mut rng), write(&mut rng))
        } else {
            write(&mut rng)
        };
        cluster.exec(node, &sql).await;
    }
    for table in ["owners", "pets"] {
        cluster
            .wait_identical(DEADLINE, &format!("SELECT * FROM {table} ORDER BY id"))
            .await;
    }

    for (node, s, followed) in &mut followers {
        for (query, follower) in QUERIES.iter().zip(followed.iter_mut()) {
            // The subscription's own state once it caught up: a second
            // subscriber to the same query shares it.
            let expected = follow::rows(&s.client, query).await;
            let caught_up = std::sync::Mutex::new(None);
            cluster
                .wait_for(DEADLINE, "the subscription to catch up", || async {
                    let mut probe = session(cluster.pg_addr(*node)).await;
                    let now = subscribe(&mut probe, query)
                        .await
                        .map_err(|e| e.to_string())?;
                    if now.sorted() != expected {
                        return Err(format!("at change {}: {:?}", now.change_id, now.sorted()));
                    }
                    *caught_up.lock().expect("lock") = Some(now);
                    Ok(())
                })
                .await;
            let now = caught_up.lock().expect("lock").take().expect("caught up");
            assert_eq!(
                now.id, follower.id,
                "seed {seed}: one subscription per query"
            );
            assert!(now.change_id > 0, "seed {seed}: the writes changed {query}");
            while follower.change_id < now.change_id {
                follower.next(s).await;
            }
            assert_eq!(
                follower.sorted(),
                expected,
                "seed {seed}: node {node}, replayed {query}"
            );
            assert_eq!(
                follower.rows, now.rows,
                "seed {seed}: node {node}, row ids of {query}"
            );
        }
    }
}
