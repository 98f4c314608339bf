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

use patina_tests::rng::Rng;
use patina_tests::wire::{Backend, RawConn, frontend, show};
use patina_tests::{Patina, describe_error, tokio_postgres};

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

// ---- the generator ----

struct Table {
    name: &'static str,
    key: &'static str,
    columns: &'static [(&'static str, &'static str)],
}

const TABLES: &[Table] = &[
    Table {
        name: "t_a",
        key: "id",
        columns: &[
            ("id", "int"),
            ("i", "int"),
            ("big", "bigint"),
            ("s", "text"),
            ("f", "float8"),
            ("b", "bool"),
            ("d", "date"),
            ("ts", "timestamp"),
            ("n", "numeric"),
            ("j", "jsonb"),
            ("u", "uuid"),
            ("by", "bytea"),
        ],
    },
    Table {
        name: "t_b",
        key: "k",
        columns: &[
            ("k", "text"),
            ("i", "smallint"),
            ("v", "varchar"),
            ("r", "real"),
            ("tz", "timestamptz"),
            ("iv", "interval"),
            ("tm", "time"),
        ],
    },
];

const TYPES: &[&str] = &[
    "int",
    "integer",
    "int2",
    "smallint",
    "bigint",
    "int8",
    "text",
    "varchar(3)",
    "char(2)",
    "bool",
    "boolean",
    "float4",
    "real",
    "float8",
    "double precision",
    "numeric",
    "numeric(5,2)",
    "date",
    "time",
    "timestamp",
    "timestamptz",
    "interval",
    "uuid",
    "json",
    "jsonb",
    "bytea",
    "int[]",
    "text[]",
    "regclass",
    "oid",
    "name",
    "no_such_type",
];

const FUNCTIONS: &[(&str, usize)] = &[
    ("abs", 1),
    ("length", 1),
    ("lower", 1),
    ("upper", 1),
    ("substr", 2),
    ("substring", 3),
    ("coalesce", 2),
    ("nullif", 2),
    ("greatest", 3),
    ("least", 2),
    ("round", 1),
    ("round", 2),
    ("trunc", 1),
    ("ceil", 1),
    ("floor", 1),
    ("sqrt", 1),
    ("power", 2),
    ("mod", 2),
    ("now", 0),
    ("date_trunc", 2),
    ("date_part", 2),
    ("to_char", 2),
    ("concat", 3),
    ("concat_ws", 3),
    ("replace", 3),
    ("position", 2),
    ("split_part", 3),
    ("strpos", 2),
    ("left", 2),
    ("right", 2),
    ("lpad", 3),
    ("rtrim", 1),
    ("btrim", 2),
    ("md5", 1),
    ("repeat", 2),
    ("reverse", 1),
    ("initcap", 1),
    ("chr", 1),
    ("ascii", 1),
    ("gen_random_uuid", 0),
    ("jsonb_build_object", 2),
    ("jsonb_typeof", 1),
    ("json_build_array", 3),
    ("to_jsonb", 1),
    ("jsonb_array_length", 1),
    ("array_length", 2),
    ("array_to_string", 2),
    ("cardinality", 1),
    ("string_to_array", 2),
    ("to_timestamp", 1),
    ("make_date", 3),
    ("age", 2),
    ("encode", 2),
    ("decode", 2),
    ("octet_length", 1),
    ("pg_typeof", 1),
    ("current_setting", 1),
    ("version", 0),
    ("current_database", 0),
    ("random", 0),
    ("sign", 1),
    ("exp", 1),
    ("ln", 1),
    ("log", 1),
    ("regexp_replace", 3),
    ("format", 2),
    ("no_such_function", 1),
];

const AGGREGATES: &[&str] = &[
    "count",
    "sum",
    "avg",
    "min",
    "max",
    "bool_and",
    "bool_or",
    "string_agg",
    "array_agg",
    "jsonb_agg",
];

const OPERATORS: &[&str] = &[
    "+",
    "-",
    "*",
    "/",
    "%",
    "||",
    "=",
    "<>",
    "!=",
    "<",
    ">",
    "<=",
    ">=",
    "AND",
    "OR",
    "LIKE",
    "ILIKE",
    "NOT LIKE",
    "IS DISTINCT FROM",
    "IS NOT DISTINCT FROM",
    "->",
    "->>",
    "#>",
    "@>",
    "<@",
    "?",
    "~",
    "~*",
    "!~",
    "^",
    "&",
    "|",
    "#",
    "<<",
    ">>",
    "&&",
];

