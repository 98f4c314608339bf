//! Cutting the client's byte stream into messages, checked before pgwire
//! decodes them.

use std::io;

use bytes::BytesMut;
use pgwire::error::PgWireError;
use pgwire::messages::{PgWireBackendMessage as Out, PgWireFrontendMessage as In};
use pgwire::tokio::server::PgWireMessageServerCodec;
use tokio_util::codec::{Decoder, Encoder};

/// pgwire's decoders read a message's fields from the whole input buffer,
/// not from the message its length delimits: fields that do not add up to
/// the length make them read on into the next message, or panic when the
/// buffer runs out (a Bind whose parameter is longer than what follows, an
/// Execute without its row count, …). So every message is cut out by its
/// length and its fields checked first; a malformed one ends the connection
/// with an error, as PostgreSQL does ("invalid message format").
#[derive(Debug)]
pub(crate) struct Framing(pub PgWireMessageServerCodec<()>);

impl Decoder for Framing {
    type Item = In;
    type Error = PgWireError;

    fn decode(&mut self, src: &mut BytesMut) -> Result<Option<In>, PgWireError> {
        if src.len() < 5 {
            return Ok(None);
        }
        let malformed = || {
            PgWireError::IoError(io::Error::new(
                io::ErrorKind::InvalidData,
                "invalid message format",
            ))
        };
        let len = i32::from_be_bytes([src[1], src[2], src[3], src[4]]);
        let len = usize::try_from(len)
            .ok()
            .filter(|l| *l >= 4)
            .ok_or_else(malformed)?;
        if src.len() < 1 + len {
            // pgwire refuses unknown types and lengths over its limits
            // before the rest arrives.
            return self.0.decode(src);
        }
        let mut frame = src.split_to(1 + len);
        if !well_formed(frame[0], &frame[5..]) {
            return Err(malformed());
        }
        match self.0.decode(&mut frame)? {
            Some(message) if frame.is_empty() => Ok(Some(message)),
            _ => Err(malformed()),
        }
    }
}

impl Encoder<Out> for Framing {
    type Error = io::Error;

    fn encode(&mut self, item: Out, dst: &mut BytesMut) -> io::Result<()> {
        self.0.encode(item, dst)
    }
}

/// Whether the body of a message of type `tag` holds exactly its fields
/// (types pgwire checks well enough itself pass).
fn well_formed(tag: u8, body: &[u8]) -> bool {
    fn take<'a>(r: &mut &'a [u8], n: usize) -> Option<&'a [u8]> {
        let (head, tail) = (r.get(..n)?, r.get(n..)?);
        *r = tail;
        Some(head)
    }
    fn cstring(r: &mut &[u8]) -> bool {
        r.iter()
            .position(|b| *b == 0)
            .and_then(|end| take(r, end + 1))
            .is_some()
    }
    fn count(r: &mut &[u8]) -> Option<usize> {
        take(r, 2).map(|b| usize::from(u16::from_be_bytes([b[0], b[1]])))
    }
    fn counted(r: &mut &[u8], size: usize) -> bool {
        count(r).is_some_and(|n| take(r, n * size).is_some())
    }
    fn values(r: &mut &[u8]) -> bool {
        count(r).is_some_and(|n| {
            (0..n).all(
                |_| match take(r, 4).map(|b| i32::from_be_bytes([b[0], b[1], b[2], b[3]])) {
                    Some(-1) => true,
                    Some(len) => usize::try_from(len).is_ok_and(|len| take(r, len).is_some()),
                    None => false,
                },
            )
        })
    }
    let mut r = body;
    let fields = match tag {
        b'Q' => cstring(&mut r),
        b'P' => cstring(&mut r) && cstring(&mut r) && counted(&mut r, 4),
        b'B' => {
            cstring(&mut r)
                && cstring(&mut r)
                && counted(&mut r, 2)
                && values(&mut r)
                && counted(&mut r, 2)
        }
        b'D' | b'C' => take(&mut r, 1).is_some() && cstring(&mut r),
        b'E' => cstring(&mut r) && take(&mut r, 4).is_some(),
        b'S' | b'H' | b'X' => true,
        _ => return true,
    };
    fields && r.is_empty()
}
