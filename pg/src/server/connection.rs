//! One client connection: after its start (`startup`), the message loop of
//! the simple and extended query protocols. The loop is ours (pgwire gives
//! framing and message types), so the server can later push messages to an
//! idle connection.

use std::io;

use futures::{SinkExt, StreamExt};
use pgwire::messages::data::{NoData, ParameterDescription};
use pgwire::messages::extendedquery::{
    Bind, BindComplete, Close, CloseComplete, Describe, Execute, Parse, ParseComplete,
    PortalSuspended,
};
use pgwire::messages::response::{CommandComplete, EmptyQueryResponse};
use pgwire::messages::startup::ParameterStatus;
use pgwire::messages::{PgWireBackendMessage as Out, PgWireFrontendMessage as In};
use tokio::net::TcpStream;

use super::database::Database;
use super::encode;
use super::errors::PgError;
use super::execute::Outcome;
use super::listener::Listener;
use super::messages;
use super::session::{Implicit, Plan, Portal, Prepared, Session, Txn};
use super::shutdown;
use super::startup::{self, Started, Wire};
use super::statement;
use super::utility::{self, Utility};
use crate::types::PgType;

/// Serves one client until it leaves; any transaction it left open is
/// rolled back.
pub(crate) async fn serve(socket: TcpStream, db: Database, listener: &Listener) -> io::Result<()> {
    let mut terminating = listener.terminator.subscribe();
    let Some(Started {
        mut wire,
        mut session,
        slot: _slot,
    }) = shutdown::until_terminated(&mut terminating, startup::start(socket, db, listener)).await?
    else {
        return Ok(());
    };
    let _tracked = listener.terminator.track(session.pid);
    metrics::counter!("patina_pg_connections_total").increment(1);
    metrics::gauge!("patina_pg_connections_open").increment(1.0);
    let result = shutdown::until_terminated(&mut terminating, run(&mut wire, &mut session)).await;
    let result = shutdown::farewell(&mut wire, &terminating, result).await;
    session.close().await;
    metrics::gauge!("patina_pg_connections_open").decrement(1.0);
    result
}

/// The next message from the client; while the client is idle (told
/// ReadyForQuery, outside a transaction), notifications for it are pushed
/// as they come, and `None` says one was.
async fn next_or_notification(
    wire: &mut Wire,
    session: &mut Session,
    ready: bool,
) -> io::Result<Option<Option<Result<In, pgwire::error::PgWireError>>>> {
    if !ready || session.txn != Txn::Idle {
        return Ok(Some(wire.next().await));
    }
    let notification = tokio::select! {
        next = wire.next() => return Ok(Some(next)),
        Some(notification) = session.notify.next() => notification,
    };
    wire.feed(messages::notification(notification)).await?;
    deliver(wire, session).await?;
    wire.flush().await?;
    Ok(None)
}

/// Sends the notifications waiting for a session outside a transaction
/// (a listener in one receives them when it ends), and a warning if some
/// were dropped because it did not read them in time.
async fn deliver(wire: &mut Wire, session: &mut Session) -> io::Result<()> {
    if session.txn != Txn::Idle {
        return Ok(());
    }
    while let Some(notification) = session.notify.try_next() {
        wire.feed(messages::notification(notification)).await?;
    }
    let dropped = session.notify.take_dropped();
    if dropped > 0 {
        let warning = PgError::new(
            "01000",
            format!(
                "{dropped} notifications for this session were dropped: it did not read them in time"
            ),
        );
        wire.feed(messages::notice(&warning)).await?;
    }
    Ok(())
}

