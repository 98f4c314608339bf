//! LISTEN, UNLISTEN, NOTIFY and `pg_notify` with PostgreSQL 15's
//! semantics on one node:
//!
//! - a notification is sent when its transaction commits, never after a
//!   rollback (nor one queued after a savepoint later rolled back to);
//!   identical (channel, payload) pairs of one transaction fold into one;
//! - LISTEN and UNLISTEN take effect when their transaction commits;
//! - a session hears its own notifications; a listener in a transaction
//!   receives them once its transaction ends; an idle listener at once (the
//!   connection pushes them without waiting for a request);
//! - channels are identifiers (folded, truncated to 63 bytes with a
//!   NOTICE) in the statements, taken as given by `pg_notify`; a payload
//!   must be shorter than 8000 bytes (22023).
//!
//! The [`Hub`] (one per database) fans committed notifications out to the
//! listening sessions, in commit order (publishing happens while the
//! committing session still holds the writer, or at once for a transaction
//! that wrote nothing). Each session's inbox is bounded: a listener that
//! does not read cannot hold up anyone; what it misses is counted and it is
//! warned. On patina's own channels (`patina:…`, reserved: users cannot
//! notify on them) a miss is also explicit: the channel is marked
//! overflowed, nothing more is queued on it for that session, and once the
//! session has read everything queued before, it receives on the channel
//! one notification with the payload [`OVERFLOW_PAYLOAD`], then the
//! channel's notifications again.

use std::collections::{BTreeSet, HashMap};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use rusqlite::Connection;
use rusqlite::functions::FunctionFlags;
use sqlparser::ast::Statement;
use sqlparser::dialect::PostgreSqlDialect;
use sqlparser::parser::Parser;
use tokio::sync::mpsc;

use super::errors::PgError;
use crate::functions::user_error;
use crate::translate::fold_identifier;

/// A payload must be shorter than this many bytes (PostgreSQL's limit;
/// patina's own payloads keep to it too).
pub(crate) const MAX_PAYLOAD: usize = 8000;
/// PostgreSQL's NAMEDATALEN - 1.
const MAX_CHANNEL: usize = 63;
/// Notifications a session may have waiting before more are dropped.
const INBOX: usize = 65_536;
/// Channels starting with this belong to patina.
pub(crate) const RESERVED_PREFIX: &str = "patina:";
/// What a session receives on a patina channel after missing some of its
/// notifications.
pub(crate) const OVERFLOW_PAYLOAD: &str = r#"{"op":"overflow"}"#;

/// A committed notification, as a NotificationResponse carries it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Notification {
    /// The backend pid of the notifying session.
    pub pid: i32,
    pub channel: String,
    pub payload: String,
}

/// LISTEN, UNLISTEN or NOTIFY.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum NotifyCommand {
    Listen(String),
    /// `None`: `UNLISTEN *`.
    Unlisten(Option<String>),
    Notify {
        channel: String,
        payload: String,
    },
}

impl NotifyCommand {
    pub fn tag(&self) -> &'static str {
        match self {
            NotifyCommand::Listen(_) => "LISTEN",
            NotifyCommand::Unlisten(_) => "UNLISTEN",
            NotifyCommand::Notify { .. } => "NOTIFY",
        }
    }
}

/// `None` unless `sql` is LISTEN, UNLISTEN or NOTIFY; then the command and
/// the notices it raises (a channel name truncated), or its error.
pub(crate) fn parse(sql: &str) -> Option<Result<(NotifyCommand, Vec<PgError>), PgError>> {
    let first = sql.split_whitespace().next()?.to_ascii_uppercase();
    if !matches!(first.as_str(), "LISTEN" | "UNLISTEN" | "NOTIFY") {
        return None;
    }
    let statements = match Parser::parse_sql(&PostgreSqlDialect {}, sql) {
        Ok(statements) => statements,
        Err(error) => return Some(Err(PgError::new("42601", error.to_string()))),
    };
    let mut notices = Vec::new();
    let mut channel = |ident: &sqlparser::ast::Ident| -> Result<String, PgError> {
        if ident.quote_style.is_some() && ident.value.is_empty() {
            return Err(PgError::new(
                "42601",
                "zero-length delimited identifier".to_owned(),
            ));
        }
        let name = fold_identifier(ident);
        if name.len() <= MAX_CHANNEL {
            return Ok(name);
        }
        let mut cut = MAX_CHANNEL;
        while !name.is_char_boundary(cut) {
            cut -= 1;
        }
        let truncated = name[..cut].to_owned();
        notices.push(PgError::new(
            "42622",
            format!("identifier \"{name}\" will be truncated to \"{truncated}\""),
        ));
        Ok(truncated)
    };
    let command = match statements.as_slice() {
        [Statement::LISTEN { channel: name }] => channel(name).map(NotifyCommand::Listen),
        [Statement::UNLISTEN { channel: name }]
            if name.quote_style.is_none() && name.value == "*" =>
        {
            Ok(NotifyCommand::Unlisten(None))
        }
        [Statement::UNLISTEN { channel: name }] => {
            channel(name).map(|c| NotifyCommand::Unlisten(Some(c)))
        }
        [
            Statement::NOTIFY {
                channel: name,
                payload,
            },
        ] => channel(name).and_then(|channel| {
            let payload = payload.clone().unwrap_or_default();
            check(&channel, &payload)?;
            Ok(NotifyCommand::Notify { channel, payload })
        }),
        _ => Err(PgError::new("42601", format!("syntax error in {first}"))),
    };
    Some(command.map(|command| (command, notices)))
}

