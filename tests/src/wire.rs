//! A raw PostgreSQL wire client, for tests that send what no driver would:
//! hand-built (or deliberately broken) frontend messages, and every backend
//! message read back and checked for shape.
//!
//! - [`frontend`]: builders for the frontend messages, as bytes;
//! - [`RawConn`]: a TCP connection that sends bytes and reads backend
//!   messages with a deadline;
//! - [`Backend`] / [`check_backend`]: a backend message and whether it is
//!   well formed (an ErrorResponse must carry a 5-character SQLSTATE).

use std::io;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// The largest backend message [`RawConn::recv`] accepts; anything bigger is
/// reported as a malformed answer rather than read.
const MAX_BACKEND_MESSAGE: usize = 64 << 20;

/// Builders of frontend messages (protocol 3.0), each returning the bytes of
/// one whole message.
pub mod frontend {
    /// A message with a type byte: `tag`, the length (itself included), `body`.
    pub fn message(tag: u8, body: &[u8]) -> Vec<u8> {
        let mut out = Vec::with_capacity(5 + body.len());
        out.push(tag);
        out.extend_from_slice(&(body.len() as i32 + 4).to_be_bytes());
        out.extend_from_slice(body);
        out
    }

    /// A message without a type byte (startup-phase): the length, then `body`.
    pub fn untyped(body: &[u8]) -> Vec<u8> {
        let mut out = Vec::with_capacity(4 + body.len());
        out.extend_from_slice(&(body.len() as i32 + 4).to_be_bytes());
        out.extend_from_slice(body);
        out
    }

    fn cstring(out: &mut Vec<u8>, s: &str) {
        out.extend_from_slice(s.as_bytes());
        out.push(0);
    }

    /// StartupMessage, protocol 3.0, with `user` and `database` postgres
    /// plus `extra` parameters.
    pub fn startup(extra: &[(&str, &str)]) -> Vec<u8> {
        let mut body = 196_608i32.to_be_bytes().to_vec();
        for (k, v) in [("user", "postgres"), ("database", "postgres")]
            .iter()
            .chain(extra)
        {
            cstring(&mut body, k);
            cstring(&mut body, v);
        }
        body.push(0);
        untyped(&body)
    }

    pub fn ssl_request() -> Vec<u8> {
        untyped(&80_877_103i32.to_be_bytes())
    }

    pub fn gssenc_request() -> Vec<u8> {
        untyped(&80_877_104i32.to_be_bytes())
    }

    pub fn cancel_request(pid: i32, secret: i32) -> Vec<u8> {
        let mut body = 80_877_102i32.to_be_bytes().to_vec();
        body.extend_from_slice(&pid.to_be_bytes());
        body.extend_from_slice(&secret.to_be_bytes());
        untyped(&body)
    }

    pub fn query(sql: &str) -> Vec<u8> {
        let mut body = Vec::new();
        cstring(&mut body, sql);
        message(b'Q', &body)
    }

    pub fn parse(name: &str, sql: &str, oids: &[u32]) -> Vec<u8> {
        let mut body = Vec::new();
        cstring(&mut body, name);
        cstring(&mut body, sql);
        body.extend_from_slice(&(oids.len() as i16).to_be_bytes());
        for oid in oids {
            body.extend_from_slice(&oid.to_be_bytes());
        }
        message(b'P', &body)
    }

    /// Bind: parameter formats, values (`None` is NULL), result formats.
    pub fn bind(
        portal: &str,
        statement: &str,
        formats: &[i16],
        params: &[Option<Vec<u8>>],
        result_formats: &[i16],
    ) -> Vec<u8> {
        let mut body = Vec::new();
        cstring(&mut body, portal);
        cstring(&mut body, statement);
        body.extend_from_slice(&(formats.len() as i16).to_be_bytes());
        for f in formats {
            body.extend_from_slice(&f.to_be_bytes());
        }
        body.extend_from_slice(&(params.len() as i16).to_be_bytes());
        for p in params {
            match p {
                Some(bytes) => {
                    body.extend_from_slice(&(bytes.len() as i32).to_be_bytes());
                    body.extend_from_slice(bytes);
                }
                None => body.extend_from_slice(&(-1i32).to_be_bytes()),
            }
        }
        body.extend_from_slice(&(result_formats.len() as i16).to_be_bytes());
        for f in result_formats {
            body.extend_from_slice(&f.to_be_bytes());
        }
        message(b'B', &body)
    }

    /// Describe of a statement (`b'S'`) or a portal (`b'P'`).
    pub fn describe(kind: u8, name: &str) -> Vec<u8> {
        let mut body = vec![kind];
        cstring(&mut body, name);
        message(b'D', &body)
    }

