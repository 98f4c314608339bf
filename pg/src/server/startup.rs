//! A connection's start, up to its first ReadyForQuery: SSLRequest and
//! GSSENCRequest, the startup packet (or a CancelRequest, which needs no
//! slot), admission under the listener's connection limit,
//! authentication, and the session's opening messages.

use std::io;
use std::net::SocketAddr;
use std::time::Duration;

use futures::{SinkExt, StreamExt};
use pgwire::api::{ClientInfo, DefaultClient, PgWireConnectionState};
use pgwire::messages::response::{GssEncResponse, SslResponse};
use pgwire::messages::startup::{Authentication, BackendKeyData, ParameterStatus, SecretKey};
use pgwire::messages::{
    PgWireBackendMessage as Out, PgWireFrontendMessage as In, SslNegotiationMetaMessage as Ssl,
};
use pgwire::tokio::server::PgWireMessageServerCodec;
use tokio::net::TcpStream;
use tokio::sync::OwnedSemaphorePermit;
use tokio_util::codec::{Framed, FramedParts};

use super::auth;
use super::database::Database;
use super::errors::PgError;
use super::framing::Framing;
use super::listener::Listener;
use super::messages;
use super::session::Session;
use super::tls::Stream;

/// The connection while it starts, with pgwire's startup decoding.
pub(crate) type Handshake = Framed<Stream, PgWireMessageServerCodec<()>>;

/// The connection once started, as the message loop reads it.
pub(crate) type Wire = Framed<Stream, Framing>;

/// How long a client may take to say who it is and prove it (PostgreSQL's
/// `authentication_timeout`).
const STARTUP_TIMEOUT: Duration = Duration::from_secs(60);

/// A client let in: its connection, its session, and its slot under the
/// listener's limit, held until it is dropped.
#[derive(Debug)]
pub(crate) struct Started {
    pub wire: Wire,
    pub session: Session,
    pub slot: OwnedSemaphorePermit,
}

/// Starts a connection; `None` when it ended during the start (a cancel
/// request, a refusal the client was told of, a client that left).
pub(crate) async fn start(
    socket: TcpStream,
    db: Database,
    listener: &Listener,
) -> io::Result<Option<Started>> {
    let peer = socket.peer_addr()?;
    socket.set_nodelay(true)?;
    match tokio::time::timeout(STARTUP_TIMEOUT, handshake(socket, peer, db, listener)).await {
        Ok(started) => started,
        Err(_) => {
            tracing::debug!(%peer, "client took too long to start");
            Ok(None)
        }
    }
}

async fn handshake(
    socket: TcpStream,
    peer: SocketAddr,
    db: Database,
    listener: &Listener,
) -> io::Result<Option<Started>> {
    let Some(mut wire) = negotiate(socket, peer, listener).await? else {
        return Ok(None);
    };
    let startup = match wire.next().await {
        Some(Ok(In::Startup(startup))) => startup,
        // A CancelRequest comes on a connection of its own, which closes
        // without an answer.
        Some(Ok(In::CancelRequest(cancel))) => {
            if let Some(secret) = cancel.secret_key.as_i32() {
                db.interrupts().cancel(cancel.pid, secret);
            }
            return Ok(None);
        }
        _ => return Ok(None),
    };
    // Checked after the startup packet, as PostgreSQL does, so the client
    // reads the refusal as an ordinary error.
    let Ok(slot) = listener.slots.clone().try_acquire_owned() else {
        let error = PgError::new("53300", "sorry, too many clients already");
        wire.send(messages::fatal(&error)).await?;
        return Ok(None);
    };
    let user = startup
        .parameters
        .get("user")
        .cloned()
        .unwrap_or_else(|| "postgres".to_owned());
    wire.set_state(PgWireConnectionState::AuthenticationInProgress);
    // SCRAM binds to the TLS channel the client is on, if any.
    let binding = match (wire.get_ref(), &listener.tls) {
        (Stream::Tls(_), Some(tls)) => tls.end_point.as_deref(),
        _ => None,
    };
    if !auth::authenticate(&mut wire, listener, &user, peer, binding).await? {
        return Ok(None);
    }
    let mut session = match Session::new(db, &user) {
        Ok(session) => session,
        Err(error) => {
            wire.send(messages::fatal(&error)).await?;
            return Ok(None);
        }
    };
    session.settings.apply_startup(&startup.parameters);
    if listener.read_only {
        session.settings.force_read_only();
    }
    wire.feed(Out::Authentication(Authentication::Ok)).await?;
    for (name, value) in session.settings.reported() {
        wire.feed(Out::ParameterStatus(ParameterStatus::new(name, value)))
            .await?;
    }
    wire.feed(Out::BackendKeyData(BackendKeyData::new(
        session.pid,
        SecretKey::I32(session.secret),
    )))
    .await?;
    wire.send(messages::ready(session.txn)).await?;
    wire.set_state(PgWireConnectionState::ReadyForQuery);
    Ok(Some(Started {
        wire: wire.map_codec(Framing),
        session,
        slot,
    }))
}

/// Answers SSLRequest (`S` and TLS when the listener has a certificate,
/// `N` otherwise) and GSSENCRequest (`N`), in either order, until the
/// startup packet or a cancel request comes.
async fn negotiate(
    socket: TcpStream,
    peer: SocketAddr,
    listener: &Listener,
) -> io::Result<Option<Handshake>> {
    let codec = PgWireMessageServerCodec::new(DefaultClient::new(peer, false));
    let mut wire = Framed::new(socket, codec);
    let (mut ssl_answered, mut gss_answered) = (false, false);
    loop {
        match wire.next().await {
            Some(Ok(In::SslNegotiation(Ssl::PostgresSsl(_)))) if !ssl_answered => {
                ssl_answered = true;
                if listener.tls.is_some() {
                    wire.send(Out::SslResponse(SslResponse::Accept)).await?;
                    break;
                }
                wire.send(Out::SslResponse(SslResponse::Refuse)).await?;
            }
            Some(Ok(In::SslNegotiation(Ssl::PostgresGss(_)))) if !gss_answered => {
                gss_answered = true;
                wire.send(Out::GssEncResponse(GssEncResponse::Refuse))
                    .await?;
            }
            // The startup packet or a cancel request, left in the buffer.
            Some(Ok(In::SslNegotiation(Ssl::None))) => {
                let parts = wire.into_parts();
                let mut plain = FramedParts::new(Stream::Plain(parts.io), parts.codec);
                plain.read_buf = parts.read_buf;
                let mut wire = Framed::from_parts(plain);
                wire.set_state(PgWireConnectionState::AwaitingStartup);
                return Ok(Some(wire));
            }
            _ => return Ok(None),
        }
    }
    let parts = wire.into_parts();
    if !parts.read_buf.is_empty() {
        // Bytes sent before the TLS handshake could be injected by anyone
        // on the path (CVE-2021-23214).
        tracing::warn!(%peer, "received unencrypted data after SSL request");
        return Ok(None);
    }
    let Some(tls) = &listener.tls else {
        return Ok(None);
    };
    let tls = match tls.acceptor.accept(parts.io).await {
        Ok(tls) => tls,
        Err(error) => {
            tracing::debug!(%peer, %error, "TLS handshake failed");
            return Ok(None);
        }
    };
    let codec = PgWireMessageServerCodec::new(DefaultClient::new(peer, true));
    let mut wire = Framed::new(Stream::Tls(Box::new(tls)), codec);
    wire.set_state(PgWireConnectionState::AwaitingStartup);
    Ok(Some(wire))
}
