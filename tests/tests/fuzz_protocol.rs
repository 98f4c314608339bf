//! Protocol fuzzing: random and mutated message sequences against one
//! running node never panic it, never hang a connection, and never disturb
//! another connection; a malformed message closes its connection with an
//! ErrorResponse (or is answered with one).
//!
//! Four kinds of cases, drawn from a seeded generator (env
//! `PATINA_FUZZ_SEED`, `PATINA_FUZZ_CASES` to change the seed or the count):
//! - a valid startup, then random bytes;
//! - a valid startup, then valid extended/simple-protocol sequences with
//!   mutated fields (lengths, type bytes, truncations, parameter counts and
//!   formats, binary values of the wrong size, unknown statements and
//!   portals, Execute before Bind, …);
//! - random bytes before any startup;
//! - SSLRequest or GSSENCRequest, then random bytes (or a startup and
//!   random bytes).
//!
//! After every batch a witness connection opened at the start still
//! answers `SELECT 1` and a write and read-back, and the node's log shows
//! no panic.

use std::time::Duration;

use patina_tests::rng::Rng;
use patina_tests::wire::{Backend, RawConn, RecvError, check_backend, frontend, show};
use patina_tests::{Patina, tokio_postgres};

/// Cases per run, in batches of [`BATCH`].
const DEFAULT_CASES: usize = 480;
const BATCH: usize = 40;
/// Cases run at the same time (each on its own connection).
const PARALLEL: usize = 8;
/// How long the server may take to answer something it can answer.
const ANSWER: Duration = Duration::from_secs(10);
/// How long to wait for more messages once the server has gone quiet
/// (it may be waiting for the rest of a frame we never send).
const QUIET: Duration = Duration::from_millis(300);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    StartupThenGarbage,
    MutatedSequence,
    GarbageBeforeStartup,
    NegotiationThenGarbage,
}

#[derive(Debug, Clone)]
struct Case {
    id: usize,
    kind: Kind,
    /// Sent before the fuzzed bytes, answered by 'N' (SSLRequest,
    /// GSSENCRequest).
    negotiate: Option<Vec<u8>>,
    /// A valid startup precedes the fuzzed bytes.
    startup: bool,
    bytes: Vec<u8>,
    what: String,
}

/// What one case showed, if it went wrong.
#[derive(Debug)]
struct Failure {
    case: Case,
    problem: String,
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "case {} ({:?}, {}): {}\n  negotiate: {:?}\n  startup: {}\n  bytes ({}): {:?}",
            self.case.id,
            self.case.kind,
            self.case.what,
            self.problem,
            self.case.negotiate,
            self.case.startup,
            self.case.bytes.len(),
            Hex(&self.case.bytes[..self.case.bytes.len().min(400)]),
        )
    }
}

struct Hex<'a>(&'a [u8]);