    pub fn execute(portal: &str, max_rows: i32) -> Vec<u8> {
        let mut body = Vec::new();
        cstring(&mut body, portal);
        body.extend_from_slice(&max_rows.to_be_bytes());
        message(b'E', &body)
    }

    /// Close of a statement (`b'S'`) or a portal (`b'P'`).
    pub fn close(kind: u8, name: &str) -> Vec<u8> {
        let mut body = vec![kind];
        cstring(&mut body, name);
        message(b'C', &body)
    }

    pub fn sync() -> Vec<u8> {
        message(b'S', &[])
    }

    pub fn flush() -> Vec<u8> {
        message(b'H', &[])
    }

    pub fn terminate() -> Vec<u8> {
        message(b'X', &[])
    }
}

/// One backend message, or the end of the stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Backend {
    Message {
        tag: u8,
        body: Vec<u8>,
    },
    /// The server closed the connection (or reset it).
    Eof,
}

impl Backend {
    pub fn tag(&self) -> Option<u8> {
        match self {
            Backend::Message { tag, .. } => Some(*tag),
            Backend::Eof => None,
        }
    }

    /// The fields of an ErrorResponse or NoticeResponse, by code byte.
    pub fn fields(&self) -> Vec<(u8, String)> {
        match self {
            Backend::Message {
                tag: b'E' | b'N',
                body,
            } => error_fields(body),
            _ => Vec::new(),
        }
    }

    /// An ErrorResponse's SQLSTATE.
    pub fn sqlstate(&self) -> Option<String> {
        match self.tag() {
            Some(b'E') => self
                .fields()
                .into_iter()
                .find(|(code, _)| *code == b'C')
                .map(|(_, v)| v),
            _ => None,
        }
    }

    /// An ErrorResponse as `SQLSTATE: message`.
    pub fn describe_error(&self) -> Option<String> {
        let fields = self.fields();
        let get = |c: u8| {
            fields
                .iter()
                .find(|(code, _)| *code == c)
                .map_or("", |(_, v)| v.as_str())
        };
        (self.tag() == Some(b'E')).then(|| format!("{}: {}", get(b'C'), get(b'M')))
    }

    /// The text of the columns of a DataRow (`None` for NULL); empty for
    /// any other message.
    pub fn data_row_text(&self) -> Vec<Option<String>> {
        let Backend::Message { tag: b'D', body } = self else {
            return Vec::new();
        };
        let mut r = Reader(body);
        let mut out = Vec::new();
        let n = r.i16().unwrap_or(0);
        for _ in 0..n {
            match r.i32() {
                Some(len) if len >= 0 => out.push(
                    r.bytes(len as usize)
                        .map(|b| String::from_utf8_lossy(b).into_owned()),
                ),
                _ => out.push(None),
            }
        }
        out
    }
}

impl std::fmt::Display for Backend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Backend::Eof => f.write_str("<eof>"),
            Backend::Message { tag, body } => {
                if let Some(e) = self.describe_error() {
                    return write!(f, "ErrorResponse({e})");
                }
                let shown: String = String::from_utf8_lossy(&body[..body.len().min(60)])
                    .chars()
                    .map(|c| if c.is_control() { '.' } else { c })
                    .collect();
                write!(f, "{}[{}]{shown:?}", *tag as char, body.len())
            }
        }
    }
}

fn error_fields(body: &[u8]) -> Vec<(u8, String)> {
    let mut out = Vec::new();
    let mut rest = body;
    while let Some((&code, tail)) = rest.split_first() {
        if code == 0 {
            break;
        }
        let end = tail.iter().position(|b| *b == 0).unwrap_or(tail.len());
        out.push((code, String::from_utf8_lossy(&tail[..end]).into_owned()));
        rest = tail.get(end + 1..).unwrap_or(&[]);
    }
    out
}

struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    fn bytes(&mut self, n: usize) -> Option<&'a [u8]> {
        if self.0.len() < n {
            return None;
        }
        let (head, tail) = self.0.split_at(n);
        self.0 = tail;
        Some(head)
    }
    fn i16(&mut self) -> Option<i16> {
        self.bytes(2).map(|b| i16::from_be_bytes([b[0], b[1]]))
    }
    fn i32(&mut self) -> Option<i32> {
        self.bytes(4)
            .map(|b| i32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    }
    fn cstring(&mut self) -> Option<&'a [u8]> {
        let end = self.0.iter().position(|b| *b == 0)?;
        let s = &self.0[..end];
        self.0 = &self.0[end + 1..];
        Some(s)
    }
    fn done(&self) -> bool {
        self.0.is_empty()
    }
}

