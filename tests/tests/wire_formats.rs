//! Values on the wire, byte for byte against PostgreSQL 15: the same
//! table, with a column of every type patina stores, is filled with the
//! same literals on a real PostgreSQL (the reference) and on patina, then
//! for each column:
//!
//! - the binary results (tokio-postgres's extended protocol always asks
//!   for binary) must be the same bytes, with the same type OID;
//! - the text results (`simple_query`) must be the same strings;
//! - each reference value, bound back as a binary parameter, must be
//!   stored so that it reads back as the same bytes (checked on both
//!   servers, so a wrong expectation shows on the reference too);
//! - malformed binary parameters must fail with the same SQLSTATE.
//!
//! All mismatches are collected and reported together.
//!
//! The other tests bind parameters from Rust values, and with the types
//! the client chose itself (`prepare_typed`, as sqlx does).

use std::error::Error as StdError;
use std::fmt::Write as _;
use std::future::Future;
use std::time::Duration;

use bytes::BytesMut;
use patina_tests::tokio_postgres::types::{FromSql, IsNull, ToSql, Type, to_sql_checked};
use patina_tests::tokio_postgres::{Client, Error, SimpleQueryMessage};
use patina_tests::{Patina, Postgres, describe_error};

/// Each column: its name, its type, and the literals stored in rows 1, 2,
/// …; the rows after those stay NULL.
const COLUMNS: &[(&str, &str, &[&str])] = &[
    ("b", "boolean", &["true", "false"]),
    ("i2", "smallint", &["-32768", "32767", "0"]),
    ("i4", "integer", &["-2147483648", "2147483647", "42"]),
    (
        "i8",
        "bigint",
        &["-9223372036854775808", "9223372036854775807", "-1"],
    ),
    ("f4", "real", &["0.1", "-3.4e38", "Infinity"]),
    (
        "f8",
        "double precision",
        &["1e300", "-0.000001", "-Infinity"],
    ),
    ("f4n", "real", &["NaN", "-Infinity"]),
    ("f8n", "double precision", &["NaN"]),
    (
        "n",
        "numeric",
        &[
            "12345.678900",
            "-0.000001",
            "123456789012345678901234567890.12345678",
        ],
    ),
    ("n2", "numeric(10,2)", &["2.345", "-7", "0"]),
    ("t", "text", &["héllo wörld", "", "a\"b\\c, {x}"]),
    ("vc", "varchar(10)", &["short", "NULL", " x "]),
    ("bp", "char(5)", &["ab", "", "abcde"]),
    ("ba", "bytea", &["\\x00ff10", "\\x", "plain"]),
    ("j", "json", &[r#"{"b":1, "a":[1,2.50]}"#, "[]", r#""s""#]),
    (
        "jb",
        "jsonb",
        &[r#"{"bb":1, "a":[1,2.50], "a":0}"#, "null", "1e2"],
    ),
    (
        "u",
        "uuid",
        &[
            "A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11",
            "00000000-0000-0000-0000-000000000000",
        ],
    ),
    ("d", "date", &["2024-02-29", "0001-01-01", "9999-12-31"]),
    ("di", "date", &["infinity", "-infinity"]),
    ("tm", "time", &["10:11:12.345678", "00:00:00", "24:00:00"]),
    (
        "ts",
        "timestamp",
        &[
            "2024-02-29 10:11:12.345678",
            "0001-01-01 00:00:00",
            "1999-12-31 23:59:59.5",
        ],
    ),
    (
        "tz",
        "timestamptz",
        &[
            "2024-02-29 10:11:12.345678+02",
            "2000-01-01 00:00:00Z",
            "1969-07-20 20:17:40-05",
        ],
    ),
    ("tsi", "timestamp", &["-infinity", "infinity"]),
    ("tzi", "timestamptz", &["infinity", "-infinity"]),
    ("nm", "name", &["pg_catalog", "", "héllo wörld"]),
    ("o", "oid", &["0", "4294967295", "-1"]),
    ("ch", "\"char\"", &["a", "", "Z"]),
    (
        "iv",
        "interval",
        &[
            "1 year 2 mons 3 days 04:05:06.789",
            "-1 days +02:00:00",
            "100 hours",
        ],
    ),
    ("ab", "boolean[]", &["{t,f,NULL}", "{}"]),
    ("ai2", "smallint[]", &["{1,-32768,NULL}"]),
    ("ai4", "integer[]", &["{1,NULL,3}", "{}", "{2147483647}"]),
    ("ai8", "bigint[]", &["{-9223372036854775808,0}"]),
    ("af4", "real[]", &["{0.1,3.4e38,-1.5}"]),
    ("af8", "double precision[]", &["{1.5,-0.25,1e300,NULL}"]),
    ("af4i", "real[]", &["{NaN,-Infinity}"]),
    (
        "af8i",
        "double precision[]",
        &["{Infinity,-Infinity,NaN,NULL}"],
    ),
    ("an", "numeric[]", &["{1.50,-2,NULL,0.0001}"]),
    (
        "at",
        "text[]",
        &[r#"{"a b",NULL,"",x,"\"q\\","NULL",é}"#, "{}"],
    ),
    ("avc", "varchar[]", &["{a,b}"]),
    ("abp", "char(2)[]", &["{a,bc}"]),
    ("aba", "bytea[]", &[r#"{"\\x0102",NULL}"#]),
    ("aj", "json[]", &[r#"{"{\"a\":1}","[1, 2]"}"#]),
    ("ajb", "jsonb[]", &[r#"{"{\"b\":1,\"a\":2}",null}"#]),
    ("au", "uuid[]", &["{A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11}"]),
    ("ad", "date[]", &["{2024-01-01,NULL}"]),
    ("adi", "date[]", &["{infinity,-infinity,2024-01-01}"]),
    ("anm", "name[]", &[r#"{a,"b c",NULL}"#]),
    ("ao", "oid[]", &["{1,4294967295,NULL}"]),
    ("ach", "\"char\"[]", &["{a,b,NULL}"]),
    ("atm", "time[]", &["{10:00:00.5,23:59:59}"]),
    ("ats", "timestamp[]", &[r#"{"2024-01-01 10:00:00"}"#]),
    ("atz", "timestamptz[]", &[r#"{"2024-01-01 10:00:00+02"}"#]),
    (
        "aiv",
        "interval[]",
        &[r#"{"1 day","-01:00:00","1 mon -1 days"}"#],
    ),
];

/// Rows in the table: one more than the most literals of any column, so
/// every column has a NULL.
const ROWS: i32 = 4;

/// How long one statement may take on one server.
const STATEMENT_TIMEOUT: Duration = Duration::from_secs(20);

/// Any value, as the raw bytes the server sent.
#[derive(Debug, PartialEq, Eq)]
struct Raw(Vec<u8>);

impl<'a> FromSql<'a> for Raw {
    fn from_sql(_: &Type, raw: &'a [u8]) -> Result<Raw, Box<dyn StdError + Sync + Send>> {
        Ok(Raw(raw.to_vec()))
    }

    fn accepts(_: &Type) -> bool {
        true
    }
}

/// A parameter of any type, sent as the given binary bytes (NULL if none).
#[derive(Debug)]
struct RawParam(Option<Vec<u8>>);

impl ToSql for RawParam {
    fn to_sql(
        &self,
        _: &Type,
        out: &mut BytesMut,
    ) -> Result<IsNull, Box<dyn StdError + Sync + Send>> {
        match &self.0 {
            Some(bytes) => {
                out.extend_from_slice(bytes);
                Ok(IsNull::No)
            }
            None => Ok(IsNull::Yes),
        }
    }

    fn accepts(_: &Type) -> bool {
        true
    }

    to_sql_checked!();
}

/// One column's binary answer: the type OID and each row's bytes.
type Binary = (u32, Vec<Option<Vec<u8>>>);

async fn timed<T>(work: impl Future<Output = Result<T, Error>>) -> Result<T, String> {
    match tokio::time::timeout(STATEMENT_TIMEOUT, work).await {
        Ok(Ok(value)) => Ok(value),
        Ok(Err(error)) => Err(describe_error(&error)),
        Err(_) => Err(format!("no answer within {STATEMENT_TIMEOUT:?}")),
    }
}

fn hex(bytes: &Option<Vec<u8>>) -> String {
    match bytes {
        None => "NULL".to_owned(),
        Some(bytes) => bytes.iter().map(|b| format!("{b:02x}")).collect(),
    }
}

fn show_binary(answer: &Result<Binary, String>) -> String {
    match answer {
        Ok((oid, rows)) => format!(
            "oid {oid}: [{}]",
            rows.iter().map(hex).collect::<Vec<_>>().join(", ")
        ),
        Err(error) => format!("error {error}"),
    }
}

fn create_table(name: &str) -> String {
    let columns: Vec<String> = COLUMNS
        .iter()
        .map(|(column, ty, _)| format!("{column} {ty}"))
        .collect();
    format!(
        "CREATE TABLE {name} (id integer PRIMARY KEY, {})",
        columns.join(", ")
    )
}

fn quoted(literal: &str) -> String {
    format!("'{}'", literal.replace('\'', "''"))
}

/// Creates both tables and stores the literals; reports what fails.
async fn fill(client: &Client, server: &str, report: &mut String) {
    for sql in [
        create_table("wire_types"),
        create_table("wire_params"),
        format!(
            "INSERT INTO wire_types (id) VALUES {}",
            (1..=ROWS)
                .map(|id| format!("({id})"))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    ] {
        if let Err(error) = timed(client.batch_execute(&sql)).await {
            let _ = writeln!(report, "{server}: {sql}\n  failed: {error}");
        }
    }
    for (column, ty, literals) in COLUMNS {
        for (row, literal) in (1..).zip(literals.iter()) {
            let sql = format!(
                "UPDATE wire_types SET {column} = {}::{ty} WHERE id = {row}",
                quoted(literal)
            );
            if let Err(error) = timed(client.batch_execute(&sql)).await {
                let _ = writeln!(report, "{server}: {sql}\n  failed: {error}");
            }
        }
    }
}

async fn binary(
    client: &Client,
    sql: &str,
    params: &[&(dyn ToSql + Sync)],
) -> Result<Binary, String> {
    let statement = timed(client.prepare(sql)).await?;
    let oid = statement
        .columns()
        .first()
        .map_or(0, |column| column.type_().oid());
    let rows = timed(client.query(&statement, params)).await?;
    let values = rows
        .iter()
        .map(|row| {
            row.try_get::<_, Option<Raw>>(0)
                .map(|v| v.map(|Raw(bytes)| bytes))
        })
        .collect::<Result<_, _>>()
        .map_err(|error| describe_error(&error))?;
    Ok((oid, values))
}

async fn text(client: &Client, sql: &str) -> Result<Vec<Option<String>>, String> {
    let messages = timed(client.simple_query(sql)).await?;
    Ok(messages
        .iter()
        .filter_map(|message| match message {
            SimpleQueryMessage::Row(row) => Some(row.get(0).map(str::to_owned)),
            _ => None,
        })
        .collect())
}

/// Binds each of `values` (binary, from the reference) into `wire_params`
/// and reads it back; reports every value that comes back different.
async fn round_trip_parameters(
    client: &Client,
    server: &str,
    index: i32,
    column: &str,
    values: &[Option<Vec<u8>>],
    report: &mut String,
) {
    let insert = format!("INSERT INTO wire_params (id, {column}) VALUES ($1, $2)");
    let select = format!("SELECT {column} FROM wire_params WHERE id = $1");
    for (row, value) in (1..).zip(values) {
        let id = index * ROWS + row;
        let param = RawParam(value.clone());
        let stored = match timed(client.execute(&insert, &[&id, &param])).await {
            Ok(_) => binary(client, &select, &[&id]).await,
            Err(error) => Err(error),
        };
        let back = stored.as_ref().ok().and_then(|(_, rows)| rows.first());
        if back != Some(value) {
            let _ = writeln!(
                report,
                "{server}: column {column}: binary parameter {} reads back as {}",
                hex(value),
                show_binary(&stored)
            );
        }
    }
}

/// Binary parameters no valid value has, by column: both servers must
/// refuse them with the same SQLSTATE.
const MALFORMED: &[(&str, &[u8])] = &[
    ("i4", &[1, 2]),
    ("i4", &[0, 0, 0, 1, 2]),
    ("b", &[]),
    ("u", &[0; 15]),
    ("t", &[b'a', 0xff]),
    ("t", &[b'a', 0, b'b']),
    ("n", &[0, 0, 0, 0, 0x12, 0x34, 0, 0]),
    ("n", &[0, 1, 0, 0, 0, 0, 0, 0, 0x27, 0x10]),
    ("n", &[0, 1, 0, 0, 0, 0, 0, 0]),
    ("j", b"{"),
    ("jb", b"\x01{"),
    ("tm", &[0, 0, 0, 0x14, 0x1d, 0xd7, 0x60, 0x01]),
    ("iv", &[0; 12]),
    ("o", &[0, 0, 1]),
    // an int8[] where an int4[] belongs, then one cut short
    (
        "ai4",
        &[0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 20, 0, 0, 0, 0, 0, 0, 0, 1],
    ),
    (
        "ai4",
        &[
            0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 23, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0,
        ],
    ),
    ("ai4", &[0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 23]),
];

async fn error_code(client: &Client, column: &str, bytes: &[u8]) -> String {
    let insert = format!("INSERT INTO wire_params (id, {column}) VALUES ($1, $2)");
    let param = RawParam(Some(bytes.to_vec()));
    match timed(client.execute(&insert, &[&-1i32, &param])).await {
        Ok(_) => "accepted".to_owned(),
        Err(error) => error.split(':').next().unwrap_or_default().to_owned(),
    }
}

#[tokio::test]
async fn every_type_matches_postgres_in_text_and_binary() {
    let reference = Postgres::start().await;
    let node = Patina::start().await;
    let postgres = reference.connect().await;
    let patina = node.connect().await;
    let mut report = String::new();
    fill(&postgres, "postgres", &mut report).await;
    fill(&patina, "patina", &mut report).await;

    for (index, (column, ty, _)) in (0..).zip(COLUMNS) {
        let sql = format!("SELECT {column} FROM wire_types ORDER BY id");
        let expected = binary(&postgres, &sql, &[]).await;
        let actual = binary(&patina, &sql, &[]).await;
        if expected != actual {
            let _ = writeln!(
                report,
                "{column} {ty}, binary:\n  postgres {}\n  patina   {}",
                show_binary(&expected),
                show_binary(&actual)
            );
        }
        let expected_text = text(&postgres, &sql).await;
        let actual_text = text(&patina, &sql).await;
        if expected_text != actual_text {
            let _ = writeln!(
                report,
                "{column} {ty}, text:\n  postgres {expected_text:?}\n  patina   {actual_text:?}"
            );
        }
        if let Ok((_, values)) = &expected {
            round_trip_parameters(&postgres, "postgres", index, column, values, &mut report).await;
            round_trip_parameters(&patina, "patina", index, column, values, &mut report).await;
        }
    }
    for (column, bytes) in MALFORMED {
        let expected = error_code(&postgres, column, bytes).await;
        let actual = error_code(&patina, column, bytes).await;
        if expected != actual {
            let _ = writeln!(
                report,
                "column {column}: binary parameter {}: postgres {expected}, patina {actual}",
                hex(&Some(bytes.to_vec()))
            );
        }
    }
    assert!(
        report.is_empty(),
        "wire formats differ from PostgreSQL:\n{report}"
    );
}

/// What one server answers to the typed-parameter statements, to compare.
async fn typed_answers(client: &Client) -> Result<Vec<String>, String> {
    timed(client.batch_execute(
        "CREATE TABLE typed (id integer PRIMARY KEY, b boolean, i2 smallint, i4 integer, \
         i8 bigint, f4 real, f8 double precision, t text, ba bytea)",
    ))
    .await?;
    let insert = "INSERT INTO typed (id, b, i2, i4, i8, f4, f8, t, ba) \
                  VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)";
    let bytes: Vec<u8> = vec![0, 255, 10];
    timed(client.execute(
        insert,
        &[
            &1i32,
            &true,
            &-2i16,
            &i32::MIN,
            &i64::MAX,
            &0.1f32,
            &-1e300f64,
            &"héllo".to_owned(),
            &bytes,
        ],
    ))
    .await?;
    // The client's own parameter types (sqlx): bigint into an integer
    // column, integer into a bigint one, double precision into a real.
    let chosen = timed(client.prepare_typed(
        "INSERT INTO typed (id, i8, f4) VALUES ($1, $2, $3)",
        &[Type::INT8, Type::INT4, Type::FLOAT8],
    ))
    .await?;
    timed(client.execute(&chosen, &[&2i64, &7i32, &0.1f64])).await?;
    let cast = timed(client.prepare_typed("SELECT $1::text", &[Type::INT4])).await?;
    let row = timed(client.query_one(&cast, &[&5i32])).await?;
    let mut answers = vec![format!(
        "int4 parameter as text: {:?}",
        row.get::<_, String>(0)
    )];
    for row in timed(client.query("SELECT * FROM typed ORDER BY id", &[])).await? {
        answers.push(format!(
            "{:?} {:?} {:?} {:?} {:?} {:?} {:?} {:?} {:?}",
            row.get::<_, i32>(0),
            row.get::<_, Option<bool>>(1),
            row.get::<_, Option<i16>>(2),
            row.get::<_, Option<i32>>(3),
            row.get::<_, Option<i64>>(4),
            row.get::<_, Option<f32>>(5),
            row.get::<_, Option<f64>>(6),
            row.get::<_, Option<String>>(7),
            row.get::<_, Option<Vec<u8>>>(8),
        ));
    }
    Ok(answers)
}

#[tokio::test]
async fn rust_and_client_typed_parameters_match_postgres() {
    let reference = Postgres::start().await;
    let node = Patina::start().await;
    let expected = typed_answers(&reference.connect().await).await;
    assert!(expected.is_ok(), "the reference failed: {expected:?}");
    let actual = typed_answers(&node.connect().await).await;
    assert_eq!(actual, expected);
}

/// The type and binary value of `SELECT $1` when the client says `$1` is
/// a bigint: PostgreSQL gives the result that type.
async fn bare_parameter(client: &Client) -> Result<(String, Raw), String> {
    let statement = timed(client.prepare_typed("SELECT $1", &[Type::INT8])).await?;
    let row = timed(client.query_one(&statement, &[&5i64])).await?;
    let ty = statement
        .columns()
        .first()
        .map(|column| column.type_().to_string())
        .unwrap_or_default();
    Ok((ty, row.get(0)))
}

#[tokio::test]
async fn client_parameter_types_type_the_result() {
    let reference = Postgres::start().await;
    let node = Patina::start().await;
    let expected = bare_parameter(&reference.connect().await).await;
    assert_eq!(
        expected,
        Ok(("int8".to_owned(), Raw(5i64.to_be_bytes().to_vec())))
    );
    assert_eq!(bare_parameter(&node.connect().await).await, expected);
}