impl std::fmt::Debug for Hex<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for b in self.0 {
            if b.is_ascii_graphic() && *b != b'\\' {
                write!(f, "{}", *b as char)?;
            } else {
                write!(f, "\\x{b:02x}")?;
            }
        }
        Ok(())
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn random_and_mutated_messages_never_hurt_the_server_or_other_connections() {
    let seed = Rng::seed_from_env("PATINA_FUZZ_SEED", 0x5EED_0001);
    let cases = Rng::cases_from_env(DEFAULT_CASES);
    let node = Patina::start().await;
    let port = node.port();
    let witness = node.connect().await;
    witness
        .batch_execute(
            "CREATE TABLE witness (id INT PRIMARY KEY, v TEXT);
             CREATE TABLE fuzz_t (id INT PRIMARY KEY, v TEXT, n BIGINT, f FLOAT8, b BOOL)",
        )
        .await
        .expect("creating the tables");

    let mut rng = Rng::new(seed);
    let mut failures: Vec<Failure> = Vec::new();
    let mut stats = Stats::default();
    let mut id = 0;
    for batch in 0..cases.div_ceil(BATCH) {
        let mut pending: Vec<Case> = (0..BATCH.min(cases - batch * BATCH))
            .map(|_| {
                id += 1;
                generate(&mut rng, id)
            })
            .collect();
        while !pending.is_empty() {
            let chunk: Vec<Case> = pending.drain(..PARALLEL.min(pending.len())).collect();
            let mut set = tokio::task::JoinSet::new();
            for case in chunk {
                set.spawn(async move {
                    let outcome = run_case(port, &case).await;
                    (case, outcome)
                });
            }
            while let Some(joined) = set.join_next().await {
                let (case, outcome) = joined.expect("a fuzz case task panicked");
                match outcome {
                    Ok(seen) => stats.add(seen),
                    Err(problem) => failures.push(Failure { case, problem }),
                }
            }
        }
        if let Err(problem) = check_witness(&witness, port, batch as i32).await {
            panic!(
                "after batch {batch} (seed {seed}) the witness connection broke: {problem}\n\
                 failures so far:\n{}",
                join(&failures)
            );
        }
    }

    let log = node.log();
    let panics: Vec<&str> = log.lines().filter(|l| l.contains("panicked at")).collect();
    assert!(
        failures.is_empty() && panics.is_empty(),
        "protocol fuzzing (seed {seed}, {cases} cases) found {} failing cases and {} panics \
         in the node's log\npanics:\n{}\nfailures:\n{}",
        failures.len(),
        panics.len(),
        panics.join("\n"),
        join(&failures)
    );
    // Shown with --nocapture: how the cases ended.
    #[allow(clippy::print_stderr)]
    {
        eprintln!("protocol fuzzing: seed {seed}, {cases} cases, {stats:?}");
    }
}

fn join(failures: &[Failure]) -> String {
    failures
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("\n\n")
}

/// How the cases ended, for the summary line.
#[derive(Debug, Default)]
struct Stats {
    /// The server answered an ErrorResponse and closed the connection.
    error_then_closed: usize,
    /// The server answered (with or without an error) and stayed usable.
    answered_still_usable: usize,
    /// The server waited for the rest of a frame; closed at our EOF.
    waited_for_more: usize,
    /// Closed without a message (before startup, or a Terminate was sent).
    closed_silently: usize,
}

#[derive(Debug)]
enum Seen {
    ErrorThenClosed,
    AnsweredStillUsable,
    WaitedForMore,
    ClosedSilently,
}

impl Stats {
    fn add(&mut self, seen: Seen) {
        match seen {
            Seen::ErrorThenClosed => self.error_then_closed += 1,
            Seen::AnsweredStillUsable => self.answered_still_usable += 1,
            Seen::WaitedForMore => self.waited_for_more += 1,
            Seen::ClosedSilently => self.closed_silently += 1,
        }
    }
}

/// The witness still reads and writes, and a new connection still works.
async fn check_witness(
    witness: &tokio_postgres::Client,
    port: u16,
    batch: i32,
) -> Result<(), String> {
    let step = async {
        let one: i32 = witness
            .query_one("SELECT 1", &[])
            .await
            .map_err(|e| format!("SELECT 1: {e}"))?
            .get(0);
        if one != 1 {
            return Err(format!("SELECT 1 gave {one}"));
        }
        let v = format!("batch {batch}");
        witness
            .execute("INSERT INTO witness VALUES ($1, $2)", &[&batch, &v])
            .await
            .map_err(|e| format!("INSERT: {e}"))?;
        let back: String = witness
            .query_one("SELECT v FROM witness WHERE id = $1", &[&batch])
            .await
            .map_err(|e| format!("SELECT back: {e}"))?
            .get(0);
        if back != v {
            return Err(format!("read back {back:?}, wrote {v:?}"));
        }
        let mut fresh = RawConn::connect_ready(port, ANSWER)
            .await
            .map_err(|e| format!("a new connection: {e}"))?;
        fresh.select_one(ANSWER).await
    };
    tokio::time::timeout(Duration::from_secs(30), step)
        .await
        .map_err(|_| "no answer within 30 s".to_owned())?
}

