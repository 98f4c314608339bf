//! Building the backend messages that carry results and errors.

use bytes::BytesMut;
use pgwire::messages::PgWireBackendMessage;
use pgwire::messages::data::{DataRow, FieldDescription, RowDescription};
use pgwire::messages::response::{
    ErrorResponse, NoticeResponse, NotificationResponse, ReadyForQuery, TransactionStatus,
};
use rusqlite::types::Value;

use super::encode::{format_of, put_field};
use super::errors::PgError;
use super::notify::Notification;
use super::session::Txn;
use crate::translate::Column;
use crate::types::{PgType, Scalar};

/// `pg_type.typlen`: the fixed size of a type's values, -1 if variable.
fn type_size(ty: PgType) -> i16 {
    if ty.is_array() {
        return -1;
    }
    match ty.scalar() {
        Scalar::Name => 64,
        Scalar::Oid | Scalar::Regtype | Scalar::Regclass => 4,
        Scalar::Bool | Scalar::Char => 1,
        Scalar::Int2 => 2,
        Scalar::Int4 | Scalar::Float4 | Scalar::Date => 4,
        Scalar::Int8 | Scalar::Float8 | Scalar::Time | Scalar::Timestamp | Scalar::Timestamptz => 8,
        Scalar::Interval | Scalar::Uuid => 16,
        _ => -1,
    }
}

pub(crate) fn row_description(columns: &[Column], formats: &[i16]) -> PgWireBackendMessage {
    let fields = columns
        .iter()
        .enumerate()
        .map(|(i, c)| {
            FieldDescription::new(
                c.name.clone(),
                0,
                0,
                c.ty.oid(),
                type_size(c.ty),
                c.ty.typmod(),
                format_of(formats, i),
            )
        })
        .collect();
    PgWireBackendMessage::RowDescription(RowDescription::new(fields))
}

pub(crate) fn data_row(
    row: &[Value],
    columns: &[Column],
    formats: &[i16],
) -> Result<PgWireBackendMessage, PgError> {
    let mut data = BytesMut::with_capacity(row.len() * 8);
    for (i, value) in row.iter().enumerate() {
        let ty = columns.get(i).map_or(PgType::TEXT, |c| c.ty);
        put_field(&mut data, value, ty, format_of(formats, i))?;
    }
    Ok(PgWireBackendMessage::DataRow(DataRow::new(
        data,
        row.len() as i16,
    )))
}

pub(crate) fn error(error: &PgError) -> PgWireBackendMessage {
    error_with_severity(error, "ERROR")
}

/// An error that ends the connection.
pub(crate) fn fatal(error: &PgError) -> PgWireBackendMessage {
    // A client turned away: over the connection limit or failed authentication.
    if error.code == "53300" || error.code.starts_with("28") {
        metrics::counter!("patina_pg_connections_refused_total").increment(1);
    }
    error_with_severity(error, "FATAL")
}

fn error_with_severity(error: &PgError, severity: &str) -> PgWireBackendMessage {
    metrics::counter!("patina_pg_errors_total", "sqlstate" => error.code.clone()).increment(1);
    let mut fields = vec![
        (b'S', severity.to_owned()),
        (b'V', severity.to_owned()),
        (b'C', error.code.clone()),
        (b'M', error.message.clone()),
    ];
    fields.extend(error.fields.iter().cloned());
    PgWireBackendMessage::ErrorResponse(ErrorResponse::new(fields))
}

/// A notice (SQLSTATE 00000: what a procedure reports, a truncated
/// identifier) or a warning (anything else), sent as a NoticeResponse.
pub(crate) fn notice(warning: &PgError) -> PgWireBackendMessage {
    let severity = if matches!(warning.code.as_str(), "00000" | "42622") {
        "NOTICE"
    } else {
        "WARNING"
    };
    PgWireBackendMessage::NoticeResponse(NoticeResponse::new(vec![
        (b'S', severity.to_owned()),
        (b'V', severity.to_owned()),
        (b'C', warning.code.clone()),
        (b'M', warning.message.clone()),
    ]))
}

/// A NotificationResponse.
pub(crate) fn notification(notification: Notification) -> PgWireBackendMessage {
    PgWireBackendMessage::NotificationResponse(NotificationResponse::new(
        notification.pid,
        notification.channel,
        notification.payload,
    ))
}

pub(crate) fn ready(txn: Txn) -> PgWireBackendMessage {
    let status = match txn {
        Txn::Idle => TransactionStatus::Idle,
        Txn::Block => TransactionStatus::Transaction,
        Txn::Failed => TransactionStatus::Error,
    };
    PgWireBackendMessage::ReadyForQuery(ReadyForQuery::new(status))
}