async fn run(wire: &mut Wire, session: &mut Session) -> io::Result<()> {
    // After an error in an extended-protocol batch, everything up to the
    // next Sync is skipped.
    let mut skipping = false;
    // Whether the client was last told ReadyForQuery: only then is it idle.
    let mut ready = true;
    loop {
        let idle_limit = session
            .settings
            .duration("idle_in_transaction_session_timeout")
            .filter(|_| ready && session.txn != Txn::Idle);
        let next = match idle_limit {
            Some(limit) => match tokio::time::timeout(limit, wire.next()).await {
                Ok(next) => next,
                Err(_) => {
                    let error = PgError::new(
                        "25P03",
                        "terminating connection due to idle-in-transaction timeout",
                    );
                    return wire.send(messages::fatal(&error)).await;
                }
            },
            None => match next_or_notification(wire, session, ready).await? {
                Some(next) => next,
                None => continue,
            },
        };
        let Some(message) = next else {
            return Ok(());
        };
        ready = matches!(message, Ok(In::Query(_) | In::Sync(_)));
        let message = match message {
            Ok(message) => message,
            Err(error) => {
                let error = PgError::protocol(error.to_string());
                wire.send(messages::error(&error)).await?;
                return Ok(());
            }
        };
        // Flush still sends the error (asyncpg waits for it after Parse,
        // Describe, Flush).
        if skipping && !matches!(message, In::Sync(_) | In::Flush(_) | In::Terminate(_)) {
            continue;
        }
        let step = match message {
            In::Query(query) => {
                simple(wire, session, &query.query).await?;
                continue;
            }
            In::Sync(_) => {
                skipping = false;
                if let Err(error) = session.end_implicit().await {
                    wire.feed(messages::error(&error)).await?;
                }
                deliver(wire, session).await?;
                wire.send(messages::ready(session.txn)).await?;
                continue;
            }
            In::Flush(_) => {
                wire.flush().await?;
                continue;
            }
            In::Terminate(_) => return Ok(()),
            In::Parse(parse) => on_parse(wire, session, parse).await,
            In::Bind(bind) => on_bind(wire, session, bind).await,
            In::Describe(describe) => on_describe(wire, session, describe).await,
            In::Execute(execute) => on_execute(wire, session, execute).await,
            In::Close(close) => on_close(wire, session, close).await,
            // What a client still sends of a COPY that failed (PostgreSQL
            // drops it too).
            In::CopyData(_) | In::CopyDone(_) | In::CopyFail(_) => continue,
            other => Ok(Err(PgError::protocol(format!(
                "unexpected message {other:?}"
            )))),
        };
        match step {
            Ok(Ok(())) => {}
            Ok(Err(error)) if shutdown::ends_session(&error) => return Err(shutdown::aborted()),
            Ok(Err(error)) => {
                wire.feed(messages::error(&error)).await?;
                session.fail();
                skipping = true;
            }
            Err(io) => return Err(io),
        }
    }
}

/// A protocol step: an I/O failure ends the connection, a `PgError` is
/// reported to the client.
type Step = io::Result<Result<(), PgError>>;

/// Sends the end of a statement: its warnings, its completion, and the
/// settings it changed.
async fn complete(wire: &mut Wire, session: &mut Session, tag: String) -> io::Result<()> {
    for notice in std::mem::take(&mut session.notices) {
        wire.feed(messages::notice(&notice)).await?;
    }
    wire.feed(Out::CommandComplete(CommandComplete::new(tag)))
        .await?;
    for (name, value) in session.settings.take_changed() {
        wire.feed(Out::ParameterStatus(ParameterStatus::new(name, value)))
            .await?;
    }
    Ok(())
}

/// Plans and runs one statement of a simple query, sending its results.
async fn simple_statement(wire: &mut Wire, session: &mut Session, text: &str) -> Step {
    let plan = match session.plan(text, &[]) {
        Ok(plan) => plan,
        Err(error) if session.txn == Txn::Failed => {
            let _ = error;
            return Ok(Err(PgError::in_failed_transaction()));
        }
        Err(error) => {
            session.fail();
            return Ok(Err(error));
        }
    };
    if let Plan::Utility(utility) = &plan {
        return run_utility(wire, session, utility).await;
    }
    let outcome = match session.run(&plan, &[]).await {
        Ok(outcome) => outcome,
        Err(error) => return Ok(Err(error)),
    };
    if matches!(plan, Plan::Empty) {
        wire.feed(Out::EmptyQueryResponse(EmptyQueryResponse::new()))
            .await?;
        return Ok(Ok(()));
    }
    let columns = plan.columns();
    if !columns.is_empty() {
        wire.feed(messages::row_description(&columns, &[])).await?;
        for row in &outcome.rows {
            match messages::data_row(row, &columns, &[]) {
                Ok(message) => wire.feed(message).await?,
                Err(error) => return Ok(Err(error)),
            }
        }
    }
    complete(wire, session, outcome.tag).await?;
    Ok(Ok(()))
}