/// Runs one case on its own connection; `Err` says what went wrong.
async fn run_case(port: u16, case: &Case) -> Result<Seen, String> {
    let mut conn = RawConn::connect(port)
        .await
        .map_err(|e| format!("connecting: {e}"))?;
    if let Some(negotiate) = &case.negotiate {
        conn.send(negotiate)
            .await
            .map_err(|e| format!("sending the negotiation request: {e}"))?;
        match conn.recv_byte(ANSWER).await {
            Ok(Some(b'N')) => {}
            other => return Err(format!("SSL/GSS request answered {other:?}, not 'N'")),
        }
    }
    if case.startup {
        conn.send(&frontend::startup(&[]))
            .await
            .map_err(|e| format!("sending the startup message: {e}"))?;
        let answer = conn.until_ready(ANSWER).await?;
        if answer.last().and_then(Backend::tag) != Some(b'Z') {
            return Err(format!("startup answered {}", show(&answer)));
        }
    }
    conn.send(&case.bytes)
        .await
        .map_err(|e| format!("sending the case: {e}"))?;

    // Read what the server says until it closes or goes quiet.
    let (types, complete) = frames(&case.bytes, case.startup);
    // Whole frames that include a Sync must be answered. Without one the
    // server may rightly hold its answers back (after an error it skips
    // everything up to the next Sync, Flush and Query included, as
    // PostgreSQL does).
    let must_answer = complete && types.contains(&b'S');
    let mut seen = Vec::new();
    let mut waited = false;
    loop {
        let wait = if must_answer && seen.is_empty() {
            ANSWER
        } else {
            QUIET
        };
        match conn.recv(wait).await {
            Ok(message) => {
                check_backend(&message).map_err(|e| format!("{e} (after {})", show(&seen)))?;
                let eof = message == Backend::Eof;
                seen.push(message);
                if eof {
                    break;
                }
            }
            Err(RecvError::Timeout) => {
                if must_answer && seen.is_empty() {
                    return Err(format!(
                        "whole frames including a Sync, but no answer within {ANSWER:?} \
                         (a hang)"
                    ));
                }
                waited = true;
                break;
            }
            Err(RecvError::Malformed(why)) => {
                return Err(format!("malformed answer: {why} (after {})", show(&seen)));
            }
        }
    }

    let closed = seen.last() == Some(&Backend::Eof);
    if closed {
        let errored = seen.iter().any(|m| m.tag() == Some(b'E'));
        let terminated = types.contains(&b'X');
        if case.startup && !errored && !terminated {
            return Err(format!(
                "the connection closed without an ErrorResponse (a panic?): {}",
                show(&seen)
            ));
        }
        return Ok(if errored {
            Seen::ErrorThenClosed
        } else {
            Seen::ClosedSilently
        });
    }

    if complete && case.startup {
        // Every frame was whole, so the connection must still work: end
        // any extended batch, any transaction, then SELECT 1.
        conn.send(&frontend::sync())
            .await
            .map_err(|e| format!("sending Sync: {e}"))?;
        let answer = conn
            .until_ready(ANSWER)
            .await
            .map_err(|e| format!("Sync after the case: {e} (case answered {})", show(&seen)))?;
        match answer.last() {
            Some(Backend::Eof) => {
                return Err(format!(
                    "the connection closed at a Sync after the case answered {}",
                    show(&seen)
                ));
            }
            Some(Backend::Message { body, .. }) if body.as_slice() != b"I" => {
                conn.send(&frontend::query("ROLLBACK"))
                    .await
                    .map_err(|e| format!("sending ROLLBACK: {e}"))?;
                conn.until_ready(ANSWER).await?;
            }
            _ => {}
        }
        conn.select_one(ANSWER)
            .await
            .map_err(|e| format!("the connection is not usable after the case: {e}"))?;
        let _ = conn.send(&frontend::terminate()).await;
        return Ok(Seen::AnsweredStillUsable);
    }

    // The server waits for bytes that never come: at our end of stream it
    // must close the connection.
    conn.shutdown_write().await;
    loop {
        match conn.recv(ANSWER).await {
            Ok(Backend::Eof) => break,
            Ok(message) => {
                check_backend(&message).map_err(|e| format!("{e} (after {})", show(&seen)))?;
                seen.push(message);
            }
            Err(RecvError::Timeout) => {
                return Err(format!(
                    "the connection stayed open {ANSWER:?} after the client's end of stream \
                     (a hang); answered {}",
                    show(&seen)
                ));
            }
            Err(RecvError::Malformed(why)) => {
                return Err(format!("malformed answer: {why} (after {})", show(&seen)));
            }
        }
    }
    Ok(if waited {
        Seen::WaitedForMore
    } else {
        Seen::ClosedSilently
    })
}