/// Checks that a backend message is one the protocol knows and that its body
/// has the shape of its type; `Err` says what is wrong.
pub fn check_backend(message: &Backend) -> Result<(), String> {
    let Backend::Message { tag, body } = message else {
        return Ok(());
    };
    let mut r = Reader(body);
    let ok = match tag {
        b'1' | b'2' | b'3' | b'I' | b'n' | b's' => body.is_empty(),
        b'Z' => matches!(body.as_slice(), [b'I' | b'T' | b'E']),
        b'C' => r.cstring().is_some() && r.done(),
        b'R' => r.i32().is_some(),
        b'K' => r.i32().is_some() && r.i32().is_some(),
        b'S' => r.cstring().is_some() && r.cstring().is_some() && r.done(),
        b'A' => r.i32().is_some() && r.cstring().is_some() && r.cstring().is_some() && r.done(),
        b't' => match r.i16() {
            Some(n) if n >= 0 => (0..n).all(|_| r.i32().is_some()) && r.done(),
            _ => false,
        },
        b'T' => match r.i16() {
            Some(n) if n >= 0 => {
                (0..n).all(|_| {
                    r.cstring().is_some()
                        && r.i32().is_some()
                        && r.i16().is_some()
                        && r.i32().is_some()
                        && r.i16().is_some()
                        && r.i32().is_some()
                        && matches!(r.i16(), Some(0 | 1))
                }) && r.done()
            }
            _ => false,
        },
        b'D' => match r.i16() {
            Some(n) if n >= 0 => {
                (0..n).all(|_| match r.i32() {
                    Some(-1) => true,
                    Some(len) if len >= 0 => r.bytes(len as usize).is_some(),
                    _ => false,
                }) && r.done()
            }
            _ => false,
        },
        // CopyInResponse, CopyOutResponse: format, columns, their formats
        b'G' | b'H' => {
            matches!(r.bytes(1), Some([0 | 1]))
                && match r.i16() {
                    Some(n) if n >= 0 => (0..n).all(|_| matches!(r.i16(), Some(0 | 1))) && r.done(),
                    _ => false,
                }
        }
        // CopyData, CopyDone
        b'd' => true,
        b'c' => body.is_empty(),
        b'E' | b'N' => {
            let fields = error_fields(body);
            let has = |c: u8| fields.iter().any(|(code, _)| *code == c);
            if !(has(b'S') && has(b'M') && has(b'C')) {
                return Err(format!("{} lacks S, C or M: {fields:?}", *tag as char));
            }
            let code = fields
                .iter()
                .find(|(c, _)| *c == b'C')
                .map_or("", |(_, v)| v.as_str());
            if !is_sqlstate(code) {
                return Err(format!("{} has a bad SQLSTATE {code:?}", *tag as char));
            }
            body.last() == Some(&0)
        }
        other => return Err(format!("unknown backend message type {:?}", *other as char)),
    };
    if ok {
        Ok(())
    } else {
        Err(format!("malformed backend message {message}"))
    }
}

/// Five characters, digits and upper-case letters: a SQLSTATE.
pub fn is_sqlstate(code: &str) -> bool {
    code.len() == 5
        && code
            .bytes()
            .all(|b| b.is_ascii_digit() || b.is_ascii_uppercase())
}

/// Why [`RawConn::recv`] returned no message.
#[derive(Debug)]
pub enum RecvError {
    /// Nothing complete arrived within the deadline.
    Timeout,
    /// The server sent something that is not a backend message frame.
    Malformed(String),
}

impl std::fmt::Display for RecvError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            RecvError::Timeout => f.write_str("no answer before the deadline"),
            RecvError::Malformed(why) => f.write_str(why),
        }
    }
}

/// A raw TCP connection speaking the wire protocol by hand.
#[derive(Debug)]
pub struct RawConn {
    stream: TcpStream,
    buf: Vec<u8>,
    eof: bool,
}

impl RawConn {
    /// Opens a TCP connection to `127.0.0.1:port` (no startup sent).
    pub async fn connect(port: u16) -> io::Result<RawConn> {
        let stream = TcpStream::connect(("127.0.0.1", port)).await?;
        stream.set_nodelay(true)?;
        Ok(RawConn {
            stream,
            buf: Vec::new(),
            eof: false,
        })
    }

    /// Connects and completes a startup as user postgres: reads up to the
    /// first ReadyForQuery. Returns the messages read.
    pub async fn connect_ready(port: u16, deadline: Duration) -> Result<RawConn, String> {
        let mut conn = RawConn::connect(port)
            .await
            .map_err(|e| format!("connecting: {e}"))?;
        conn.send(&frontend::startup(&[]))
            .await
            .map_err(|e| format!("sending the startup message: {e}"))?;
        let answer = conn.until_ready(deadline).await?;
        match answer.last() {
            Some(m) if m.tag() == Some(b'Z') => Ok(conn),
            _ => Err(format!("startup answered {}", show(&answer))),
        }
    }

