//! SQL fuzzing: random statements (a grammar-ish generator over a few
//! tables, with random expressions, casts, functions and operators) and
//! random mutations of them (byte flips, truncations, token swaps), sent by
//! the simple protocol, the extended protocol (Parse / Describe / Bind with
//! random text parameters / Execute, text or binary results) and through
//! tokio-postgres. Every answer must be rows or an ErrorResponse with a
//! 5-character SQLSTATE, the connection must stay usable after every error
//! (`SELECT 1` answers), the node must not panic, and a witness connection
//! opened at the start must keep working.
//!
//! Env `PATINA_FUZZ_SEED` and `PATINA_FUZZ_CASES` change the seed and the
//! number of statements.

use std::collections::BTreeMap;
use std::time::Duration;

#[path = "fuzz_sql/generator.rs"]
mod generator;
#[path = "fuzz_sql/vocabulary.rs"]
mod vocabulary;

use generator::*;
use patina_tests::rng::Rng;
use patina_tests::wire::{Backend, RawConn, frontend, show};
use patina_tests::{Patina, describe_error, tokio_postgres};
use vocabulary::*;

const DEFAULT_CASES: usize = 2000;
/// The witness is checked every this many statements.
const WITNESS_EVERY: usize = 100;
/// How long one statement may take to be answered (a bound against hangs,
/// not a speed check: every statement here touches a few dozen rows).
const ANSWER: Duration = Duration::from_secs(20);

const SCHEMA: &str = "
CREATE TABLE t_a (id INT PRIMARY KEY, i INT, big BIGINT, s TEXT, f FLOAT8, b BOOL,
                  d DATE, ts TIMESTAMP, n NUMERIC(10,2), j JSONB, u UUID, by BYTEA);
CREATE TABLE t_b (k TEXT NOT NULL PRIMARY KEY, i SMALLINT, v VARCHAR(20), r REAL, tz TIMESTAMPTZ,
                  iv INTERVAL, tm TIME);
CREATE TABLE witness (id INT PRIMARY KEY, v TEXT);
INSERT INTO t_a VALUES
  (1, 1, 10, 'one', 1.5, true, '2024-01-01', '2024-01-01 10:00:00', 1.25, '{\"a\": 1}',
   '00000000-0000-0000-0000-000000000001', '\\x01'),
  (2, -2, -20, 'two', -0.5, false, '1999-12-31', '2000-02-29 23:59:59', -3.50, '[1, 2, 3]',
   '00000000-0000-0000-0000-000000000002', '\\x'),
  (3, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL),
  (4, 2147483647, 9223372036854775807, '', 'NaN', true, '0001-01-01', '1970-01-01 00:00:00',
   99999999.99, '{\"b\": [null, true]}', 'ffffffff-ffff-ffff-ffff-ffffffffffff', '\\xdeadbeef');
INSERT INTO t_b VALUES
  ('a', 1, 'x', 1.5, '2024-01-01 00:00:00+00', '1 day', '12:00'),
  ('b', -32768, 'yy', 'Infinity', '2000-01-01 12:34:56+02', '-1 mon 2 hours', '00:00:01'),
  ('c', NULL, NULL, NULL, NULL, NULL, NULL);
";

#[derive(Debug, Default)]
struct Tally {
    statements: usize,
    ok: usize,
    errors: BTreeMap<String, usize>,
    internal: BTreeMap<String, String>,
}