fn literal(rng: &mut Rng) -> String {
    rng.pick(&[
        "0",
        "1",
        "-1",
        "42",
        "2147483647",
        "-2147483648",
        "9223372036854775807",
        "-9223372036854775808",
        "99999999999999999999",
        "1.5",
        "-0.0",
        "1e308",
        "1e-320",
        "'NaN'",
        "'Infinity'",
        "''",
        "'abc'",
        "'it''s'",
        "'%a_'",
        "E'tab\\there'",
        "'ünïcödé ☃'",
        "NULL",
        "TRUE",
        "FALSE",
        "'2024-02-29'",
        "'2024-02-30'",
        "'12:34:56'",
        "'2024-01-01 00:00:00+05'",
        "'1 day 2 hours'",
        "'00000000-0000-0000-0000-000000000000'",
        "'{\"k\": [1, {\"x\": null}]}'",
        "'[1,2'",
        "'\\xff00'",
        "ARRAY[1, 2, 3]",
        "ARRAY['a', NULL]",
        "'{}'",
        "$1",
        "$2",
        "DEFAULT",
        "CURRENT_DATE",
        "CURRENT_TIMESTAMP",
        "LOCALTIMESTAMP",
    ])
    .to_string()
}

fn column(rng: &mut Rng, table: &Table) -> String {
    let (name, _) = rng.pick(table.columns);
    if rng.chance(15) {
        format!("{}.{name}", table.name)
    } else {
        (*name).to_owned()
    }
}

fn expr(rng: &mut Rng, table: Option<&Table>, depth: usize) -> String {
    let leaf = depth == 0 || rng.chance(30);
    if leaf {
        return match table {
            Some(t) if rng.chance(60) => column(rng, t),
            _ => literal(rng),
        };
    }
    let d = depth - 1;
    match rng.below(16) {
        0..=3 => format!(
            "{} {} {}",
            expr(rng, table, d),
            rng.pick(OPERATORS),
            expr(rng, table, d)
        ),
        4 => format!(
            "{}{}",
            rng.pick(&["-", "NOT ", "+", "~", "@"]),
            expr(rng, table, d)
        ),
        5 => format!("{}::{}", paren(expr(rng, table, d)), rng.pick(TYPES)),
        6 => format!("CAST({} AS {})", expr(rng, table, d), rng.pick(TYPES)),
        7 | 8 => {
            let (name, arity) = *rng.pick(FUNCTIONS);
            let arity = if rng.chance(10) { rng.below(4) } else { arity };
            let args: Vec<String> = (0..arity).map(|_| expr(rng, table, d)).collect();
            format!("{name}({})", args.join(", "))
        }
        9 => format!(
            "CASE WHEN {} THEN {} ELSE {} END",
            expr(rng, table, d),
            expr(rng, table, d),
            expr(rng, table, d)
        ),
        10 => format!(
            "{} {}IN ({}, {})",
            expr(rng, table, d),
            if rng.chance(30) { "NOT " } else { "" },
            expr(rng, table, d),
            expr(rng, table, d)
        ),
        11 => format!(
            "{} BETWEEN {} AND {}",
            expr(rng, table, d),
            expr(rng, table, d),
            expr(rng, table, d)
        ),
        12 => format!(
            "{} IS {}",
            expr(rng, table, d),
            rng.pick(&["NULL", "NOT NULL", "TRUE", "NOT FALSE", "UNKNOWN"])
        ),
        13 => {
            let t = rng.pick(TABLES);
            format!("(SELECT {} FROM {} LIMIT 1)", column(rng, t), t.name)
        }
        14 => {
            let t = rng.pick(TABLES);
            format!(
                "EXISTS (SELECT 1 FROM {} WHERE {})",
                t.name,
                expr(rng, Some(t), d)
            )
        }
        _ => format!(
            "EXTRACT({} FROM {})",
            rng.pick(&["year", "month", "epoch", "dow", "hour", "nope"]),
            expr(rng, table, d)
        ),
    }
}

/// The generator's three well-typed families: most statements use them, so
/// they get past type checking and run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Ty {
    Int,
    Text,
    Bool,
}

fn ty_of(sql_type: &str) -> Option<Ty> {
    match sql_type {
        "int" | "bigint" | "smallint" => Some(Ty::Int),
        "text" | "varchar" => Some(Ty::Text),
        "bool" => Some(Ty::Bool),
        _ => None,
    }
}