/// The simple query protocol: a string of statements runs as one implicit
/// transaction (unless it manages transactions itself) and stops at the
/// first error, rolling all of it back.
async fn simple(wire: &mut Wire, session: &mut Session, query: &str) -> io::Result<()> {
    match statement::split(query) {
        Err(error) => {
            session.fail();
            wire.feed(messages::error(&error)).await?;
        }
        Ok(texts) if texts.is_empty() => {
            wire.feed(Out::EmptyQueryResponse(EmptyQueryResponse::new()))
                .await?;
        }
        Ok(texts) => {
            // Statements outside an explicit block run in an implicit one,
            // which a COMMIT or ROLLBACK in the string ends (the next
            // statement opens another) and a BEGIN makes explicit.
            let several = texts.len() > 1;
            let mut ok = true;
            for text in &texts {
                if several {
                    session.begin_implicit(Implicit::Simple);
                }
                if let Err(error) = simple_statement(wire, session, text).await? {
                    if shutdown::ends_session(&error) {
                        return Err(shutdown::aborted());
                    }
                    wire.feed(messages::error(&error)).await?;
                    ok = false;
                    break;
                }
            }
            if !ok {
                session.fail();
            }
            if let Err(error) = session.end_implicit().await {
                wire.feed(messages::error(&error)).await?;
            }
        }
    }
    deliver(wire, session).await?;
    wire.send(messages::ready(session.txn)).await
}

async fn on_parse(wire: &mut Wire, session: &mut Session, parse: Parse) -> Step {
    let texts = match statement::split(&parse.query) {
        Ok(texts) => texts,
        Err(error) => return Ok(Err(error)),
    };
    if texts.len() > 1 {
        return Ok(Err(PgError::new(
            "42601",
            "cannot insert multiple commands into a prepared statement",
        )));
    }
    // The types the client declared (0: the server's choice); ones patina
    // does not know are inferred like undeclared ones.
    let given: Vec<Option<PgType>> = parse
        .type_oids
        .iter()
        .map(|oid| (*oid != 0).then(|| PgType::from_oid(*oid)).flatten())
        .collect();
    let plan = match texts.first() {
        None => Plan::Empty,
        Some(text) => match session.plan(text, &given) {
            Ok(plan) => plan,
            Err(_) if session.txn == Txn::Failed => {
                return Ok(Err(PgError::in_failed_transaction()));
            }
            Err(error) => return Ok(Err(error)),
        },
    };
    if session.txn == Txn::Failed && !plan.ends_failed_transaction() {
        return Ok(Err(PgError::in_failed_transaction()));
    }
    let mut params = plan.params();
    for ty in given.iter().skip(params.len()) {
        params.push(ty.unwrap_or(PgType::TEXT));
    }
    session
        .statements
        .insert(parse.name.unwrap_or_default(), Prepared { plan, params });
    wire.feed(Out::ParseComplete(ParseComplete::new())).await?;
    Ok(Ok(()))
}

async fn on_bind(wire: &mut Wire, session: &mut Session, bind: Bind) -> Step {
    let name = bind.statement_name.unwrap_or_default();
    let Some(prepared) = session.statements.get(&name) else {
        return Ok(Err(PgError::new(
            "26000",
            format!("prepared statement \"{name}\" does not exist"),
        )));
    };
    if session.txn == Txn::Failed && !prepared.plan.ends_failed_transaction() {
        return Ok(Err(PgError::in_failed_transaction()));
    }
    if bind.parameters.len() != prepared.params.len() {
        return Ok(Err(PgError::protocol(format!(
            "bind message supplies {} parameters, but prepared statement \"{name}\" requires {}",
            bind.parameters.len(),
            prepared.params.len()
        ))));
    }
    // Format codes are 0 (text) or 1 (binary); anything else would be
    // echoed into RowDescription, which no client can read.
    let formats = bind
        .parameter_format_codes
        .iter()
        .chain(&bind.result_column_format_codes);
    if let Some(code) = formats.into_iter().find(|f| !matches!(f, 0 | 1)) {
        return Ok(Err(PgError::new(
            "22023",
            format!("unsupported format code: {code}"),
        )));
    }
    let mut params = Vec::with_capacity(bind.parameters.len());
    for (i, (bytes, ty)) in bind.parameters.iter().zip(&prepared.params).enumerate() {
        let format = encode::format_of(&bind.parameter_format_codes, i);
        match encode::parameter(bytes.as_deref(), *ty, format) {
            Ok(value) => params.push(value),
            Err(error) => return Ok(Err(error)),
        }
    }
    let portal = Portal {
        plan: prepared.plan.clone(),
        params,
        formats: bind.result_column_format_codes,
        pending: None,
    };
    session
        .portals
        .insert(bind.portal_name.unwrap_or_default(), portal);
    wire.feed(Out::BindComplete(BindComplete::new())).await?;
    Ok(Ok(()))
}