impl Tally {
    fn error(&mut self, code: &str, message: &str, sql: &str) {
        if std::env::var_os("PATINA_FUZZ_VERBOSE").is_some() {
            #[allow(clippy::print_stderr)]
            {
                eprintln!("{code} {message} <- {sql}");
            }
        }
        *self.errors.entry(code.to_owned()).or_default() += 1;
        if code == "XX000" && self.internal.len() < 40 {
            let key: String = message.chars().take(80).collect();
            self.internal.entry(key).or_insert_with(|| sql.to_owned());
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn random_sql_gets_rows_or_an_error_and_never_breaks_a_connection() {
    let seed = Rng::seed_from_env("PATINA_FUZZ_SEED", 0x5EED_0002);
    let cases = Rng::cases_from_env(DEFAULT_CASES);
    let node = Patina::start().await;
    let port = node.port();
    let witness = node.connect().await;
    witness.batch_execute(SCHEMA).await.expect("the schema");

    let mut rng = Rng::new(seed);
    let mut raw = RawConn::connect_ready(port, ANSWER)
        .await
        .expect("a raw connection");
    let mut client = node.connect().await;
    let mut failures = Vec::new();
    let mut tally = Tally::default();
    for n in 0..cases {
        let sql = statement(&mut rng, n);
        let path = match rng.below(10) {
            0..=3 => Path::Simple,
            4..=7 => Path::Extended,
            _ => Path::Driver,
        };
        let result = match path {
            Path::Simple => simple(&mut raw, &sql, &mut tally).await,
            Path::Extended => extended(&mut raw, &mut rng, &sql, &mut tally).await,
            Path::Driver => driver(&client, &sql, &mut tally).await,
        };
        tally.statements += 1;
        if let Err(problem) = result {
            failures.push(format!(
                "{path:?} {:?}\n  {problem}",
                String::from_utf8_lossy(&sql)
            ));
            // Start over on fresh connections.
            raw = match RawConn::connect_ready(port, ANSWER).await {
                Ok(raw) => raw,
                Err(e) => panic!(
                    "after {path:?} {sql:?} no new connection: {e}\nfailures:\n{}",
                    failures.join("\n")
                ),
            };
            client = node.connect().await;
        }
        if (n + 1) % WITNESS_EVERY == 0
            && let Err(problem) = check_witness(&witness, n as i32).await
        {
            panic!(
                "after statement {n} (seed {seed}) the witness broke: {problem}\nfailures:\n{}",
                failures.join("\n\n")
            );
        }
    }
    check_witness(&witness, -1)
        .await
        .expect("the witness at the end");

    let log = node.log();
    let panics: Vec<&str> = log.lines().filter(|l| l.contains("panicked at")).collect();
    assert!(
        failures.is_empty() && panics.is_empty(),
        "SQL fuzzing (seed {seed}, {cases} statements) found {} failures and {} panics\n\
         panics:\n{}\nfailures:\n{}",
        failures.len(),
        panics.len(),
        panics.join("\n"),
        failures.join("\n\n")
    );
    #[allow(clippy::print_stderr)]
    {
        eprintln!(
            "SQL fuzzing: seed {seed}, {} statements, {} answered with rows or a tag, errors by \
             SQLSTATE: {:?}",
            tally.statements, tally.ok, tally.errors
        );
        for (message, sql) in &tally.internal {
            eprintln!("  XX000 {message:?} from {sql:?}");
        }
    }
}

#[derive(Debug, Clone, Copy)]
enum Path {
    Simple,
    Extended,
    Driver,
}

async fn check_witness(witness: &tokio_postgres::Client, n: i32) -> Result<(), String> {
    let step = async {
        let one: i32 = witness
            .query_one("SELECT 1", &[])
            .await
            .map_err(|e| format!("SELECT 1: {}", describe_error(&e)))?
            .get(0);
        if one != 1 {
            return Err(format!("SELECT 1 gave {one}"));
        }
        let v = format!("after {n}");
        witness
            .execute(
                "INSERT INTO witness VALUES ($1, $2) ON CONFLICT (id) DO UPDATE SET v = excluded.v",
                &[&n, &v],
            )
            .await
            .map_err(|e| format!("INSERT: {}", describe_error(&e)))?;
        let back: String = witness
            .query_one("SELECT v FROM witness WHERE id = $1", &[&n])
            .await
            .map_err(|e| format!("SELECT back: {}", describe_error(&e)))?
            .get(0);
        if back == v {
            Ok(())
        } else {
            Err(format!("read back {back:?}, wrote {v:?}"))
        }
    };
    tokio::time::timeout(Duration::from_secs(30), step)
        .await
        .map_err(|_| {
            "no answer within 30 s (is a fuzz connection holding the writer?)".to_owned()
        })?
}

/// Checks one query's answer (up to ReadyForQuery): errors carry a
/// SQLSTATE (checked by `until_ready`), and if none came, one of the
/// message types in `done` (CommandComplete and the like) is there. Returns the ReadyForQuery status and whether it failed.
fn judge(
    answer: &[Backend],
    done: &[u8],
    sql: &str,
    tally: &mut Tally,
) -> Result<(u8, bool), String> {
    let Some(Backend::Message { tag: b'Z', body }) = answer.last() else {
        return Err(format!(
            "the connection closed (a panic?) after {}",
            show(answer)
        ));
    };
    let errors: Vec<&Backend> = answer.iter().filter(|m| m.tag() == Some(b'E')).collect();
    if errors.len() > 1 {
        return Err(format!("more than one ErrorResponse: {}", show(answer)));
    }
    if let Some(error) = errors.first() {
        let fields = error.fields();
        let get = |c: u8| {
            fields
                .iter()
                .find(|(code, _)| *code == c)
                .map_or(String::new(), |(_, v)| v.clone())
        };
        tally.error(&get(b'C'), &get(b'M'), sql);
        return Ok((body[0], true));
    }
    if !answer
        .iter()
        .any(|m| m.tag().is_some_and(|t| done.contains(&t)))
    {
        return Err(format!(
            "no {:?} and no error: {}",
            String::from_utf8_lossy(done),
            show(answer)
        ));
    }
    tally.ok += 1;
    if std::env::var_os("PATINA_FUZZ_VERBOSE").is_some() {
        #[allow(clippy::print_stderr)]
        {
            eprintln!("ok {sql}");
        }
    }
    Ok((body[0], false))
}

/// After an error (or an open transaction): back to idle, and `SELECT 1`
/// must answer.
async fn recover(raw: &mut RawConn, status: u8) -> Result<(), String> {
    if status != b'I' {
        raw.send(&frontend::query("ROLLBACK"))
            .await
            .map_err(|e| e.to_string())?;
        let answer = raw.until_ready(ANSWER).await?;
        if answer.last().and_then(Backend::tag) != Some(b'Z') {
            return Err(format!("ROLLBACK answered {}", show(&answer)));
        }
    }
    raw.select_one(ANSWER)
        .await
        .map_err(|e| format!("the connection is not usable after the statement: {e}"))
}

async fn simple(raw: &mut RawConn, sql: &[u8], tally: &mut Tally) -> Result<(), String> {
    let shown = String::from_utf8_lossy(sql).into_owned();
    let mut message = vec![b'Q'];
    message.extend_from_slice(&(sql.len() as i32 + 5).to_be_bytes());
    message.extend_from_slice(sql);
    message.push(0);
    raw.send(&message).await.map_err(|e| e.to_string())?;
    let answer = raw.until_ready(ANSWER).await?;
    let (status, failed) = judge(&answer, b"CIs", &shown, tally)?;
    if failed || status != b'I' {
        recover(raw, status).await?;
    }
    Ok(())
}

async fn extended(
    raw: &mut RawConn,
    rng: &mut Rng,
    sql: &[u8],
    tally: &mut Tally,
) -> Result<(), String> {
    let shown = String::from_utf8_lossy(sql).into_owned();
    let mut parse_body = vec![0u8];
    parse_body.extend_from_slice(sql);
    parse_body.extend_from_slice(&[0, 0, 0]);
    let mut batch = frontend::message(b'P', &parse_body);
    batch.extend(frontend::describe(b'S', ""));
    batch.extend(frontend::sync());
    raw.send(&batch).await.map_err(|e| e.to_string())?;
    let answer = raw.until_ready(ANSWER).await?;
    let (status, failed) = judge(&answer, b"1", &shown, tally)?;
    if failed {
        return recover(raw, status).await;
    }
    // Counted once, when it has run.
    tally.ok -= 1;
    let params = answer
        .iter()
        .find_map(|m| match m {
            Backend::Message { tag: b't', body } if body.len() >= 2 => {
                Some(i16::from_be_bytes([body[0], body[1]]).max(0) as usize)
            }
            _ => None,
        })
        .ok_or_else(|| format!("no ParameterDescription: {}", show(&answer)))?;
    let values: Vec<Option<Vec<u8>>> = (0..params).map(|_| text_param(rng)).collect();
    let results: Vec<i16> = match rng.below(3) {
        0 => vec![],
        1 => vec![1],
        _ => vec![0],
    };
    let max_rows = *rng.pick(&[0, 0, 0, 1, 2]);
    let mut batch = frontend::bind("", "", &[0], &values, &results);
    batch.extend(frontend::execute("", max_rows));
    if max_rows > 0 {
        batch.extend(frontend::execute("", 0));
    }
    batch.extend(frontend::sync());
    raw.send(&batch).await.map_err(|e| e.to_string())?;
    let answer = raw.until_ready(ANSWER).await?;
    let (status, failed) = judge(&answer, b"CIs", &shown, tally)?;
    if failed || status != b'I' {
        recover(raw, status).await?;
    }
    Ok(())
}

/// Through tokio-postgres: anything but a server error (a protocol error,
/// a closed connection) is a failure.
async fn driver(
    client: &tokio_postgres::Client,
    sql: &[u8],
    tally: &mut Tally,
) -> Result<(), String> {
    let Ok(text) = std::str::from_utf8(sql) else {
        return Ok(());
    };
    let run = async {
        let prepared = client.prepare(text).await?;
        if prepared.params().is_empty() {
            let rows = client.query(&prepared, &[]).await?;
            // Decode every value as text where the type allows it.
            for row in &rows {
                for i in 0..row.len() {
                    let _ = row.try_get::<_, Option<String>>(i);
                }
            }
        }
        Ok::<_, tokio_postgres::Error>(())
    };
    let outcome = tokio::time::timeout(ANSWER, run)
        .await
        .map_err(|_| format!("no answer within {ANSWER:?}"))?;
    let failed = match outcome {
        Ok(()) => false,
        Err(e) => match e.as_db_error() {
            Some(db) => {
                tally.error(db.code().code(), db.message(), text);
                true
            }
            None => return Err(format!("tokio-postgres: {}", describe_error(&e))),
        },
    };
    if !failed {
        tally.ok += 1;
        if std::env::var_os("PATINA_FUZZ_VERBOSE").is_some() {
            #[allow(clippy::print_stderr)]
            {
                eprintln!("ok (driver) {text}");
            }
        }
    }
    // Leave no transaction open, and the connection must still answer.
    let _ = client.batch_execute("ROLLBACK").await;
    let one = client
        .simple_query("SELECT 1")
        .await
        .map_err(|e| format!("SELECT 1 after the statement: {}", describe_error(&e)))?;
    if one.len() < 2 {
        return Err(format!("SELECT 1 answered {} messages", one.len()));
    }
    Ok(())
}

fn text_param(rng: &mut Rng) -> Option<Vec<u8>> {
    if rng.chance(10) {
        return None;
    }
    Some(
        rng.pick(&[
            "1",
            "0",
            "-1",
            "2147483648",
            "9223372036854775808",
            "1.5",
            "NaN",
            "abc",
            "",
            "t",
            "2024-02-30",
            "2024-01-01",
            "2024-01-01 12:00:00",
            "{\"a\":1}",
            "00000000-0000-0000-0000-00000000000g",
            "\\xzz",
            "1 day",
            "{1,2,3}",
            "'; DROP TABLE t_a; --",
        ])
        .as_bytes()
        .to_vec(),
    )
}
