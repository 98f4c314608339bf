//! Password authentication of a client that has sent its startup packet:
//! the SCRAM-SHA-256 exchange (`auth_scram`) or PostgreSQL's MD5
//! challenge, chosen as pg_hba's `scram-sha-256` and `md5` methods choose
//! them, and the refusals. A user who does not exist goes through a mock
//! SCRAM exchange and fails like a wrong password, so a client cannot tell
//! which users exist.

use std::io;
use std::net::SocketAddr;

use futures::{SinkExt, StreamExt};
use pgwire::messages::startup::{Authentication, PasswordMessageFamily};
use pgwire::messages::{PgWireBackendMessage as Out, PgWireFrontendMessage as In};
use subtle::ConstantTimeEq;

use super::auth_scram::scram;
use super::errors::PgError;
use super::listener::{AuthMethod, Listener};
use super::messages;
use super::password::{self, ScramSecret, Verifier};
use super::startup::Handshake;

/// How an exchange ended short of success.
pub(super) enum Refusal {
    /// Wrong password, unknown user: FATAL 28P01, logged.
    Failed,
    /// The client broke the protocol.
    Malformed(PgError),
    /// The client hung up (libpq does when it has no password to give).
    Gone,
}

/// Authenticates `user` as `listener` says; `binding` is the channel
/// binding data of the client's TLS connection, if any. On `false` the
/// client was told why and the connection ends.
pub(crate) async fn authenticate(
    wire: &mut Handshake,
    listener: &Listener,
    user: &str,
    peer: SocketAddr,
    binding: Option<&[u8]>,
) -> io::Result<bool> {
    let verifier = listener.users.get(user).map(|hash| hash.verifier());
    let result = match (listener.auth, verifier) {
        (AuthMethod::Trust, _) => return Ok(true),
        (AuthMethod::Md5, Some(Verifier::Md5(hex))) => md5(wire, hex).await?,
        (_, Some(Verifier::Scram(secret))) => scram(wire, secret, binding).await?,
        // Unknown users, and users whose verifier the method cannot use
        // (md5 under scram-sha-256), get an exchange that cannot succeed.
        (_, Some(Verifier::Md5(_)) | None) => scram(wire, &mock_secret(listener, user), binding)
            .await?
            .and(Err(Refusal::Failed)),
    };
    let error = match result {
        Ok(()) => return Ok(true),
        Err(Refusal::Gone) => {
            tracing::debug!(%user, %peer, "client left during authentication");
            return Ok(false);
        }
        Err(Refusal::Malformed(error)) => {
            tracing::warn!(%user, %peer, message = %error.message, "malformed authentication exchange");
            error
        }
        Err(Refusal::Failed) => {
            tracing::warn!(%user, %peer, "password authentication failed");
            PgError::new(
                "28P01",
                format!("password authentication failed for user \"{user}\""),
            )
        }
    };
    wire.send(messages::fatal(&error)).await?;
    Ok(false)
}

/// A secret no password matches, salted by the user name so that the
/// same unknown user always sees the same salt.
fn mock_secret(listener: &Listener, user: &str) -> ScramSecret {
    let salt = password::hmac_of(&listener.mock_key, user.as_bytes());
    ScramSecret {
        iterations: password::default_iterations(),
        salt: salt[..16].to_vec(),
        stored_key: password::hmac_of(&listener.mock_key, b"stored"),
        server_key: password::hmac_of(&listener.mock_key, b"server"),
    }
}

/// The next password-family message, or why there is none.
pub(super) async fn next_password(
    wire: &mut Handshake,
) -> io::Result<Result<PasswordMessageFamily, Refusal>> {
    Ok(match wire.next().await {
        Some(Ok(In::PasswordMessageFamily(message))) => Ok(message),
        Some(Ok(other)) => Err(Refusal::Malformed(PgError::protocol(format!(
            "expected password response, got message type {other:?}"
        )))),
        Some(Err(_)) | None => Err(Refusal::Gone),
    })
}

async fn md5(wire: &mut Handshake, hex: &str) -> io::Result<Result<(), Refusal>> {
    let mut salt = [0; 4];
    password::fill_random(&mut salt);
    wire.send(Out::Authentication(Authentication::MD5Password(
        salt.to_vec(),
    )))
    .await?;
    let message = match next_password(wire).await? {
        Ok(message) => message,
        Err(refusal) => return Ok(Err(refusal)),
    };
    let Ok(given) = message.into_password() else {
        return Ok(Err(Refusal::Malformed(PgError::protocol(
            "expected password response",
        ))));
    };
    let mut input = hex.as_bytes().to_vec();
    input.extend_from_slice(&salt);
    let expected = format!("md5{:x}", md5::compute(input));
    if bool::from(expected.as_bytes().ct_eq(given.password.as_bytes())) {
        Ok(Ok(()))
    } else {
        Ok(Err(Refusal::Failed))
    }
}

/// PostgreSQL's answer to a SCRAM message it cannot read.
pub(super) fn malformed(detail: &str) -> Refusal {
    let mut error = PgError::protocol("malformed SCRAM message");
    error.fields.push((b'D', detail.to_owned()));
    Refusal::Malformed(error)
}