/// PostgreSQL's checks of a notification, as `pg_notify` makes them.
fn check(channel: &str, payload: &str) -> Result<(), PgError> {
    if channel.is_empty() {
        return Err(PgError::new("22023", "channel name cannot be empty"));
    }
    if channel.len() > MAX_CHANNEL {
        return Err(PgError::new("22023", "channel name too long"));
    }
    if channel.starts_with(RESERVED_PREFIX) {
        return Err(PgError::new(
            "22023",
            format!("channel names starting with \"{RESERVED_PREFIX}\" are reserved for patina"),
        ));
    }
    if payload.len() >= MAX_PAYLOAD {
        return Err(PgError::new("22023", "payload string too long"));
    }
    Ok(())
}

/// The savepoint a SAVEPOINT, RELEASE or ROLLBACK TO statement names, as
/// PostgreSQL folds it.
pub(crate) fn savepoint_name(sql: &str) -> String {
    let name = sql
        .trim()
        .trim_end_matches(';')
        .split_whitespace()
        .last()
        .unwrap_or_default();
    match name.strip_prefix('"').and_then(|n| n.strip_suffix('"')) {
        Some(quoted) => quoted.replace("\"\"", "\""),
        None => name.to_lowercase(),
    }
}

/// Where `pg_notify` on one connection puts what it is asked to send; the
/// session running the statement takes it out afterwards.
pub(crate) type Outbox = super::outbox::Outbox<(String, String)>;

/// Registers `pg_notify(channel, payload)` on `conn`, queueing into
/// `outbox`. Returns the empty text PostgreSQL's `void` prints as.
pub(crate) fn register(conn: &Connection, outbox: Outbox) -> rusqlite::Result<()> {
    conn.create_scalar_function("pg_notify", 2, FunctionFlags::SQLITE_UTF8, move |ctx| {
        let channel: Option<String> = ctx.get(0)?;
        let payload: Option<String> = ctx.get(1)?;
        let channel = channel.unwrap_or_default();
        let payload = payload.unwrap_or_default();
        check(&channel, &payload)
            .map_err(|error| user_error(crate::Error::InvalidParameterValue(error.message)))?;
        outbox.push((channel, payload));
        Ok(String::new())
    })
}

struct Listener {
    channels: BTreeSet<String>,
    inbox: mpsc::Sender<Notification>,
    dropped: Arc<AtomicU64>,
    overflowed: Overflowed,
}

/// The patina channels on which a session missed notifications, until it
/// is told.
type Overflowed = Arc<Mutex<BTreeSet<String>>>;

/// Queues `notification` in an inbox, or counts it dropped (and marks its
/// channel overflowed, if it is patina's; a marked channel takes nothing
/// until the session is told).
fn enqueue(
    inbox: &mpsc::Sender<Notification>,
    dropped: &AtomicU64,
    overflowed: &Overflowed,
    notification: Notification,
) {
    if !notification.channel.starts_with(RESERVED_PREFIX) {
        if inbox.try_send(notification).is_err() {
            dropped.fetch_add(1, Ordering::Relaxed);
        }
        return;
    }
    let mut overflowed = overflowed.lock().unwrap_or_else(PoisonError::into_inner);
    if overflowed.contains(&notification.channel) {
        dropped.fetch_add(1, Ordering::Relaxed);
        return;
    }
    if let Err(error) = inbox.try_send(notification) {
        dropped.fetch_add(1, Ordering::Relaxed);
        overflowed.insert(error.into_inner().channel);
    }
}

