//! Helpers of the cases: fresh tables, results as text, error codes.

use super::*;

/// A table name no other test uses (also across runs on one server).
pub(crate) fn new_name(prefix: &str) -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    format!(
        "{prefix}_{:x}{:x}{n}",
        std::process::id(),
        nanos & 0xffff_ffff_ffff
    )
}

/// The table most cases use. patina's rules: a primary key on every table,
/// NOT NULL columns outside the key need a DEFAULT, no UNIQUE outside the
/// key, no FOREIGN KEY.
pub(crate) async fn make_table(c: &Client) -> String {
    let t = new_name("t");
    c.batch_execute(&format!(
        "CREATE TABLE {t} (
            id integer PRIMARY KEY,
            name text,
            qty integer NOT NULL DEFAULT 0 CHECK (qty >= 0),
            price numeric(10,2),
            tags text[],
            big bigint,
            created timestamptz,
            flag boolean
        )"
    ))
    .await
    .unwrap_or_else(|e| panic!("CREATE TABLE {t}: {}", describe_error(&e)));
    t
}

/// Unwraps a result, panicking with the server's SQLSTATE and message.
#[track_caller]
pub(crate) fn ok<T>(r: Result<T, Error>) -> T {
    match r {
        Ok(v) => v,
        Err(e) => panic!("unexpected error: {}", describe_error(&e)),
    }
}

/// The SQLSTATE of an expected error.
#[track_caller]
pub(crate) fn code<T: std::fmt::Debug>(r: Result<T, Error>) -> String {
    match r {
        Ok(v) => panic!("expected an error, got {v:?}"),
        Err(e) => match e.as_db_error() {
            Some(db) => db.code().code().to_owned(),
            None => panic!("expected a server error, got: {}", describe_error(&e)),
        },
    }
}

pub(crate) async fn count(c: &Client, t: &str) -> i64 {
    ok(c.query_one(&format!("SELECT count(*) FROM {t}"), &[]).await).get(0)
}

pub(crate) async fn ids(c: &Client, t: &str) -> Vec<i32> {
    ok(c.query(&format!("SELECT id FROM {t} ORDER BY id"), &[])
        .await)
    .iter()
    .map(|r| r.get(0))
    .collect()
}

/// The rows of a simple query, each column as text (None for NULL).
pub(crate) fn text_rows(msgs: &[SimpleQueryMessage]) -> Vec<Vec<Option<String>>> {
    msgs.iter()
        .filter_map(|m| match m {
            SimpleQueryMessage::Row(r) => {
                Some((0..r.len()).map(|i| r.get(i).map(str::to_owned)).collect())
            }
            _ => None,
        })
        .collect()
}

/// The command-complete row counts of a simple query.
pub(crate) fn completions(msgs: &[SimpleQueryMessage]) -> Vec<u64> {
    msgs.iter()
        .filter_map(|m| match m {
            SimpleQueryMessage::CommandComplete(n) => Some(*n),
            _ => None,
        })
        .collect()
}

pub(crate) fn s(v: &str) -> Option<String> {
    Some(v.to_owned())
}

/// A column's raw binary bytes, whatever its type.
#[derive(Debug, PartialEq)]
pub(crate) struct Raw(pub(crate) Vec<u8>);

impl<'a> FromSql<'a> for Raw {
    fn from_sql(_: &Type, raw: &'a [u8]) -> Result<Self, Box<dyn StdError + Sync + Send>> {
        Ok(Raw(raw.to_vec()))
    }
    fn accepts(_: &Type) -> bool {
        true
    }
}