async fn on_describe(wire: &mut Wire, session: &mut Session, describe: Describe) -> Step {
    let name = describe.name.unwrap_or_default();
    let (columns, formats) = if describe.target_type == b'S' {
        let Some(prepared) = session.statements.get(&name) else {
            return Ok(Err(PgError::new(
                "26000",
                format!("prepared statement \"{name}\" does not exist"),
            )));
        };
        let oids = prepared.params.iter().map(|t| t.oid()).collect();
        wire.feed(Out::ParameterDescription(ParameterDescription::new(oids)))
            .await?;
        (prepared.plan.columns(), Vec::new())
    } else {
        let Some(portal) = session.portals.get(&name) else {
            return Ok(Err(PgError::new(
                "34000",
                format!("portal \"{name}\" does not exist"),
            )));
        };
        (portal.plan.columns(), portal.formats.clone())
    };
    if columns.is_empty() {
        wire.feed(Out::NoData(NoData::new())).await?;
    } else {
        wire.feed(messages::row_description(&columns, &formats))
            .await?;
    }
    Ok(Ok(()))
}

async fn on_execute(wire: &mut Wire, session: &mut Session, execute: Execute) -> Step {
    let name = execute.name.unwrap_or_default();
    let Some(mut portal) = session.portals.remove(&name) else {
        return Ok(Err(PgError::new(
            "34000",
            format!("portal \"{name}\" does not exist"),
        )));
    };
    if matches!(portal.plan, Plan::Empty) {
        wire.feed(Out::EmptyQueryResponse(EmptyQueryResponse::new()))
            .await?;
        return Ok(Ok(()));
    }
    // Statements up to Sync form one implicit transaction; when the Sync
    // is already here, this one is alone in it and runs as autocommit.
    if !sync_is_next(wire) {
        session.begin_implicit(Implicit::Extended);
    }
    if let Plan::Utility(utility) = &portal.plan {
        let step = run_utility(wire, session, utility).await;
        session.portals.insert(name, portal);
        return step;
    }
    let resumed = portal.pending.is_some();
    let (outcome, sent) = match portal.pending.take() {
        Some(pending) => pending,
        None => match session.run(&portal.plan, &portal.params).await {
            Ok(outcome) => (outcome, 0),
            Err(error) => return Ok(Err(error)),
        },
    };
    let columns = portal.plan.columns();
    let limit = usize::try_from(execute.max_rows).ok().filter(|n| *n > 0);
    let end = limit.map_or(outcome.rows.len(), |n| (sent + n).min(outcome.rows.len()));
    for row in &outcome.rows[sent..end] {
        match messages::data_row(row, &columns, &portal.formats) {
            Ok(message) => wire.feed(message).await?,
            Err(error) => return Ok(Err(error)),
        }
    }
    if end < outcome.rows.len() {
        wire.feed(Out::PortalSuspended(PortalSuspended::new()))
            .await?;
        portal.pending = Some((outcome, end));
    } else {
        // A resumed query's tag counts the rows of this Execute.
        let tag = match outcome.tag.strip_prefix("SELECT ") {
            Some(_) if resumed => format!("SELECT {}", end - sent),
            _ => outcome.tag.clone(),
        };
        complete(wire, session, tag).await?;
        // An exhausted portal answers no more rows.
        portal.pending = Some((
            Outcome {
                rows: Vec::new(),
                tag: outcome.tag,
            },
            0,
        ));
    }
    session.portals.insert(name, portal);
    Ok(Ok(()))
}

async fn on_close(wire: &mut Wire, session: &mut Session, close: Close) -> Step {
    let name = close.name.unwrap_or_default();
    if close.target_type == b'S' {
        session.statements.remove(&name);
    } else {
        session.portals.remove(&name);
    }
    wire.feed(Out::CloseComplete(CloseComplete::new())).await?;
    Ok(Ok(()))
}

/// Runs COPY, TRUNCATE, VACUUM or ANALYZE, and completes it.
async fn run_utility(wire: &mut Wire, session: &mut Session, utility: &Utility) -> Step {
    match utility::run(wire, session, utility).await? {
        Ok(tag) => {
            complete(wire, session, tag).await?;
            Ok(Ok(()))
        }
        Err(error) => Ok(Err(error)),
    }
}

/// Whether the next message the client sent is a Sync.
fn sync_is_next(wire: &Wire) -> bool {
    wire.read_buffer().starts_with(&[b'S', 0, 0, 0, 4])
}