/// The listening sessions of one database.
#[derive(Default)]
pub(crate) struct Hub {
    listeners: Mutex<HashMap<i32, Listener>>,
}

impl std::fmt::Debug for Hub {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Hub").finish_non_exhaustive()
    }
}

impl Hub {
    fn listeners(&self) -> std::sync::MutexGuard<'_, HashMap<i32, Listener>> {
        self.listeners
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// Delivers `notifications` of session `pid` to every session
    /// listening on their channels.
    pub fn publish(&self, pid: i32, notifications: &[(String, String)]) {
        for (channel, payload) in notifications {
            self.deliver(Notification {
                pid,
                channel: channel.clone(),
                payload: payload.clone(),
            });
        }
    }

    /// Delivers one notification to every session listening on its
    /// channel.
    pub fn deliver(&self, notification: Notification) {
        for listener in self.listeners().values() {
            if listener.channels.contains(&notification.channel) {
                enqueue(
                    &listener.inbox,
                    &listener.dropped,
                    &listener.overflowed,
                    notification.clone(),
                );
            }
        }
    }

    /// Whether some session listens on `channel`.
    pub fn is_listened(&self, channel: &str) -> bool {
        self.listeners()
            .values()
            .any(|listener| listener.channels.contains(channel))
    }

    fn set(&self, pid: i32, channels: BTreeSet<String>, inbox: &Inbox) {
        let mut listeners = self.listeners();
        if channels.is_empty() {
            listeners.remove(&pid);
        } else {
            listeners.insert(
                pid,
                Listener {
                    channels,
                    inbox: inbox.sender.clone(),
                    dropped: inbox.dropped.clone(),
                    overflowed: inbox.overflowed.clone(),
                },
            );
        }
    }
}

struct Inbox {
    sender: mpsc::Sender<Notification>,
    receiver: mpsc::Receiver<Notification>,
    dropped: Arc<AtomicU64>,
    overflowed: Overflowed,
}

/// A savepoint's mark: how many notifications were queued, and the listen
/// set, when it was taken.
struct Mark {
    name: String,
    queued: usize,
    channels: Option<BTreeSet<String>>,
}

/// One session's side: what it listens to, what its transaction queued.
pub(crate) struct SessionNotify {
    pid: i32,
    hub: Arc<Hub>,
    listening: BTreeSet<String>,
    /// The listen set as the open transaction left it, if it changed it.
    staged: Option<BTreeSet<String>>,
    queued: Vec<(String, String)>,
    marks: Vec<Mark>,
    inbox: Inbox,
}

impl std::fmt::Debug for SessionNotify {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SessionNotify")
            .field("listening", &self.listening)
            .finish_non_exhaustive()
    }
}

impl SessionNotify {
    pub fn new(pid: i32, hub: Arc<Hub>) -> SessionNotify {
        let (sender, receiver) = mpsc::channel(INBOX);
        SessionNotify {
            pid,
            hub,
            listening: BTreeSet::new(),
            staged: None,
            queued: Vec::new(),
            marks: Vec::new(),
            inbox: Inbox {
                sender,
                receiver,
                dropped: Arc::new(AtomicU64::new(0)),
                overflowed: Overflowed::default(),
            },
        }
    }

    /// Runs a command: it takes effect when the transaction commits (the
    /// caller ends a statement outside a block at once).
    pub fn command(&mut self, command: &NotifyCommand) {
        match command {
            NotifyCommand::Listen(channel) => {
                let mut channels = self.current_channels();
                channels.insert(channel.clone());
                self.staged = Some(channels);
            }
            NotifyCommand::Unlisten(channel) => {
                let mut channels = self.current_channels();
                match channel {
                    Some(channel) => {
                        channels.remove(channel);
                    }
                    None => channels.clear(),
                }
                self.staged = Some(channels);
            }
            NotifyCommand::Notify { channel, payload } => {
                self.queue(vec![(channel.clone(), payload.clone())]);
            }
        }
    }

    fn current_channels(&self) -> BTreeSet<String> {
        self.staged
            .clone()
            .unwrap_or_else(|| self.listening.clone())
    }

    /// Whether the open transaction (or statement) queued notifications.
    pub fn has_queued(&self) -> bool {
        !self.queued.is_empty()
    }

    /// The notifications queued so far, to record with the transaction.
    pub fn queued(&self) -> &[(String, String)] {
        &self.queued
    }

    /// Queues notifications of the open transaction (or of a statement
    /// outside one, sent when it ends), folding duplicates.
    pub fn queue(&mut self, notifications: Vec<(String, String)>) {
        for notification in notifications {
            if !self.queued.contains(&notification) {
                self.queued.push(notification);
            }
        }
    }