    /// Sends bytes; a server that already closed is not an error here (the
    /// reads that follow see it).
    pub async fn send(&mut self, bytes: &[u8]) -> io::Result<()> {
        match self.stream.write_all(bytes).await {
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::BrokenPipe | io::ErrorKind::ConnectionReset
                ) =>
            {
                Ok(())
            }
            other => other,
        }
    }

    /// Closes the sending half: the server reads end-of-stream.
    pub async fn shutdown_write(&mut self) {
        let _ = self.stream.shutdown().await;
    }

    /// Whether the byte stream from the server has ended.
    pub fn at_eof(&self) -> bool {
        self.eof && self.buf.is_empty()
    }

    /// Reads one backend message, waiting at most `deadline`.
    pub async fn recv(&mut self, deadline: Duration) -> Result<Backend, RecvError> {
        let until = tokio::time::Instant::now() + deadline;
        loop {
            if self.buf.len() >= 5 {
                let len = i32::from_be_bytes([self.buf[1], self.buf[2], self.buf[3], self.buf[4]]);
                if len < 4 || len as usize > MAX_BACKEND_MESSAGE {
                    return Err(RecvError::Malformed(format!(
                        "backend message {:?} with length {len}",
                        self.buf[0] as char
                    )));
                }
                let total = 1 + len as usize;
                if self.buf.len() >= total {
                    let frame: Vec<u8> = self.buf.drain(..total).collect();
                    return Ok(Backend::Message {
                        tag: frame[0],
                        body: frame[5..].to_vec(),
                    });
                }
            }
            if self.eof {
                if self.buf.is_empty() {
                    return Ok(Backend::Eof);
                }
                return Err(RecvError::Malformed(format!(
                    "the stream ended inside a message ({} bytes left: {:?})",
                    self.buf.len(),
                    &self.buf[..self.buf.len().min(16)]
                )));
            }
            let mut chunk = [0u8; 16 * 1024];
            match tokio::time::timeout_at(until, self.stream.read(&mut chunk)).await {
                Err(_) => return Err(RecvError::Timeout),
                Ok(Ok(0)) | Ok(Err(_)) => self.eof = true,
                Ok(Ok(n)) => self.buf.extend_from_slice(&chunk[..n]),
            }
        }
    }

    /// Reads one raw byte (the answer to SSLRequest / GSSENCRequest).
    pub async fn recv_byte(&mut self, deadline: Duration) -> Result<Option<u8>, RecvError> {
        if !self.buf.is_empty() {
            return Ok(Some(self.buf.remove(0)));
        }
        if self.eof {
            return Ok(None);
        }
        let mut byte = [0u8; 1];
        match tokio::time::timeout(deadline, self.stream.read(&mut byte)).await {
            Err(_) => Err(RecvError::Timeout),
            Ok(Ok(0)) | Ok(Err(_)) => {
                self.eof = true;
                Ok(None)
            }
            Ok(Ok(_)) => Ok(Some(byte[0])),
        }
    }

    /// Reads messages until ReadyForQuery or the end of the stream (both
    /// included in the result), all within `deadline`; every message is
    /// checked with [`check_backend`].
    pub async fn until_ready(&mut self, deadline: Duration) -> Result<Vec<Backend>, String> {
        let until = tokio::time::Instant::now() + deadline;
        let mut out = Vec::new();
        loop {
            let left = until.saturating_duration_since(tokio::time::Instant::now());
            match self.recv(left).await {
                Ok(message) => {
                    check_backend(&message).map_err(|e| format!("{e} (after {})", show(&out)))?;
                    let end = matches!(message.tag(), None | Some(b'Z'));
                    out.push(message);
                    if end {
                        return Ok(out);
                    }
                }
                Err(e) => return Err(format!("{e} (after {})", show(&out))),
            }
        }
    }

    /// Runs `SELECT 1` by the simple protocol and checks the answer is one
    /// row holding 1, then ReadyForQuery.
    pub async fn select_one(&mut self, deadline: Duration) -> Result<(), String> {
        self.send(&frontend::query("SELECT 1"))
            .await
            .map_err(|e| format!("sending SELECT 1: {e}"))?;
        let answer = self.until_ready(deadline).await?;
        let rows: Vec<_> = answer
            .iter()
            .filter(|m| m.tag() == Some(b'D'))
            .map(Backend::data_row_text)
            .collect();
        let last = answer.last().and_then(Backend::tag);
        if rows == [vec![Some("1".to_owned())]] && last == Some(b'Z') {
            Ok(())
        } else {
            Err(format!("SELECT 1 answered {}", show(&answer)))
        }
    }
}

/// Messages as one line, for failure reports.
pub fn show(messages: &[Backend]) -> String {
    let shown: Vec<String> = messages.iter().map(ToString::to_string).collect();
    format!("[{}]", shown.join(", "))
}
