//! COPY … TO STDOUT, streamed: the query's rows are stepped through one by
//! one on the session's connection and each goes out as it comes, in a
//! CopyData message of its own as PostgreSQL sends them (psycopg 3's
//! `rows()` reads one row per message); the connection's writer buffers
//! and flushes them in batches, waiting on the socket when it is full, so
//! a table of any size goes out in bounded memory. As in PostgreSQL,
//! CopyOutResponse goes out once the query is planned, so an error while
//! it runs (a CancelRequest, the statement timeout, a division by zero)
//! follows some CopyData.

use std::io;

use bytes::Bytes;
use futures::{Sink, SinkExt, Stream};
use pgwire::error::PgWireError;
use pgwire::messages::copy::{CopyData, CopyDone, CopyOutResponse};
use pgwire::messages::{PgWireBackendMessage as Out, PgWireFrontendMessage as In};
use rusqlite::types::Value;

use super::copy::{CopyPlan, field, format_code};
use super::copy_format;
use super::encode::BINARY;
use super::errors::{self, PgError};
use super::interrupts::Reason;
use super::session::Session;
use crate::translate::{CopyFormat, ForceQuote, Header};

/// COPY TO STDOUT: the command tag. A failure fails the block it is in.
pub(super) async fn run<W>(
    wire: &mut W,
    session: &mut Session,
    plan: &CopyPlan,
) -> io::Result<Result<String, PgError>>
where
    W: Stream<Item = Result<In, PgWireError>> + Sink<Out, Error = io::Error> + Unpin,
{
    let result = stream(wire, session, plan).await?;
    if result.is_err() {
        session.fail();
    }
    Ok(result)
}

async fn stream<W>(
    wire: &mut W,
    session: &mut Session,
    plan: &CopyPlan,
) -> io::Result<Result<String, PgError>>
where
    W: Stream<Item = Result<In, PgWireError>> + Sink<Out, Error = io::Error> + Unpin,
{
    let Some(query) = &plan.query else {
        return Ok(Err(PgError::new("XX000", "COPY TO without a query")));
    };
    let (conn, running, timeout) = session.streaming_read();
    let guard = running.start(conn, timeout);
    if let Some(reason @ Reason::Terminate) = guard.interrupted() {
        return Ok(Err(PgError::new(reason.code(), reason.message())));
    }
    // An interrupted step reports why it was interrupted.
    let failed = |error: rusqlite::Error| {
        let error = errors::statement_error(conn, &query.sql, error);
        match guard.interrupted() {
            Some(reason) if error.code == "57014" => PgError::new(reason.code(), reason.message()),
            _ => error,
        }
    };
    let prepared =
        crate::catalog::ensure(conn, query.views).and_then(|()| conn.prepare_cached(&query.sql));
    let mut statement = match prepared {
        Ok(statement) => statement,
        Err(error) => return Ok(Err(failed(error))),
    };
    let width = statement.column_count();
    let format = format_code(plan);
    let columns = &plan.columns;
    wire.feed(Out::CopyOutResponse(CopyOutResponse::new(
        format,
        columns.len() as i16,
        vec![i16::from(format); columns.len()],
    )))
    .await?;
    let options = &plan.statement.options;
    let quoted: Vec<bool> = columns
        .iter()
        .map(|c| match &options.force_quote {
            ForceQuote::None => false,
            ForceQuote::All => true,
            ForceQuote::Columns(list) => list.contains(&c.name),
        })
        .collect();
    let mut out = Vec::new();
    if options.format == CopyFormat::Binary {
        copy_format::binary_header(&mut out);
    } else if options.header != Header::None {
        let names: Vec<String> = columns.iter().map(|c| c.name.clone()).collect();
        copy_format::encode_header(&mut out, options, &names);
    }
    let encoded = if format == 1 { BINARY } else { 0 };
    let mut rows = statement.raw_query();
    let mut count: u64 = 0;
    loop {
        let row = match rows.next() {
            Ok(Some(row)) => row,
            Ok(None) => break,
            Err(error) => return Ok(Err(failed(error))),
        };
        let mut fields = Vec::with_capacity(width);
        for (i, column) in columns.iter().enumerate().take(width) {
            let value = match row.get::<_, Value>(i) {
                Ok(value) => value,
                Err(error) => return Ok(Err(failed(error))),
            };
            match field(&value, column.ty, encoded) {
                Ok(bytes) => fields.push(bytes),
                Err(error) => return Ok(Err(error)),
            }
        }
        if options.format == CopyFormat::Binary {
            copy_format::encode_binary_row(&mut out, &fields);
        } else {
            let borrowed: Vec<Option<&[u8]>> = fields.iter().map(|f| f.as_deref()).collect();
            copy_format::encode_row(&mut out, options, &borrowed, &quoted);
        }
        count += 1;
        // the header, if any, goes with the first row
        wire.feed(Out::CopyData(CopyData::new(Bytes::from(std::mem::take(
            &mut out,
        )))))
        .await?;
    }
    if options.format == CopyFormat::Binary {
        out.extend_from_slice(&copy_format::BINARY_TRAILER);
    }
    if !out.is_empty() {
        wire.feed(Out::CopyData(CopyData::new(Bytes::from(out))))
            .await?;
    }
    wire.feed(Out::CopyDone(CopyDone::new())).await?;
    Ok(Ok(format!("COPY {count}")))
}
