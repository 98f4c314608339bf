//! Stores for simulated nodes: in-memory SQLite databases with a site id
//! drawn from the seed (a store opened normally draws its site id from
//! SQLite's `randomblob`, and site ids order iteration and break merge ties,
//! so a run would not replay exactly), and the schema already in place
//! (copied from a template store: running the DDL per store costs more than
//! the rest of a small run).

use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};

use patina_store::{SiteId, Store};
use rusqlite::Connection;
use rusqlite::types::Value as SqlValue;

use super::workload;

/// Everything a fresh store with the simulation's schema holds.
struct Template {
    /// `CREATE` statements of tables and indexes, in creation order.
    ddl: Vec<String>,
    /// `CREATE TRIGGER` statements, replayed after the rows are copied (the
    /// capture triggers call functions only a store registers).
    triggers: Vec<String>,
    /// Rows of every table (the bookkeeping of the replicated table).
    rows: Vec<(String, Vec<Vec<SqlValue>>)>,
}

static NEXT: AtomicU64 = AtomicU64::new(0);

fn memory_uri() -> String {
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    format!(
        "file:patina-sim-{}-{n}?mode=memory&cache=shared",
        std::process::id()
    )
}

fn template() -> &'static Template {
    static TEMPLATE: OnceLock<Template> = OnceLock::new();
    TEMPLATE.get_or_init(|| {
        let mut store = Store::open(":memory:").expect("open the template store");
        store.apply_ddl(workload::SCHEMA).expect("schema");
        let conn = store.conn();
        let objects: Vec<(String, String, String)> = conn
            .prepare(
                "SELECT type, name, sql FROM sqlite_master WHERE sql IS NOT NULL ORDER BY rowid",
            )
            .and_then(|mut stmt| {
                stmt.query_map([], |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)))?
                    .collect()
            })
            .expect("read the template's schema");
        let mut rows = Vec::new();
        for (kind, name, _) in &objects {
            if kind != "table" || name.starts_with("sqlite_") {
                continue;
            }
            let table_rows: Vec<Vec<SqlValue>> = conn
                .prepare(&format!("SELECT * FROM \"{name}\""))
                .and_then(|mut stmt| {
                    let n = stmt.column_count();
                    stmt.query_map([], |row| (0..n).map(|i| row.get(i)).collect())?
                        .collect()
                })
                .expect("read a template table");
            rows.push((name.clone(), table_rows));
        }
        let (triggers, ddl): (Vec<_>, Vec<_>) = objects
            .into_iter()
            .filter(|(_, name, _)| !name.starts_with("sqlite_"))
            .partition(|(kind, _, _)| kind == "trigger");
        let sql =
            |objects: Vec<(String, String, String)>| objects.into_iter().map(|o| o.2).collect();
        Template {
            ddl: sql(ddl),
            triggers: sql(triggers),
            rows,
        }
    })
}

/// A node's store. The raw connection keeps the shared in-memory database
/// alive for as long as the store.
pub struct SimStore {
    pub store: Store,
    pub keeper: Connection,
}

impl SimStore {
    /// A store with the simulation's schema and site id `site`.
    pub fn new(site: SiteId) -> SimStore {
        let template = template();
        let uri = memory_uri();
        let keeper = Connection::open(&uri).expect("open an in-memory database");
        keeper.execute_batch("BEGIN").expect("begin");
        for sql in &template.ddl {
            keeper
                .execute_batch(sql)
                .expect("replay the template schema");
        }
        for (table, rows) in &template.rows {
            for row in rows {
                let marks = vec!["?"; row.len()].join(", ");
                keeper
                    .execute(
                        &format!("INSERT INTO \"{table}\" VALUES ({marks})"),
                        rusqlite::params_from_iter(row.iter()),
                    )
                    .expect("copy a template row");
            }
        }
        keeper
            .execute(
                "UPDATE __patina_sites SET site_id = ?1 WHERE ord = 0",
                [site.as_bytes().as_slice()],
            )
            .expect("set the site id");
        for sql in &template.triggers {
            keeper
                .execute_batch(sql)
                .expect("replay the template's triggers");
        }
        keeper.execute_batch("COMMIT").expect("commit");
        let store = Store::open(&uri).expect("open the store");
        assert_eq!(store.site_id(), site);
        SimStore { store, keeper }
    }
}