fn typed_column(rng: &mut Rng, table: Option<&Table>, ty: Ty) -> Option<String> {
    let table = table?;
    let matching: Vec<&str> = table
        .columns
        .iter()
        .filter(|(_, t)| ty_of(t) == Some(ty))
        .map(|(c, _)| *c)
        .collect();
    (!matching.is_empty()).then(|| rng.pick(&matching).to_string())
}

/// A well-typed expression of `ty` (parenthesised, so precedence never
/// changes its meaning).
fn typed(rng: &mut Rng, table: Option<&Table>, ty: Ty, depth: usize) -> String {
    if depth == 0 || rng.chance(25) {
        if rng.chance(60)
            && let Some(c) = typed_column(rng, table, ty)
        {
            return c;
        }
        return match ty {
            Ty::Int => rng
                .pick(&["0", "1", "-7", "42", "2147483647", "-2147483648", "NULL"])
                .to_string(),
            Ty::Text => rng
                .pick(&[
                    "''",
                    "'abc'",
                    "'A_b%'",
                    "'it''s'",
                    "'ünï ☃'",
                    "NULL",
                    "'42'",
                ])
                .to_string(),
            Ty::Bool => rng.pick(&["TRUE", "FALSE", "NULL"]).to_string(),
        };
    }
    let d = depth - 1;
    let t = |ty: Ty, rng: &mut Rng| typed(rng, table, ty, d);
    match ty {
        Ty::Int => match rng.below(10) {
            0 => format!(
                "({} {} {})",
                t(Ty::Int, rng),
                rng.pick(&["+", "-", "*"]),
                t(Ty::Int, rng)
            ),
            1 => format!("({} / NULLIF({}, 0))", t(Ty::Int, rng), t(Ty::Int, rng)),
            2 => format!("({} % 7)", t(Ty::Int, rng)),
            3 => format!("abs({})", t(Ty::Int, rng)),
            4 => format!("length({})", t(Ty::Text, rng)),
            5 => format!("coalesce({}, {})", t(Ty::Int, rng), t(Ty::Int, rng)),
            6 => format!(
                "CASE WHEN {} THEN {} ELSE {} END",
                t(Ty::Bool, rng),
                t(Ty::Int, rng),
                t(Ty::Int, rng)
            ),
            7 => format!("greatest({}, {})", t(Ty::Int, rng), t(Ty::Int, rng)),
            8 => format!("({})::int", t(Ty::Int, rng)),
            _ => format!("strpos({}, {})", t(Ty::Text, rng), t(Ty::Text, rng)),
        },
        Ty::Text => match rng.below(10) {
            0 => format!("({} || {})", t(Ty::Text, rng), t(Ty::Text, rng)),
            1 => format!("lower({})", t(Ty::Text, rng)),
            2 => format!("upper({})", t(Ty::Text, rng)),
            3 => format!("substr({}, {})", t(Ty::Text, rng), t(Ty::Int, rng)),
            4 => format!(
                "replace({}, {}, {})",
                t(Ty::Text, rng),
                t(Ty::Text, rng),
                t(Ty::Text, rng)
            ),
            5 => format!("({})::text", t(Ty::Int, rng)),
            6 => format!("concat({}, {})", t(Ty::Text, rng), t(Ty::Int, rng)),
            7 => format!("coalesce({}, {})", t(Ty::Text, rng), t(Ty::Text, rng)),
            8 => format!("left({}, {})", t(Ty::Text, rng), t(Ty::Int, rng)),
            _ => format!("trim({})", t(Ty::Text, rng)),
        },
        Ty::Bool => match rng.below(10) {
            0 | 1 => format!(
                "({} {} {})",
                t(Ty::Int, rng),
                rng.pick(&["=", "<>", "<", ">", "<=", ">="]),
                t(Ty::Int, rng)
            ),
            2 => format!(
                "({} {} {})",
                t(Ty::Text, rng),
                rng.pick(&["=", "<>", "<", ">=", "LIKE", "ILIKE", "NOT LIKE"]),
                t(Ty::Text, rng)
            ),
            3 => format!(
                "({} {} {})",
                t(Ty::Bool, rng),
                rng.pick(&["AND", "OR"]),
                t(Ty::Bool, rng)
            ),
            4 => format!("(NOT {})", t(Ty::Bool, rng)),
            5 => format!(
                "({} IS {}NULL)",
                t(*rng.pick(&[Ty::Int, Ty::Text, Ty::Bool]), rng),
                if rng.chance(50) { "NOT " } else { "" }
            ),
            6 => format!(
                "({} IN ({}, {}))",
                t(Ty::Int, rng),
                t(Ty::Int, rng),
                t(Ty::Int, rng)
            ),
            7 => format!(
                "({} BETWEEN {} AND {})",
                t(Ty::Int, rng),
                t(Ty::Int, rng),
                t(Ty::Int, rng)
            ),
            8 => {
                let other = rng.pick(TABLES);
                format!(
                    "EXISTS (SELECT 1 FROM {} x WHERE {})",
                    other.name,
                    typed(rng, Some(other), Ty::Bool, d)
                )
            }
            _ => format!("({} IS DISTINCT FROM {})", t(Ty::Int, rng), t(Ty::Int, rng)),
        },
    }
}

