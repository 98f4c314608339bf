//! How a [`Message`] travels: one frame is
//!
//! ```text
//! [version: u8 = 2][length: u32, big-endian][postcard-encoded Message: length bytes]
//! ```
//!
//! A datagram carries exactly one frame; a stream carries frames back to
//! back until it is finished. Every length is checked against
//! [`MAX_FRAME`] before anything is allocated for it, and a frame whose
//! body does not decode into exactly one message is rejected whole.

use bytes::Bytes;
use quinn::{RecvStream, SendStream};

use crate::message::Message;

/// The frame format version this node writes and accepts. Nodes of
/// different versions refuse each other's frames whole. 2: change sets
/// carry the primary key of each table they name.
pub const VERSION: u8 = 2;

/// Bytes before the body: the version and the length.
pub const HEADER_LEN: usize = 5;

/// The largest body a frame may carry (16 MiB). Change sets larger than
/// this are split into parts by the sender (see [`crate::message::Chunk`]).
pub const MAX_FRAME: usize = 16 * 1024 * 1024;

/// How much of a body is buffered before the first bytes arrive; the
/// buffer then grows with the data actually received, never past the
/// length the header announced.
const INITIAL_BODY_CAPACITY: usize = 64 * 1024;

#[derive(Debug, thiserror::Error)]
pub enum WireError {
    #[error("unsupported frame version {0} (this node speaks version {VERSION})")]
    UnsupportedVersion(u8),
    #[error("frame body of {len} bytes exceeds the limit of {MAX_FRAME} bytes")]
    TooLarge { len: usize },
    #[error("truncated frame: expected {expected} bytes, got {got}")]
    Truncated { expected: usize, got: usize },
    #[error("malformed frame: {0}")]
    Malformed(#[source] postcard::Error),
    #[error("malformed frame: {extra} bytes after the message")]
    TrailingBytes { extra: usize },
    #[error("encoding a message: {0}")]
    Encode(#[source] postcard::Error),
    #[error("reading a frame: {0}")]
    Read(#[from] quinn::ReadError),
    #[error("writing a frame: {0}")]
    Write(#[from] quinn::WriteError),
}

/// Encodes `message` as one whole frame.
pub fn encode(message: &Message) -> Result<Vec<u8>, WireError> {
    let mut frame = Vec::with_capacity(64);
    frame.extend_from_slice(&[VERSION, 0, 0, 0, 0]);
    let mut frame = postcard::to_extend(message, frame).map_err(WireError::Encode)?;
    let len = frame.len() - HEADER_LEN;
    if len > MAX_FRAME {
        return Err(WireError::TooLarge { len });
    }
    // MAX_FRAME fits in a u32, so the conversion cannot fail after the check.
    let len = u32::try_from(len).map_err(|_| WireError::TooLarge { len })?;
    frame[1..HEADER_LEN].copy_from_slice(&len.to_be_bytes());
    Ok(frame)
}

/// Decodes exactly one whole frame: the version is known, the length
/// field equals the bytes that follow, and the body decodes into one
/// message with nothing left over.
pub fn decode(bytes: &[u8]) -> Result<Message, WireError> {
    let Some((header, body)) = bytes.split_first_chunk::<HEADER_LEN>() else {
        return Err(WireError::Truncated {
            expected: HEADER_LEN,
            got: bytes.len(),
        });
    };
    let len = check_header(header)?;
    if body.len() < len {
        return Err(WireError::Truncated {
            expected: HEADER_LEN + len,
            got: bytes.len(),
        });
    }
    if body.len() > len {
        return Err(WireError::TrailingBytes {
            extra: body.len() - len,
        });
    }
    decode_body(body)
}

/// Reads the next frame from a stream. `Ok(None)` when the stream ended
/// cleanly between frames; a stream that ends inside a frame is
/// [`WireError::Truncated`].
pub async fn read_frame(recv: &mut RecvStream) -> Result<Option<Message>, WireError> {
    Ok(read_frame_sized(recv).await?.map(|(message, _)| message))
}

/// [`read_frame`], also returning the frame's size in bytes.
pub(crate) async fn read_frame_sized(
    recv: &mut RecvStream,
) -> Result<Option<(Message, usize)>, WireError> {
    let mut header = [0u8; HEADER_LEN];
    let mut filled = 0;
    while filled < HEADER_LEN {
        match recv.read(&mut header[filled..]).await? {
            Some(n) => filled += n,
            None if filled == 0 => return Ok(None),
            None => {
                return Err(WireError::Truncated {
                    expected: HEADER_LEN,
                    got: filled,
                });
            }
        }
    }
    let len = check_header(&header)?;
    let mut body: Vec<u8> = Vec::with_capacity(len.min(INITIAL_BODY_CAPACITY));
    while body.len() < len {
        let Some(chunk) = recv.read_chunk(len - body.len(), true).await? else {
            return Err(WireError::Truncated {
                expected: HEADER_LEN + len,
                got: HEADER_LEN + body.len(),
            });
        };
        let needed = body.len() + chunk.bytes.len();
        if needed > body.capacity() {
            // Grow geometrically with what arrived, capped at the checked length.
            let target = body.capacity().saturating_mul(2).max(needed).min(len);
            body.reserve_exact(target - body.len());
        }
        body.extend_from_slice(&chunk.bytes);
    }
    decode_body(&body).map(|message| Some((message, HEADER_LEN + len)))
}

/// Writes one frame to a stream (without finishing it).
/// Returns the frame's length in bytes.
pub async fn write_frame(send: &mut SendStream, message: &Message) -> Result<usize, WireError> {
    let frame = encode(message)?;
    let len = frame.len();
    send.write_chunk(Bytes::from(frame)).await?;
    Ok(len)
}

/// Checks the version and the announced length; returns the body length.
fn check_header(header: &[u8; HEADER_LEN]) -> Result<usize, WireError> {
    let [version, len @ ..] = *header;
    if version != VERSION {
        return Err(WireError::UnsupportedVersion(version));
    }
    let len = u32::from_be_bytes(len) as usize;
    if len > MAX_FRAME {
        return Err(WireError::TooLarge { len });
    }
    Ok(len)
}

fn decode_body(body: &[u8]) -> Result<Message, WireError> {
    let (message, rest) = postcard::take_from_bytes(body).map_err(WireError::Malformed)?;
    if !rest.is_empty() {
        return Err(WireError::TrailingBytes { extra: rest.len() });
    }
    Ok(message)
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use patina_store::{Change, SiteId, SiteProgress, Value};
    use rand::rngs::SmallRng;
    use rand::{Rng, SeedableRng};

    use super::*;
    use crate::message::Chunk;
    use crate::sync::SyncState;

    fn samples() -> Vec<Message> {
        let site = SiteId([7; 16]);
        let change = Change {
            table: "users".into(),
            pk: vec![Value::Integer(42), Value::Text("k".into())],
            column: Some("name".into()),
            value: Value::Blob(vec![1, 2, 3]),
            col_version: 3,
            causal_length: 1,
            seq: 0,
        };
        let mut sites = BTreeMap::new();
        sites.insert(
            site,
            SiteProgress {
                max_version: 10,
                gaps: vec![2..=3, 7..=7],
            },
        );
        vec![
            Message::Swim(vec![0xAB; 100]),
            Message::Swim(Vec::new()),
            Message::Broadcast(vec![
                Chunk::Changes {
                    site,
                    version: 9,
                    part: 0,
                    parts: 1,
                    changes: vec![change.clone(), change],
                    keys: [("users".to_owned(), vec!["id".to_owned(), "k".to_owned()])].into(),
                },
                Chunk::Cleared {
                    site,
                    versions: 1..=4,
                },
            ]),
            Message::SyncRequest(SyncState { sites }),
            Message::SyncChunks(Vec::new()),
            Message::SyncBusy,
        ]
    }

    #[test]
    fn frames_round_trip() {
        for message in samples() {
            let frame = encode(&message).expect("encodes");
            assert_eq!(frame[0], VERSION);
            let len = u32::from_be_bytes(frame[1..5].try_into().expect("4 bytes")) as usize;
            assert_eq!(len, frame.len() - HEADER_LEN);
            assert_eq!(decode(&frame).expect("decodes"), message);
        }
    }

    #[test]
    fn unknown_version_is_rejected() {
        let mut frame = encode(&Message::SyncBusy).expect("encodes");
        for old in [1, 3] {
            frame[0] = old;
            assert!(matches!(
                decode(&frame),
                Err(WireError::UnsupportedVersion(v)) if v == old
            ));
        }
    }

    #[test]
    fn oversized_length_is_rejected_before_the_body() {
        let mut frame = vec![VERSION];
        frame.extend_from_slice(&u32::MAX.to_be_bytes());
        assert!(matches!(decode(&frame), Err(WireError::TooLarge { .. })));
        let too_big = Message::Swim(vec![0; MAX_FRAME + 1]);
        assert!(matches!(encode(&too_big), Err(WireError::TooLarge { .. })));
    }

    #[test]
    fn truncated_and_padded_frames_are_rejected() {
        let frame = encode(&Message::Swim(vec![1; 50])).expect("encodes");
        for cut in 0..frame.len() {
            assert!(
                matches!(decode(&frame[..cut]), Err(WireError::Truncated { .. })),
                "cut at {cut}"
            );
        }
        let mut padded = frame.clone();
        padded.push(0);
        assert!(matches!(
            decode(&padded),
            Err(WireError::TrailingBytes { extra: 1 })
        ));
    }

    #[test]
    fn body_with_bytes_after_the_message_is_rejected() {
        // A valid SyncBusy body followed by one extra byte, with a length
        // field that covers both.
        let body = postcard::to_allocvec(&Message::SyncBusy).expect("encodes");
        let mut frame = vec![VERSION];
        frame.extend_from_slice(&((body.len() + 1) as u32).to_be_bytes());
        frame.extend_from_slice(&body);
        frame.push(0);
        assert!(matches!(
            decode(&frame),
            Err(WireError::TrailingBytes { extra: 1 })
        ));
    }

    #[test]
    fn garbage_body_is_malformed() {
        let mut frame = vec![VERSION, 0, 0, 0, 1, 0xFF];
        assert!(matches!(decode(&frame), Err(WireError::Malformed(_))));
        frame.truncate(HEADER_LEN);
        frame[4] = 0;
        assert!(matches!(decode(&frame), Err(WireError::Malformed(_))));
    }

    /// Random and mutated bytes never panic the decoder, and whatever it
    /// accepts round-trips.
    #[test]
    fn fuzzed_frames_never_panic() {
        let seed = 0x5eed_f00d;
        let mut rng = SmallRng::seed_from_u64(seed);
        let valid: Vec<Vec<u8>> = samples()
            .iter()
            .map(|m| encode(m).expect("encodes"))
            .collect();
        for round in 0..20_000 {
            let bytes = match round % 3 {
                0 => {
                    let len = rng.random_range(0..64);
                    let mut bytes = vec![0u8; len];
                    rng.fill(&mut bytes[..]);
                    if len > 0 && rng.random_bool(0.5) {
                        bytes[0] = VERSION;
                    }
                    bytes
                }
                _ => {
                    let mut bytes = valid[rng.random_range(0..valid.len())].clone();
                    for _ in 0..rng.random_range(1..4) {
                        match rng.random_range(0..4) {
                            0 if !bytes.is_empty() => {
                                let i = rng.random_range(0..bytes.len());
                                bytes[i] = rng.random();
                            }
                            1 if !bytes.is_empty() => {
                                let i = rng.random_range(0..bytes.len());
                                bytes[i] ^= 1 << rng.random_range(0..8);
                            }
                            2 => {
                                let cut = rng.random_range(0..=bytes.len());
                                bytes.truncate(cut);
                            }
                            _ => bytes.push(rng.random()),
                        }
                    }
                    // Often fix the length up, so the mutated body reaches
                    // the postcard decoder instead of the length check.
                    if bytes.len() >= HEADER_LEN && rng.random_bool(0.5) {
                        let len = (bytes.len() - HEADER_LEN) as u32;
                        bytes[1..HEADER_LEN].copy_from_slice(&len.to_be_bytes());
                    }
                    bytes
                }
            };
            // Postcard accepts overlong varints, so an accepted frame need
            // not be canonical; its message must still round-trip.
            if let Ok(message) = decode(&bytes) {
                let again = encode(&message).expect("re-encodes");
                assert_eq!(
                    decode(&again).expect("decodes"),
                    message,
                    "seed {seed:#x}, round {round}"
                );
            }
        }
    }
}
