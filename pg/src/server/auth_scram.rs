//! The SCRAM-SHA-256 exchange (RFC 5802 and 7677) as PostgreSQL runs it:
//! the user name in the SCRAM messages is ignored (the startup packet's
//! counts), and over TLS SCRAM-SHA-256-PLUS is offered too, binding the
//! exchange to the server certificate (`tls-server-end-point`).

use std::io;

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use bytes::Bytes;
use futures::SinkExt;
use pgwire::messages::PgWireBackendMessage as Out;
use pgwire::messages::startup::{Authentication, PasswordMessageFamily};
use subtle::ConstantTimeEq;

use super::auth::{Refusal, malformed, next_password};
use super::errors::PgError;
use super::password::{self, ScramSecret};
use super::startup::Handshake;

const SCRAM: &str = "SCRAM-SHA-256";
const SCRAM_PLUS: &str = "SCRAM-SHA-256-PLUS";
const END_POINT: &str = "tls-server-end-point";
/// Random bytes of the server's nonce (PostgreSQL's `SCRAM_RAW_NONCE_LEN`).
const NONCE_LEN: usize = 18;

/// The exchange against `secret`: SASL request, client-first,
/// server-first, client-final, server-final. `binding` is the TLS
/// channel's `tls-server-end-point` data, when the client is on TLS.
pub(super) async fn scram(
    wire: &mut Handshake,
    secret: &ScramSecret,
    binding: Option<&[u8]>,
) -> io::Result<Result<(), Refusal>> {
    let mut mechanisms = vec![SCRAM.to_owned()];
    if binding.is_some() {
        mechanisms.insert(0, SCRAM_PLUS.to_owned());
    }
    wire.send(Out::Authentication(Authentication::SASL(mechanisms)))
        .await?;
    let message = match next_password(wire).await? {
        Ok(message) => message,
        Err(refusal) => return Ok(Err(refusal)),
    };
    let PasswordMessageFamily::Raw(body) = message else {
        return Ok(Err(malformed("expected a SASLInitialResponse")));
    };
    let (mechanism, data) = match sasl_initial_response(&body) {
        Ok(read) => read,
        Err(message) => return Ok(Err(Refusal::Malformed(PgError::protocol(message)))),
    };
    let plus = match mechanism {
        m if m == SCRAM.as_bytes() => false,
        m if m == SCRAM_PLUS.as_bytes() && binding.is_some() => true,
        _ => {
            return Ok(Err(Refusal::Malformed(PgError::protocol(
                "client selected an invalid SASL authentication mechanism",
            ))));
        }
    };
    let first = match data.map(|data| ClientFirst::parse(data, plus, binding.is_some())) {
        Some(Ok(first)) => first,
        Some(Err(refusal)) => return Ok(Err(refusal)),
        None => return Ok(Err(malformed("the client-first-message is missing"))),
    };

    let mut random = [0; NONCE_LEN];
    password::fill_random(&mut random);
    let nonce = format!("{}{}", first.nonce, BASE64.encode(random));
    let server_first = format!(
        "r={nonce},s={},i={}",
        BASE64.encode(&secret.salt),
        secret.iterations
    );
    wire.send(Out::Authentication(Authentication::SASLContinue(
        Bytes::from(server_first.clone()),
    )))
    .await?;

    let message = match next_password(wire).await? {
        Ok(message) => message,
        Err(refusal) => return Ok(Err(refusal)),
    };
    let Ok(response) = message.into_sasl_response() else {
        return Ok(Err(malformed("expected a SASLResponse")));
    };
    // What `c=` must carry: the GS2 header, then the channel's data.
    let mut channel = first.gs2_header.clone().into_bytes();
    if plus {
        channel.extend_from_slice(binding.unwrap_or_default());
    }
    let last = match ClientFinal::parse(&response.data, &channel, &nonce) {
        Ok(last) => last,
        Err(refusal) => return Ok(Err(refusal)),
    };

    let auth_message = format!("{},{server_first},{}", first.bare, last.without_proof);
    let signature = password::hmac_of(&secret.stored_key, auth_message.as_bytes());
    let mut client_key = last.proof;
    for (key, sig) in client_key.iter_mut().zip(signature) {
        *key ^= sig;
    }
    let matches = password::digest_of(&client_key).ct_eq(&secret.stored_key);
    if !bool::from(matches) {
        return Ok(Err(Refusal::Failed));
    }
    let server_signature = password::hmac_of(&secret.server_key, auth_message.as_bytes());
    let server_final = format!("v={}", BASE64.encode(server_signature));
    wire.feed(Out::Authentication(Authentication::SASLFinal(Bytes::from(
        server_final,
    ))))
    .await?;
    Ok(Ok(()))
}