/// A boolean condition: well typed most of the time.
fn condition(rng: &mut Rng, table: Option<&Table>, depth: usize) -> String {
    if rng.chance(75) {
        typed(rng, table, Ty::Bool, depth)
    } else {
        expr(rng, table, depth)
    }
}

/// A value for a column of `sql_type`: well typed most of the time.
fn value_for(rng: &mut Rng, table: Option<&Table>, sql_type: &str, depth: usize) -> String {
    match ty_of(sql_type) {
        Some(ty) if rng.chance(75) => typed(rng, table, ty, depth),
        _ => expr(rng, table, depth),
    }
}

fn paren(s: String) -> String {
    format!("({s})")
}

fn select(rng: &mut Rng) -> String {
    if rng.chance(15) {
        let items: Vec<String> = (0..1 + rng.below(3)).map(|_| expr(rng, None, 3)).collect();
        return format!("SELECT {}", items.join(", "));
    }
    let t = rng.pick(TABLES);
    let aggregate = rng.chance(20);
    let items: Vec<String> = (0..1 + rng.below(3))
        .map(|i| {
            if aggregate && i == 0 {
                let agg = rng.pick(AGGREGATES);
                match *agg {
                    "string_agg" => format!("string_agg({}::text, ',')", column(rng, t)),
                    "count" if rng.chance(50) => "count(*)".to_owned(),
                    _ => format!("{agg}({})", expr(rng, Some(t), 1)),
                }
            } else if rng.chance(10) {
                "*".to_owned()
            } else {
                let e = if rng.chance(60) {
                    let ty = *rng.pick(&[Ty::Int, Ty::Text, Ty::Bool]);
                    typed(rng, Some(t), ty, 2)
                } else {
                    expr(rng, Some(t), 2)
                };
                if rng.chance(20) {
                    format!("{e} AS x{i}")
                } else {
                    e
                }
            }
        })
        .collect();
    let mut sql = format!(
        "SELECT {}{} FROM {}",
        if rng.chance(10) { "DISTINCT " } else { "" },
        items.join(", "),
        t.name
    );
    if rng.chance(15) {
        let other = rng.pick(TABLES);
        let join = rng.pick(&["JOIN", "LEFT JOIN", "CROSS JOIN", "INNER JOIN"]);
        sql += &format!(" {join} {} o", other.name);
        if *join != "CROSS JOIN" {
            sql += &format!(" ON {}", condition(rng, Some(other), 1));
        }
    }
    if rng.chance(60) {
        sql += &format!(" WHERE {}", condition(rng, Some(t), 3));
    }
    if aggregate && rng.chance(50) {
        sql += &format!(" GROUP BY {}", column(rng, t));
        if rng.chance(30) {
            sql += &format!(" HAVING {}", condition(rng, None, 1));
        }
    }
    if rng.chance(40) {
        sql += &format!(
            " ORDER BY {}{}",
            if rng.chance(50) {
                "1".to_owned()
            } else {
                column(rng, t)
            },
            rng.pick(&["", " DESC", " NULLS FIRST", " ASC NULLS LAST"])
        );
    }
    if rng.chance(30) {
        sql += &format!(
            " LIMIT {}",
            rng.pick(&["1", "0", "5", "-1", "ALL", "NULL", "$1"])
        );
    }
    if rng.chance(10) {
        sql += &format!(" OFFSET {}", rng.pick(&["1", "100", "-1"]));
    }
    if rng.chance(8) {
        sql = format!(
            "{sql} {} {}",
            rng.pick(&["UNION", "UNION ALL", "INTERSECT", "EXCEPT"]),
            select_simple(rng)
        );
    }
    if rng.chance(5) {
        sql = format!("WITH w AS ({}) SELECT * FROM w", select_simple(rng));
    }
    sql
}