    /// The transaction ended: on commit, the listen set takes effect and
    /// the queued notifications go out; on rollback both are dropped.
    pub fn end(&mut self, committed: bool) {
        self.marks.clear();
        let staged = self.staged.take();
        let queued = std::mem::take(&mut self.queued);
        if !committed {
            return;
        }
        if let Some(channels) = staged
            && channels != self.listening
        {
            self.hub.set(self.pid, channels.clone(), &self.inbox);
            self.inbox
                .overflowed
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .retain(|channel| channels.contains(channel));
            self.listening = channels;
        }
        if !queued.is_empty() {
            self.hub.publish(self.pid, &queued);
        }
    }

    /// SAVEPOINT, RELEASE or ROLLBACK TO of savepoint `name` (folded).
    pub fn savepoint(&mut self, tag: &str, name: &str) {
        match tag {
            "SAVEPOINT" => self.marks.push(Mark {
                name: name.to_owned(),
                queued: self.queued.len(),
                channels: self.staged.clone(),
            }),
            "RELEASE" => {
                if let Some(i) = self.marks.iter().rposition(|m| m.name == name) {
                    self.marks.truncate(i);
                }
            }
            _ => {
                if let Some(i) = self.marks.iter().rposition(|m| m.name == name) {
                    let mark = &self.marks[i];
                    self.queued.truncate(mark.queued);
                    self.staged = mark.channels.clone();
                    self.marks.truncate(i + 1);
                }
            }
        }
    }

    /// Listens on `channel` at once, whatever the transaction does: a
    /// query subscription starts listening atomically with its snapshot.
    pub fn listen_now(&mut self, channel: &str) {
        if let Some(staged) = &mut self.staged {
            staged.insert(channel.to_owned());
        }
        if self.listening.insert(channel.to_owned()) {
            self.hub.set(self.pid, self.listening.clone(), &self.inbox);
        }
    }

    /// Puts `notification` in this session's own inbox (a resumed
    /// subscription's missed changes).
    pub fn push(&self, notification: Notification) {
        enqueue(
            &self.inbox.sender,
            &self.inbox.dropped,
            &self.inbox.overflowed,
            notification,
        );
    }

    /// The channels this session listens on (committed).
    pub fn channels(&self) -> &BTreeSet<String> {
        &self.listening
    }

    /// A notification waiting, without waiting for one.
    pub fn try_next(&mut self) -> Option<Notification> {
        self.inbox
            .receiver
            .try_recv()
            .ok()
            .or_else(|| self.overflow_notice())
    }

    /// Waits for a notification.
    pub async fn next(&mut self) -> Option<Notification> {
        if let Some(notification) = self.try_next() {
            return Some(notification);
        }
        // The inbox is empty, so no channel can overflow while waiting.
        self.inbox.receiver.recv().await
    }

    /// Once the inbox is drained: the overflow notification of one patina
    /// channel that missed notifications, which then flows again.
    fn overflow_notice(&self) -> Option<Notification> {
        let mut overflowed = self
            .inbox
            .overflowed
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let channel = overflowed.pop_first()?;
        Some(Notification {
            pid: 0,
            channel,
            payload: OVERFLOW_PAYLOAD.to_owned(),
        })
    }

    /// How many notifications were dropped since the last call, because
    /// this session did not read them in time.
    pub fn take_dropped(&self) -> u64 {
        self.inbox.dropped.swap(0, Ordering::Relaxed)
    }