/// The type bytes of the whole frames `bytes` (sent after a startup) starts
/// with, and whether they are all of it (`false` if the last frame is cut
/// short, a length is below 4, or the bytes were sent before any startup).
fn frames(bytes: &[u8], after_startup: bool) -> (Vec<u8>, bool) {
    let mut types = Vec::new();
    if !after_startup {
        return (types, false);
    }
    let mut rest = bytes;
    while !rest.is_empty() {
        if rest.len() < 5 {
            return (types, false);
        }
        let len = i32::from_be_bytes([rest[1], rest[2], rest[3], rest[4]]);
        if len < 4 || rest.len() < 1 + len as usize {
            return (types, false);
        }
        types.push(rest[0]);
        rest = &rest[1 + len as usize..];
    }
    (types, true)
}

// ---- generation ----

fn generate(rng: &mut Rng, id: usize) -> Case {
    let kind = *rng.pick(&[
        Kind::StartupThenGarbage,
        Kind::MutatedSequence,
        Kind::MutatedSequence,
        Kind::MutatedSequence,
        Kind::GarbageBeforeStartup,
        Kind::NegotiationThenGarbage,
    ]);
    match kind {
        Kind::StartupThenGarbage => {
            let (bytes, what) = garbage(rng);
            Case {
                id,
                kind,
                negotiate: None,
                startup: true,
                bytes,
                what,
            }
        }
        Kind::GarbageBeforeStartup => {
            let (mut bytes, what) = garbage(rng);
            if rng.chance(30) {
                // A startup-shaped prefix: a plausible length, then junk.
                let mut prefixed = ((bytes.len() + 8) as i32).to_be_bytes().to_vec();
                prefixed.extend_from_slice(&rng.bytes(4));
                prefixed.append(&mut bytes);
                bytes = prefixed;
            }
            Case {
                id,
                kind,
                negotiate: None,
                startup: false,
                bytes,
                what,
            }
        }
        Kind::NegotiationThenGarbage => {
            let negotiate = if rng.chance(50) {
                frontend::ssl_request()
            } else {
                frontend::gssenc_request()
            };
            let startup = rng.chance(40);
            let (bytes, what) = if startup {
                let (messages, what) = sequence(rng);
                mutate(rng, messages, what)
            } else {
                garbage(rng)
            };
            Case {
                id,
                kind,
                negotiate: Some(negotiate),
                startup,
                bytes,
                what,
            }
        }
        Kind::MutatedSequence => {
            let (messages, what) = sequence(rng);
            let (bytes, what) = mutate(rng, messages, what);
            Case {
                id,
                kind,
                negotiate: None,
                startup: true,
                bytes,
                what,
            }
        }
    }
}

/// Random bytes, sometimes starting with a real type byte.
fn garbage(rng: &mut Rng) -> (Vec<u8>, String) {
    let len = *rng.pick(&[1usize, 4, 5, 8, 9, 16, 64, 300, 2000]);
    let mut bytes = rng.bytes(len);
    if rng.chance(50) {
        bytes[0] = *rng.pick(b"QPBDESHCXpdcfFxZ");
    }
    (bytes, format!("{len} random bytes"))
}

const QUERIES: &[&str] = &[
    "SELECT 1",
    "SELECT $1::int + 1",
    "SELECT $1::text, $2::bigint",
    "SELECT id, v FROM witness WHERE id = $1",
    "INSERT INTO fuzz_t (id, v, n, f, b) VALUES ($1, $2, $3, $4, $5)",
    "UPDATE fuzz_t SET v = $2 WHERE id = $1",
    "DELETE FROM fuzz_t WHERE id = $1",
    "SELECT id, v, n, f, b FROM fuzz_t ORDER BY id LIMIT $1",
    "SELECT * FROM fuzz_t",
    "SELECT $1::bool, $2::float8, $3::int2",
    "SELECT $1::bytea",
    "SELECT $1::date, $2::timestamp",
    "SELECT $1::numeric",
    "SELECT $1::uuid",
    "BEGIN",
    "COMMIT",
    "SET application_name = 'fuzz'",
    "SHOW server_version",
    "",
    "SELECT no_such_column FROM fuzz_t",
    "SELECT 1; SELECT 2",
];