fn select_simple(rng: &mut Rng) -> String {
    let t = rng.pick(TABLES);
    format!("SELECT {} FROM {}", column(rng, t), t.name)
}

fn insert(rng: &mut Rng) -> String {
    let t = rng.pick(TABLES);
    let n = 1 + rng.below(t.columns.len());
    let columns: Vec<&str> = t.columns[..n].iter().map(|(c, _)| *c).collect();
    let values: Vec<String> = t.columns[..n]
        .iter()
        .enumerate()
        .map(|(i, (_, sql_type))| {
            if i == 0 {
                key_value(rng, t)
            } else {
                value_for(rng, None, sql_type, 1)
            }
        })
        .collect();
    let mut sql = format!(
        "INSERT INTO {} ({}) VALUES ({})",
        t.name,
        columns.join(", "),
        values.join(", ")
    );
    match rng.below(4) {
        0 => sql += &format!(" ON CONFLICT ({}) DO NOTHING", t.key),
        1 => {
            sql += &format!(
                " ON CONFLICT ({}) DO UPDATE SET {} = {}",
                t.key,
                rng.pick(&columns[..]),
                expr(rng, Some(t), 1).replace(t.name, "excluded")
            )
        }
        _ => {}
    }
    if rng.chance(25) {
        sql += &format!(" RETURNING {}", if rng.chance(50) { "*" } else { t.key });
    }
    sql
}

fn key_value(rng: &mut Rng, t: &Table) -> String {
    if t.key == "id" {
        rng.range(1, 40).to_string()
    } else {
        format!("'{}'", rng.pick(&["a", "b", "c", "d", "e", "ff", "g"]))
    }
}

fn update(rng: &mut Rng) -> String {
    let t = rng.pick(TABLES);
    let sets: Vec<String> = (0..1 + rng.below(2))
        .map(|_| {
            format!(
                "{} = {}",
                rng.pick(&t.columns[1..]).0,
                expr(rng, Some(t), 2)
            )
        })
        .collect();
    let mut sql = format!("UPDATE {} SET {}", t.name, sets.join(", "));
    if rng.chance(85) {
        sql += &format!(" WHERE {}", condition(rng, Some(t), 2));
    }
    if rng.chance(20) {
        sql += &format!(" RETURNING {}", column(rng, t));
    }
    sql
}

fn delete(rng: &mut Rng) -> String {
    let t = rng.pick(TABLES);
    let mut sql = format!(
        "DELETE FROM {} WHERE {} = {}",
        t.name,
        t.key,
        key_value(rng, t)
    );
    if rng.chance(40) {
        sql += &format!(" OR {}", condition(rng, Some(t), 2));
    }
    if rng.chance(20) {
        sql += " RETURNING *";
    }
    sql
}

fn ddl(rng: &mut Rng, n: usize) -> String {
    let name = format!("fz_{}", n % 7);
    match rng.below(6) {
        0 | 1 => {
            let cols: Vec<String> = (0..rng.below(4))
                .map(|i| {
                    format!(
                        "c{i} {}{}",
                        rng.pick(TYPES),
                        rng.pick(&[
                            "",
                            "",
                            " NOT NULL",
                            " DEFAULT 0",
                            " NOT NULL DEFAULT ''",
                            " UNIQUE"
                        ])
                    )
                })
                .collect();
            let key = rng.pick(&[
                "id INT PRIMARY KEY",
                "id BIGINT PRIMARY KEY",
                "id TEXT",
                "id SERIAL PRIMARY KEY",
                "id UUID PRIMARY KEY DEFAULT gen_random_uuid()",
            ]);
            let mut all = vec![key.to_string()];
            all.extend(cols);
            format!(
                "CREATE TABLE {}{name} ({})",
                if rng.chance(30) { "IF NOT EXISTS " } else { "" },
                all.join(", ")
            )
        }
        2 => format!(
            "CREATE INDEX {}ix_{name} ON {name} (id)",
            if rng.chance(50) { "IF NOT EXISTS " } else { "" }
        ),
        3 => format!(
            "ALTER TABLE {name} ADD COLUMN {} {} {}",
            rng.pick(&["x", "y", "id"]),
            rng.pick(TYPES),
            rng.pick(&["", "DEFAULT 1", "NOT NULL"])
        ),
        4 => format!(
            "DROP TABLE {}{name}",
            if rng.chance(50) { "IF EXISTS " } else { "" }
        ),
        _ => format!("INSERT INTO {name} (id) VALUES ({})", rng.range(1, 9)),
    }
}