/// A SASLInitialResponse's body: the mechanism's name, and the data
/// (absent for length -1), or PostgreSQL's complaint about its format.
/// Read here, with every length checked, because pgwire's decoder panics
/// on one that runs past the message.
fn sasl_initial_response(body: &[u8]) -> Result<(&[u8], Option<&[u8]>), &'static str> {
    const SHORT: &str = "insufficient data left in message";
    let end = body.iter().position(|b| *b == 0).ok_or(SHORT)?;
    let (mechanism, rest) = (&body[..end], &body[end + 1..]);
    let (len, data) = rest.split_first_chunk::<4>().ok_or(SHORT)?;
    let len = match i32::from_be_bytes(*len) {
        -1 => None,
        len => Some(usize::try_from(len).map_err(|_| SHORT)?),
    };
    match len {
        Some(len) if len > data.len() => Err(SHORT),
        Some(len) if len == data.len() => Ok((mechanism, Some(data))),
        None if data.is_empty() => Ok((mechanism, None)),
        _ => Err("invalid message format"),
    }
}

/// `gs2-header client-first-message-bare`.
struct ClientFirst {
    /// `n,,`, `y,,` or `p=tls-server-end-point,,`: the client-final-message
    /// repeats it in `c=`.
    gs2_header: String,
    bare: String,
    nonce: String,
}

impl ClientFirst {
    /// `plus`: the client chose SCRAM-SHA-256-PLUS; `offered`: the server
    /// offered it.
    fn parse(data: &[u8], plus: bool, offered: bool) -> Result<ClientFirst, Refusal> {
        let text = std::str::from_utf8(data).map_err(|_| malformed("not UTF-8"))?;
        let mut parts = text.splitn(3, ',');
        let (Some(flag), Some(authzid), Some(bare)) = (parts.next(), parts.next(), parts.next())
        else {
            return Err(malformed("the GS2 header is incomplete"));
        };
        let without_data = "The client selected SCRAM-SHA-256-PLUS, but the SCRAM message does not include channel binding data.";
        match flag {
            "n" | "y" if plus => return Err(malformed(without_data)),
            "n" => {}
            // The client could bind, but saw no SCRAM-SHA-256-PLUS: someone
            // on the way may have removed it.
            "y" if offered => {
                let mut error = PgError::protocol("SCRAM channel binding negotiation error");
                error.fields.push((
                    b'D',
                    "The client supports SCRAM channel binding but thinks the server does not.  However, this server does support channel binding.".to_owned(),
                ));
                return Err(Refusal::Malformed(error));
            }
            "y" => {}
            _ => match flag.strip_prefix("p=") {
                None => return Err(malformed("unexpected channel-binding flag")),
                Some(_) if !plus => {
                    return Err(malformed(
                        "The client selected SCRAM-SHA-256 without channel binding, but the SCRAM message includes channel binding data.",
                    ));
                }
                Some(END_POINT) => {}
                Some(other) => {
                    return Err(Refusal::Malformed(PgError::protocol(format!(
                        "unsupported SCRAM channel-binding type \"{other}\""
                    ))));
                }
            },
        }
        if !authzid.is_empty() {
            return Err(Refusal::Malformed(PgError::new(
                "0A000",
                "client uses authorization identity, but it is not supported",
            )));
        }
        let mut attributes = bare.split(',');
        if !attributes.next().is_some_and(|a| a.starts_with("n=")) {
            return Err(malformed("expected the attribute \"n\""));
        }
        let nonce = attributes
            .next()
            .and_then(|a| a.strip_prefix("r="))
            .filter(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_graphic()))
            .ok_or_else(|| malformed("expected the attribute \"r\""))?;
        Ok(ClientFirst {
            gs2_header: format!("{flag},{authzid},"),
            bare: bare.to_owned(),
            nonce: nonce.to_owned(),
        })
    }
}

/// `c=<channel binding>,r=<nonce>,p=<proof>`.
struct ClientFinal {
    without_proof: String,
    proof: [u8; 32],
}

impl ClientFinal {
    fn parse(data: &[u8], channel: &[u8], nonce: &str) -> Result<ClientFinal, Refusal> {
        let text = std::str::from_utf8(data).map_err(|_| malformed("not UTF-8"))?;
        let (without_proof, proof) = text
            .rsplit_once(",p=")
            .ok_or_else(|| malformed("Proof not found at the end of client-final-message."))?;
        let mut attributes = without_proof.split(',');
        let binding = attributes
            .next()
            .and_then(|a| a.strip_prefix("c="))
            .and_then(|c| BASE64.decode(c).ok())
            .ok_or_else(|| malformed("expected the attribute \"c\""))?;
        if !bool::from(binding.ct_eq(channel)) {
            return Err(Refusal::Malformed(PgError::protocol(
                "SCRAM channel binding check failed",
            )));
        }
        if attributes.next().and_then(|a| a.strip_prefix("r=")) != Some(nonce) {
            return Err(malformed("Nonce does not match."));
        }
        let proof = BASE64
            .decode(proof)
            .ok()
            .and_then(|p| <[u8; 32]>::try_from(p).ok())
            .ok_or_else(|| malformed("Malformed proof in client-final-message."))?;
        Ok(ClientFinal {
            without_proof: without_proof.to_owned(),
            proof,
        })
    }
}