/// Type oids a Parse may name.
const OIDS: &[u32] = &[
    0,
    16,
    17,
    20,
    21,
    23,
    25,
    700,
    701,
    1043,
    1082,
    1114,
    1184,
    1700,
    2950,
    3802,
    114,
    1007,
    1009,
    99_999,
    u32::MAX,
];

fn name(rng: &mut Rng) -> String {
    rng.pick(&[
        "",
        "",
        "s1",
        "p1",
        "missing",
        "a_rather_long_statement_name",
    ])
    .to_string()
}

/// A parameter value: text, binary of the right or wrong size, NULL.
fn param(rng: &mut Rng) -> Option<Vec<u8>> {
    match rng.below(10) {
        0 => None,
        1 => Some(Vec::new()),
        2 => {
            let n = rng.below(9);
            Some(rng.bytes(n))
        }
        3 => Some((rng.range(-5, 5) as i32).to_be_bytes().to_vec()),
        4 => Some(rng.range(i64::MIN / 2, i64::MAX / 2).to_be_bytes().to_vec()),
        5 => Some(rng.pick(&["t", "f", "yes", "maybe"]).as_bytes().to_vec()),
        6 => Some(
            rng.pick(&["1.5", "NaN", "-Infinity", "1e400", "x"])
                .as_bytes()
                .to_vec(),
        ),
        7 => Some(
            rng.pick(&[
                "2024-02-29",
                "2024-13-01",
                "00000000-0000-0000-0000-000000000000",
                "\\xdeadbeef",
                "{1,2}",
            ])
            .as_bytes()
            .to_vec(),
        ),
        8 => {
            let n = rng.below(40);
            Some(rng.bytes(n))
        }
        _ => Some(rng.range(-1000, 1000).to_string().into_bytes()),
    }
}

fn formats(rng: &mut Rng, max: usize) -> Vec<i16> {
    let n = rng.below(max + 1);
    (0..n)
        .map(|_| *rng.pick(&[0i16, 0, 1, 1, 2, -1, i16::MAX]))
        .collect()
}

/// A valid-looking message sequence (as separate frames), ending with Sync
/// most of the time; fields are sometimes wrong on purpose (unknown names,
/// wrong counts, formats and sizes, Execute before Bind).
fn sequence(rng: &mut Rng) -> (Vec<Vec<u8>>, String) {
    let mut out = Vec::new();
    let mut what = Vec::new();
    let steps = 1 + rng.below(6);
    for _ in 0..steps {
        let sql = *rng.pick(QUERIES);
        match rng.below(10) {
            0 => {
                out.push(frontend::query(sql));
                what.push(format!("Query({sql:?})"));
            }
            1 => {
                // Execute (maybe before any Bind), of a maybe-missing portal.
                let portal = name(rng);
                let max = *rng.pick(&[0, 1, 2, -1, i32::MAX, i32::MIN]);
                out.push(frontend::execute(&portal, max));
                what.push(format!("Execute({portal:?}, {max})"));
            }
            2 => {
                let kind = *rng.pick(b"SPX\0");
                let n = name(rng);
                out.push(frontend::describe(kind, &n));
                what.push(format!("Describe({:?}, {n:?})", kind as char));
            }
            3 => {
                let kind = *rng.pick(b"SPX\0");
                let n = name(rng);
                out.push(frontend::close(kind, &n));
                what.push(format!("Close({:?}, {n:?})", kind as char));
            }
            4 => {
                out.push(frontend::flush());
                what.push("Flush".to_owned());
            }
            _ => {
                // The usual Parse / Bind / Describe / Execute.
                let statement = name(rng);
                let portal = name(rng);
                let oids: Vec<u32> = (0..rng.below(4)).map(|_| *rng.pick(OIDS)).collect();
                out.push(frontend::parse(&statement, sql, &oids));
                let params: Vec<Option<Vec<u8>>> = (0..rng.below(6)).map(|_| param(rng)).collect();
                let pf = formats(rng, 3);
                let rf = formats(rng, 3);
                out.push(frontend::bind(&portal, &statement, &pf, &params, &rf));
                if rng.chance(50) {
                    out.push(frontend::describe(b'P', &portal));
                }
                let max = *rng.pick(&[0, 0, 1, -1]);
                out.push(frontend::execute(&portal, max));
                if rng.chance(30) {
                    // A second Execute of the same (maybe suspended) portal.
                    out.push(frontend::execute(&portal, 0));
                }
                what.push(format!(
                    "Parse({statement:?}, {sql:?}, {oids:?}) Bind({portal:?}, {} params, formats {pf:?}, results {rf:?}) Execute({max})",
                    params.len()
                ));
            }
        }
    }
    if rng.chance(85) {
        out.push(frontend::sync());
        what.push("Sync".to_owned());
    }
    (out, what.join(" "))
}

