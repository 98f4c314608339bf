//! Random local write transactions, as a client of the node would run them.

use patina_store::{Store, Value};
use rand::Rng;
use rand::rngs::SmallRng;

pub const SCHEMA: &str = "CREATE TABLE kv (k INTEGER PRIMARY KEY, v TEXT, n INTEGER DEFAULT 0)";

/// Keys every node writes (conflicts on purpose).
const SHARED_KEYS: i64 = 16;

/// A key only `node` inserts and nobody deletes: it must end up everywhere.
pub fn unique_key(node: usize, counter: u64) -> i64 {
    1_000_000 + node as i64 * 100_000 + counter as i64
}

fn text<R: Rng>(rng: &mut R) -> String {
    let len = if rng.random_bool(0.05) {
        rng.random_range(300..=1_500)
    } else {
        rng.random_range(0..=12)
    };
    (0..len)
        .map(|_| char::from(b'a' + rng.random_range(0..26u8)))
        .collect()
}

/// Runs `sql` with the parameters through the connection's statement
/// cache (preparing a statement on a table with capture triggers is costly).
macro_rules! exec {
    ($store:expr, $sql:expr, $($param:expr),+) => {{
        let sql = $sql;
        $store
            .conn()
            .prepare_cached(sql)
            .and_then(|mut stmt| stmt.execute([$($param),+]))
            .unwrap_or_else(|e| panic!("{sql}: {e}"));
    }};
}

/// Runs one transaction of 1–3 random statements (mostly one) on `node`'s store. Returns
/// the unique keys it inserted.
pub fn write(store: &Store, node: usize, counter: &mut u64, rng: &mut SmallRng) -> Vec<i64> {
    let mut inserted = Vec::new();
    store.conn().execute_batch("BEGIN").expect("begin");
    let statements = match rng.random_range(0..20) {
        0..=11 => 1,
        12..=16 => 2,
        _ => 3,
    };
    for _ in 0..statements {
        let shared = Value::Integer(rng.random_range(0..SHARED_KEYS));
        let roll = rng.random_range(0..100);
        if roll < 30 {
            let key = unique_key(node, *counter);
            *counter += 1;
            let sql = "INSERT INTO kv (k, v) VALUES (?1, ?2)";
            exec!(store, sql, &Value::Integer(key), &Value::Text(text(rng)));
            inserted.push(key);
        } else if roll < 55 {
            let sql = "INSERT INTO kv (k, v) VALUES (?1, ?2) \
                       ON CONFLICT (k) DO UPDATE SET v = excluded.v";
            exec!(store, sql, &shared, &Value::Text(text(rng)));
        } else if roll < 75 {
            exec!(store, "UPDATE kv SET n = n + 1 WHERE k = ?1", &shared);
        } else if roll < 87 {
            exec!(store, "DELETE FROM kv WHERE k = ?1", &shared);
        } else if *counter > 0 {
            let key = Value::Integer(unique_key(node, rng.random_range(0..*counter)));
            let sql = "UPDATE kv SET v = ?2, n = n + 1 WHERE k = ?1";
            exec!(store, sql, &key, &Value::Text(text(rng)));
        }
    }
    store.conn().execute_batch("COMMIT").expect("commit");
    inserted
}

/// Every row of kv, ordered by key.
pub fn dump(store: &Store) -> Vec<(Value, Value, Value)> {
    let mut stmt = store
        .conn()
        .prepare("SELECT k, v, n FROM kv ORDER BY k")
        .expect("prepare dump");
    stmt.query_map([], |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)))
        .expect("dump")
        .collect::<Result<Vec<_>, _>>()
        .expect("dump rows")
}