fn transactional(rng: &mut Rng) -> String {
    rng.pick(&[
        "BEGIN",
        "COMMIT",
        "ROLLBACK",
        "SAVEPOINT sp",
        "ROLLBACK TO SAVEPOINT sp",
        "RELEASE sp",
        "BEGIN; SELECT 1/0; COMMIT",
        "BEGIN; INSERT INTO t_b (k) VALUES ('tx'); ROLLBACK",
        "SET TimeZone = 'UTC'",
        "SET DateStyle = 'German'",
        "SHOW ALL",
        "SHOW no_such_setting",
        "RESET ALL",
        "DISCARD ALL",
        "DEALLOCATE nope",
        "SELECT 1; SELECT 2; SELECT 3/0; SELECT 4",
        ";;;",
        "  ",
        "-- only a comment",
        "/* unterminated",
        "SELECT 'unterminated",
        "SELECT $$dollar$$",
        "SELECT $1",
        "EXPLAIN SELECT 1",
        "VACUUM",
        "LISTEN ch",
        "NOTIFY ch, 'x'",
        "COPY t_a TO STDOUT",
        "PREPARE p AS SELECT 1",
        "EXECUTE p",
        "TRUNCATE t_b",
        "SELECT * FROM pg_catalog.pg_type LIMIT 3",
        "SELECT * FROM information_schema.tables LIMIT 3",
        "SELECT generate_series(1, 5)",
        "SELECT * FROM generate_series(1, 3) g",
    ])
    .to_string()
}

/// One statement: generated, then maybe mutated; the bytes may not be
/// UTF-8.
fn statement(rng: &mut Rng, n: usize) -> Vec<u8> {
    let sql = match rng.below(20) {
        0..=6 => select(rng),
        7..=9 => insert(rng),
        10..=11 => update(rng),
        12 => delete(rng),
        13 => ddl(rng, n),
        14 => transactional(rng),
        _ => select(rng),
    };
    let mut bytes = sql.into_bytes();
    if rng.chance(20) {
        bytes = mutate(rng, bytes);
    }
    // A NUL cannot be inside a query string (the protocol ends strings
    // with it); the protocol fuzz sends those.
    bytes.retain(|b| *b != 0);
    bytes
}

fn mutate(rng: &mut Rng, mut bytes: Vec<u8>) -> Vec<u8> {
    for _ in 0..1 + rng.below(3) {
        if bytes.is_empty() {
            break;
        }
        match rng.below(7) {
            0 => {
                let at = rng.below(bytes.len());
                bytes[at] ^= 1 << rng.below(8);
            }
            1 => {
                let at = rng.below(bytes.len());
                bytes[at] = *rng.pick(b"()'\",;:$*-+/\\%[]{}\xff0");
            }
            2 => {
                let keep = rng.below(bytes.len());
                bytes.truncate(keep);
            }
            3 | 4 => {
                // Token swap / drop / duplicate.
                let text = String::from_utf8_lossy(&bytes).into_owned();
                let mut tokens: Vec<&str> = text.split(' ').collect();
                let i = rng.below(tokens.len());
                let j = rng.below(tokens.len());
                match rng.below(3) {
                    0 => tokens.swap(i, j),
                    1 => {
                        tokens.remove(i);
                    }
                    _ => {
                        let t = tokens[i];
                        tokens.insert(j, t);
                    }
                }
                bytes = tokens.join(" ").into_bytes();
            }
            5 => {
                let at = rng.below(bytes.len() + 1);
                let word = rng.pick(&[
                    " SELECT ",
                    " FROM ",
                    " WHERE ",
                    " NULL ",
                    " ( ",
                    " ) ",
                    " , ",
                    " :: ",
                    " ORDER BY ",
                    " RETURNING * ",
                    " LIMIT ",
                    " AND ",
                    " 'x' ",
                    " $3 ",
                ]);
                bytes.splice(at..at, word.bytes());
            }
            _ => {
                let at = rng.below(bytes.len());
                let n = rng.below(bytes.len() - at + 1);
                let copy = bytes[at..at + n].to_vec();
                bytes.extend(copy);
            }
        }
    }
    bytes
}

#[test]
fn the_generator_is_deterministic() {
    let a: Vec<Vec<u8>> = {
        let mut rng = Rng::new(7);
        (0..50).map(|n| statement(&mut rng, n)).collect()
    };
    let b: Vec<Vec<u8>> = {
        let mut rng = Rng::new(7);
        (0..50).map(|n| statement(&mut rng, n)).collect()
    };
    assert_eq!(a, b);
}