/// Applies 0–3 mutations to a message sequence and joins it into bytes.
fn mutate(rng: &mut Rng, mut messages: Vec<Vec<u8>>, what: String) -> (Vec<u8>, String) {
    let mut done = Vec::new();
    for _ in 0..rng.below(4) {
        if messages.is_empty() {
            break;
        }
        let i = rng.below(messages.len());
        match rng.below(11) {
            0 => {
                // Length field off by a little.
                let delta = *rng.pick(&[-5i32, -2, -1, 1, 2, 7]);
                set_len(&mut messages[i], |l| l.wrapping_add(delta));
                done.push(format!("length of #{i} {delta:+}"));
            }
            1 => {
                let len =
                    *rng.pick(&[0i32, 1, 3, -1, i32::MIN, i32::MAX, 0x3fff_fffe, 0x4000_0000]);
                set_len(&mut messages[i], |_| len);
                done.push(format!("length of #{i} = {len}"));
            }
            2 => {
                let tag = rng.byte();
                messages[i][0] = tag;
                done.push(format!("type of #{i} = {tag:#04x}"));
            }
            3 => {
                let keep = rng.below(messages[i].len());
                messages[i].truncate(keep);
                done.push(format!("#{i} cut to {keep} bytes"));
            }
            4 => {
                if messages[i].len() > 5 {
                    let at = 5 + rng.below(messages[i].len() - 5);
                    let b = rng.byte();
                    messages[i][at] = b;
                    done.push(format!("#{i} byte {at} = {b:#04x}"));
                }
            }
            5 => {
                // Flip a byte inside the body, keeping the frame whole.
                if messages[i].len() > 5 {
                    let at = 5 + rng.below(messages[i].len() - 5);
                    messages[i][at] ^= 1 << rng.below(8);
                    done.push(format!("#{i} bit flip at {at}"));
                }
            }
            6 => {
                let dup = messages[i].clone();
                messages.insert(i, dup);
                done.push(format!("#{i} doubled"));
            }
            7 => {
                messages.remove(i);
                done.push(format!("#{i} removed"));
            }
            8 => {
                let j = rng.below(messages.len());
                messages.swap(i, j);
                done.push(format!("#{i} <-> #{j}"));
            }
            9 => {
                // A whole frame of a random type with a random body.
                let tag = rng.byte();
                let len = rng.below(20);
                let body = rng.bytes(len);
                messages.insert(i, frontend::message(tag, &body));
                done.push(format!("inserted frame {tag:#04x} with {len} random bytes"));
            }
            _ => {
                // Random bytes appended to a body, length adjusted: the
                // frame is whole but its fields do not add up.
                let n = 1 + rng.below(12);
                let extra = rng.bytes(n);
                messages[i].extend_from_slice(&extra);
                set_len(&mut messages[i], |l| l.wrapping_add(extra.len() as i32));
                done.push(format!("#{i} + {} trailing bytes", extra.len()));
            }
        }
    }
    let what = if done.is_empty() {
        what
    } else {
        format!("{what}; mutations: {}", done.join(", "))
    };
    (messages.concat(), what)
}

fn set_len(message: &mut [u8], f: impl Fn(i32) -> i32) {
    if message.len() >= 5 {
        let len = i32::from_be_bytes([message[1], message[2], message[3], message[4]]);
        message[1..5].copy_from_slice(&f(len).to_be_bytes());
    }
}
