//! psql's size listings (`\dt+`, `\di+`, `\l+`) against patina print what
//! they print against PostgreSQL 15 for the same schema, but for the sizes
//! themselves: patina's are the bytes of SQLite's pages (`dbstat`), so a
//! size cell is compared by its form (`pg_size_pretty`'s `N bytes`,
//! `N kB`…). An integer primary key is the table's own b-tree in SQLite,
//! so its index is 0 bytes there. `\l+` also differs in the
//! documented ways of `\l` (the locale, the built-in comment of the
//! `postgres` database), so only its columns and size are compared.

use std::process::Command;

use patina_tests::{Oracle, pg_bin_dir};

const SCHEMA: &str = "
CREATE TABLE sized (id integer PRIMARY KEY, label text, qty integer);
CREATE INDEX sized_label ON sized (label);
CREATE TABLE empty_one (k text PRIMARY KEY, v text);
INSERT INTO sized SELECT g, 'label ' || g, g FROM generate_series(1, 500) AS g;
";

/// psql's unaligned output of `command` against the server on `port`.
fn psql(port: u16, command: &str) -> Vec<Vec<String>> {
    let output = Command::new(pg_bin_dir().join("psql"))
        .args(["-X", "-w", "-A", "-h", "127.0.0.1", "-p", &port.to_string()])
        .args(["-U", "postgres", "-d", "postgres", "-c", command])
        .env("PGCONNECT_TIMEOUT", "10")
        .env_remove("PGPASSWORD")
        .output()
        .expect("psql runs");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.is_empty(), "{command} on port {port}: {stderr}");
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .map(|line| line.split('|').map(str::to_owned).collect())
        .collect()
}

/// A size as `pg_size_pretty` prints it: its unit, and whether it is zero.
fn size_form(cell: &str) -> Option<(bool, String)> {
    let (number, unit) = cell.split_once(' ')?;
    let number: i64 = number.parse().ok()?;
    ["bytes", "kB", "MB", "GB", "TB", "PB"]
        .contains(&unit)
        .then(|| (number == 0, "size".to_owned()))
}

/// The rows with the `Size` column replaced by its form.
fn with_size_forms(rows: Vec<Vec<String>>) -> Vec<Vec<String>> {
    let Some(column) = rows
        .iter()
        .find_map(|row| row.iter().position(|cell| cell == "Size"))
    else {
        return rows;
    };
    rows.into_iter()
        .map(|mut row| {
            if let Some(cell) = row.get_mut(column).filter(|c| c.as_str() != "Size") {
                *cell = match size_form(cell) {
                    Some(_) => "<size>".to_owned(),
                    None => format!("<not a size: {cell}>"),
                };
            }
            row
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn size_listings_print_as_on_postgres() {
    let Oracle {
        postgres,
        patina,
        pg: pg_client,
        node: patina_client,
    } = Oracle::start(SCHEMA).await;
    let (pg_port, patina_port) = (postgres.port(), patina.port());
    let compared = tokio::task::spawn_blocking(move || {
        ["\\dt+", "\\di+ sized*"].map(|c| {
            (
                c,
                with_size_forms(psql(pg_port, c)),
                with_size_forms(psql(patina_port, c)),
            )
        })
    })
    .await
    .expect("psql runs");
    for (command, expected, actual) in compared {
        assert_eq!(actual, expected, "{command}");
    }
    let (on_pg, on_patina) = tokio::task::spawn_blocking(move || {
        (
            psql(pg_port, "\\l+ postgres"),
            psql(patina_port, "\\l+ postgres"),
        )
    })
    .await
    .expect("psql runs");
    assert_eq!(on_patina.get(1), on_pg.get(1), "\\l+ columns");
    let size = |rows: &[Vec<String>]| {
        let column = rows[1].iter().position(|c| c == "Size").expect("Size");
        size_form(&rows[2][column])
    };
    assert_eq!(size(&on_patina), Some((false, "size".to_owned())));
    assert_eq!(size(&on_pg), Some((false, "size".to_owned())));

    // the functions themselves: a table's parts add up, an unknown OID is NULL
    let sums = "SELECT pg_total_relation_size('sized') = pg_table_size('sized') + pg_indexes_size('sized'), \
                pg_relation_size('sized') > 0, pg_indexes_size('sized') > 0, \
                pg_indexes_size('sized') >= pg_relation_size('sized_label'), \
                pg_table_size(0) IS NULL, pg_size_pretty(10240::bigint), pg_size_pretty(20971008::bigint)";
    for client in [&pg_client, &patina_client] {
        let row = client.query_one(sums, &[]).await.expect("sizes");
        let flags: Vec<bool> = (0..5).map(|i| row.get(i)).collect();
        assert_eq!(flags, [true; 5]);
        assert_eq!(
            (row.get::<_, String>(5), row.get::<_, String>(6)),
            ("10 kB".to_owned(), "20 MB".to_owned())
        );
    }
}
