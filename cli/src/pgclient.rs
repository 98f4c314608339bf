//! A small PostgreSQL client for `patina exec` and `patina query`: startup,
//! password authentication (cleartext, md5, SCRAM-SHA-256) and the simple
//! query protocol, with messages encoded and decoded by
//! `postgres-protocol`. tokio-postgres is not used because it keeps only
//! the row count of a CommandComplete, and these commands print the whole
//! command tag (`INSERT 0 1`, `CREATE TABLE`) as psql does.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

use bytes::BytesMut;
use fallible_iterator::FallibleIterator;
use postgres_protocol::authentication::md5_hash;
use postgres_protocol::authentication::sasl::{ChannelBinding, SCRAM_SHA_256, ScramSha256};
use postgres_protocol::message::backend::{ErrorFields, Message};
use postgres_protocol::message::frontend;

/// How long connecting may take before the node counts as unreachable.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    #[error(
        "cannot connect to the patina node at {addr}: {source} (is `patina agent` running \
         there? --addr or the config file's first [[pg]] addr says where)"
    )]
    Unreachable {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error("the connection to the node failed: {0}")]
    Io(#[from] std::io::Error),
    #[error("{0}")]
    Server(ServerError),
    #[error("the server asked for {0}, which this client does not support")]
    UnsupportedAuth(&'static str),
    #[error("the server needs a password: set PGPASSWORD")]
    NoPassword,
    #[error("unexpected message from the server during {0}")]
    Unexpected(&'static str),
    #[error("writing what the server sent failed: {0}")]
    Output(std::io::Error),
}

/// An ErrorResponse: its SQLSTATE and message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("ERROR {code}: {message}")]
pub struct ServerError {
    pub code: String,
    pub message: String,
    pub detail: Option<String>,
    pub hint: Option<String>,
}

/// Rows in the text format, NULL as `None`.
pub type Rows = Vec<Vec<Option<String>>>;

/// A column of a result: its name and type OID.
#[derive(Debug, Clone)]
pub struct Column {
    pub name: String,
    pub type_oid: u32,
}

/// What one statement of a query string returned.
#[derive(Debug, Clone)]
pub enum Outcome {
    /// A statement that returns rows (even none).
    Rows {
        columns: Vec<Column>,
        rows: Rows,
        tag: String,
    },
    /// A statement without rows: its command tag.
    Command(String),
}

/// The results of a query string: one per statement run, then the error
/// that stopped it, if any.
#[derive(Debug)]
pub struct Results {
    pub outcomes: Vec<Outcome>,
    pub error: Option<ServerError>,
    /// Notices and warnings the server sent, as `SEVERITY:  message`.
    pub notices: Vec<String>,
}

#[derive(Debug)]
pub struct Connection {
    socket: TcpStream,
    read: BytesMut,
}

impl Connection {
    /// Connects and authenticates as `user` to `database`.
    pub fn connect(
        addr: SocketAddr,
        user: &str,
        database: &str,
        password: Option<&str>,
    ) -> Result<Connection, ClientError> {
        let socket = TcpStream::connect_timeout(&addr, CONNECT_TIMEOUT)
            .map_err(|source| ClientError::Unreachable { addr, source })?;
        socket.set_nodelay(true)?;
        let mut connection = Connection {
            socket,
            read: BytesMut::new(),
        };
        let mut buf = BytesMut::new();
        frontend::startup_message(
            [
                ("user", user),
                ("database", database),
                ("application_name", "patina"),
                ("client_encoding", "UTF8"),
            ],
            &mut buf,
        )?;
        connection.send(&buf)?;
        connection.authenticate(user, password)?;
        Ok(connection)
    }

    fn authenticate(&mut self, user: &str, password: Option<&str>) -> Result<(), ClientError> {
        let mut scram: Option<ScramSha256> = None;
        loop {
            let mut buf = BytesMut::new();
            match self.receive()? {
                Message::AuthenticationOk => {}
                Message::AuthenticationCleartextPassword => {
                    let password = password.ok_or(ClientError::NoPassword)?;
                    frontend::password_message(password.as_bytes(), &mut buf)?;
                }
                Message::AuthenticationMd5Password(body) => {
                    let password = password.ok_or(ClientError::NoPassword)?;
                    let hash = md5_hash(user.as_bytes(), password.as_bytes(), body.salt());
                    frontend::password_message(hash.as_bytes(), &mut buf)?;
                }
                Message::AuthenticationSasl(body) => {
                    let password = password.ok_or(ClientError::NoPassword)?;
                    let mut mechanisms = body.mechanisms();
                    let mut offered = false;
                    while let Some(mechanism) = mechanisms.next()? {
                        offered |= mechanism == SCRAM_SHA_256;
                    }
                    if !offered {
                        return Err(ClientError::UnsupportedAuth(
                            "a SASL mechanism other than SCRAM-SHA-256",
                        ));
                    }
                    let exchange =
                        ScramSha256::new(password.as_bytes(), ChannelBinding::unsupported());
                    frontend::sasl_initial_response(SCRAM_SHA_256, exchange.message(), &mut buf)?;
                    scram = Some(exchange);
                }
                Message::AuthenticationSaslContinue(body) => {
                    let exchange = scram
                        .as_mut()
                        .ok_or(ClientError::Unexpected("authentication"))?;
                    exchange.update(body.data())?;
                    frontend::sasl_response(exchange.message(), &mut buf)?;
                }
                Message::AuthenticationSaslFinal(body) => {
                    let exchange = scram
                        .as_mut()
                        .ok_or(ClientError::Unexpected("authentication"))?;
                    exchange.finish(body.data())?;
                }
                Message::AuthenticationGss
                | Message::AuthenticationGssContinue(_)
                | Message::AuthenticationSspi => {
                    return Err(ClientError::UnsupportedAuth("GSSAPI/SSPI"));
                }
                Message::AuthenticationKerberosV5 => {
                    return Err(ClientError::UnsupportedAuth("Kerberos"));
                }
                Message::AuthenticationScmCredential => {
                    return Err(ClientError::UnsupportedAuth("SCM credentials"));
                }
                Message::ErrorResponse(body) => {
                    return Err(ClientError::Server(server_error(body.fields())?));
                }
                Message::ParameterStatus(_)
                | Message::BackendKeyData(_)
                | Message::NoticeResponse(_) => {}
                Message::ReadyForQuery(_) => return Ok(()),
                _ => return Err(ClientError::Unexpected("startup")),
            }
            if !buf.is_empty() {
                self.send(&buf)?;
            }
        }
    }

    /// Runs `sql` with the simple query protocol (all its statements, in
    /// one implicit transaction unless it says otherwise).
    pub fn simple_query(&mut self, sql: &str) -> Result<Results, ClientError> {
        let mut buf = BytesMut::new();
        frontend::query(sql, &mut buf)?;
        self.send(&buf)?;
        let mut results = Results {
            outcomes: Vec::new(),
            error: None,
            notices: Vec::new(),
        };
        let mut current: Option<(Vec<Column>, Rows)> = None;
        loop {
            match self.receive()? {
                Message::RowDescription(body) => {
                    let columns = body
                        .fields()
                        .map(|field| {
                            Ok(Column {
                                name: field.name().to_owned(),
                                type_oid: field.type_oid(),
                            })
                        })
                        .collect()?;
                    current = Some((columns, Vec::new()));
                }
                Message::DataRow(body) => {
                    let (_, rows) = current.as_mut().ok_or(ClientError::Unexpected("a query"))?;
                    let buffer = body.buffer();
                    let row = body
                        .ranges()
                        .map(|range| {
                            Ok(range
                                .map(|range| String::from_utf8_lossy(&buffer[range]).into_owned()))
                        })
                        .collect()?;
                    rows.push(row);
                }
                Message::CommandComplete(body) => {
                    let tag = body.tag()?.to_owned();
                    results.outcomes.push(match current.take() {
                        Some((columns, rows)) => Outcome::Rows { columns, rows, tag },
                        None => Outcome::Command(tag),
                    });
                }
                Message::EmptyQueryResponse => {}
                Message::ErrorResponse(body) => {
                    current = None;
                    results.error = Some(server_error(body.fields())?);
                }
                Message::NoticeResponse(body) => {
                    let notice = server_notice(body.fields())?;
                    results.notices.push(notice);
                }
                Message::ParameterStatus(_) | Message::NotificationResponse(_) => {}
                Message::ReadyForQuery(_) => return Ok(results),
                _ => return Err(ClientError::Unexpected("a query")),
            }
        }
    }

    /// Runs `COPY … TO STDOUT` (one statement) and writes its data to
    /// `out`: the bytes written, or the server's error.
    pub fn copy_out(
        &mut self,
        sql: &str,
        out: &mut dyn Write,
    ) -> Result<Result<u64, ServerError>, ClientError> {
        let mut buf = BytesMut::new();
        frontend::query(sql, &mut buf)?;
        self.send(&buf)?;
        let mut written = 0;
        let mut error = None;
        loop {
            match self.receive()? {
                Message::CopyOutResponse(_) | Message::CopyDone | Message::CommandComplete(_) => {}
                Message::CopyData(body) => {
                    out.write_all(body.data()).map_err(ClientError::Output)?;
                    written += body.data().len() as u64;
                }
                Message::ErrorResponse(body) => error = Some(server_error(body.fields())?),
                Message::NoticeResponse(_)
                | Message::ParameterStatus(_)
                | Message::NotificationResponse(_) => {}
                Message::ReadyForQuery(_) => return Ok(error.map_or(Ok(written), Err)),
                _ => return Err(ClientError::Unexpected("a COPY")),
            }
        }
    }

    /// Says goodbye to the server.
    pub fn close(mut self) {
        let mut buf = BytesMut::new();
        frontend::terminate(&mut buf);
        let _ = self.send(&buf);
    }

    fn send(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        self.socket.write_all(bytes)
    }

    fn receive(&mut self) -> Result<Message, ClientError> {
        loop {
            if let Some(message) = Message::parse(&mut self.read)? {
                return Ok(message);
            }
            let mut chunk = [0u8; 8192];
            let n = self.socket.read(&mut chunk)?;
            if n == 0 {
                return Err(ClientError::Io(std::io::Error::new(
                    std::io::ErrorKind::UnexpectedEof,
                    "the server closed the connection",
                )));
            }
            self.read.extend_from_slice(&chunk[..n]);
        }
    }
}

fn server_error(mut fields: ErrorFields<'_>) -> std::io::Result<ServerError> {
    let mut error = ServerError {
        code: String::new(),
        message: String::new(),
        detail: None,
        hint: None,
    };
    while let Some(field) = fields.next()? {
        let value = String::from_utf8_lossy(field.value_bytes()).into_owned();
        match field.type_() {
            b'C' => error.code = value,
            b'M' => error.message = value,
            b'D' => error.detail = Some(value),
            b'H' => error.hint = Some(value),
            _ => {}
        }
    }
    Ok(error)
}

fn server_notice(mut fields: ErrorFields<'_>) -> std::io::Result<String> {
    let (mut severity, mut message) = (String::from("NOTICE"), String::new());
    while let Some(field) = fields.next()? {
        let value = String::from_utf8_lossy(field.value_bytes()).into_owned();
        match field.type_() {
            b'S' => severity = value,
            b'M' => message = value,
            _ => {}
        }
    }
    Ok(format!("{severity}:  {message}"))
}