    /// The session ends: it listens to nothing any more.
    pub fn close(&mut self) {
        self.hub.set(self.pid, BTreeSet::new(), &self.inbox);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn command(sql: &str) -> NotifyCommand {
        parse(sql).expect("a notify command").expect("valid").0
    }

    fn notify(channel: &str, payload: &str) -> NotifyCommand {
        NotifyCommand::Notify {
            channel: channel.into(),
            payload: payload.into(),
        }
    }

    fn drain(session: &mut SessionNotify) -> Vec<(String, String)> {
        std::iter::from_fn(|| session.try_next())
            .map(|n| (n.channel, n.payload))
            .collect()
    }

    fn pairs(items: &[(&str, &str)]) -> Vec<(String, String)> {
        items
            .iter()
            .map(|(c, p)| ((*c).to_owned(), (*p).to_owned()))
            .collect()
    }

    #[test]
    fn parses_as_postgresql_folds_and_checks() {
        assert_eq!(parse("SELECT 1"), None);
        assert_eq!(command("LISTEN Foo"), NotifyCommand::Listen("foo".into()));
        assert_eq!(
            command("listen \"Foo\""),
            NotifyCommand::Listen("Foo".into())
        );
        assert_eq!(command("UNLISTEN *"), NotifyCommand::Unlisten(None));
        assert_eq!(command("NOTIFY a, 'x'"), notify("a", "x"));
        assert_eq!(command("NOTIFY a"), notify("a", ""));
        let long = "a".repeat(70);
        let (listen, notices) = parse(&format!("LISTEN {long}")).unwrap().unwrap();
        assert_eq!(listen, NotifyCommand::Listen("a".repeat(63)));
        assert_eq!(notices[0].code, "42622");
        let too_long = parse(&format!("NOTIFY a, '{}'", "x".repeat(8000)))
            .unwrap()
            .unwrap_err();
        assert_eq!(
            (too_long.code.as_str(), too_long.message.as_str()),
            ("22023", "payload string too long")
        );
        assert!(
            parse(&format!("NOTIFY a, '{}'", "x".repeat(7999)))
                .unwrap()
                .is_ok()
        );
        assert_eq!(parse("NOTIFY \"\"").unwrap().unwrap_err().code, "42601");
    }

    #[test]
    fn commit_delivers_folded_rollback_and_savepoints_discard() {
        let hub = Arc::new(Hub::default());
        let mut listener = SessionNotify::new(1, hub.clone());
        let mut writer = SessionNotify::new(2, hub);
        listener.command(&command("LISTEN a"));
        listener.end(true);

        writer.command(&notify("a", "one"));
        writer.command(&notify("a", "one"));
        writer.command(&notify("a", "two"));
        writer.command(&notify("b", "elsewhere"));
        assert!(drain(&mut listener).is_empty(), "not before commit");
        writer.end(true);
        assert_eq!(drain(&mut listener), pairs(&[("a", "one"), ("a", "two")]));

        writer.command(&notify("a", "rolled back"));
        writer.end(false);
        writer.command(&notify("a", "sp1"));
        writer.savepoint("SAVEPOINT", "s");
        writer.command(&notify("a", "sp2"));
        writer.savepoint("ROLLBACK", "s");
        writer.command(&notify("a", "sp3"));
        writer.end(true);
        assert_eq!(drain(&mut listener), pairs(&[("a", "sp1"), ("a", "sp3")]));
    }

    #[test]
    fn patina_channels_are_reserved_and_report_overflow() {
        let reserved = parse("NOTIFY \"patina:changes:t\", 'x'")
            .unwrap()
            .unwrap_err();
        assert_eq!(reserved.code, "22023");
        assert!(
            reserved.message.contains("reserved"),
            "{}",
            reserved.message
        );

        let hub = Arc::new(Hub::default());
        let mut session = SessionNotify::new(1, hub.clone());
        session.command(&command("LISTEN \"patina:x\""));
        session.command(&command("LISTEN a"));
        session.end(true);
        let send = |channel: &str, payload: String| {
            hub.deliver(Notification {
                pid: 2,
                channel: channel.to_owned(),
                payload,
            });
        };
        for i in 0..INBOX {
            send("patina:x", i.to_string());
        }
        send("patina:x", "missed".into());
        send("a", "missed too".into());
        // Read one: the marked channel still takes nothing until told.
        assert_eq!(session.try_next().map(|n| n.payload), Some("0".into()));
        send("patina:x", "missed as well".into());
        let received = drain(&mut session);
        assert_eq!(received.len(), INBOX);
        assert_eq!(received[INBOX - 2].1, (INBOX - 1).to_string());
        assert_eq!(
            received[INBOX - 1],
            ("patina:x".into(), OVERFLOW_PAYLOAD.into())
        );
        assert_eq!(session.take_dropped(), 3);
        send("patina:x", "after".into());
        assert_eq!(drain(&mut session), pairs(&[("patina:x", "after")]));
    }

    #[test]
    fn listen_takes_effect_at_commit_and_sessions_hear_themselves() {
        let hub = Arc::new(Hub::default());
        let mut session = SessionNotify::new(1, hub);
        session.command(&command("LISTEN a"));
        session.end(false);
        assert!(session.channels().is_empty());
        session.command(&command("LISTEN a"));
        session.command(&notify("a", "self"));
        session.end(true);
        assert_eq!(drain(&mut session), pairs(&[("a", "self")]));
        session.command(&command("UNLISTEN *"));
        session.end(true);
        session.command(&notify("a", "unheard"));
        session.end(true);
        assert!(drain(&mut session).is_empty());
    }
}
