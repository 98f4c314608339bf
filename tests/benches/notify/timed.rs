//! Connections for the bench: a listener whose connection task stamps each
//! NotificationResponse with the instant it read it, open-loop writers that
//! stamp each commit acknowledgement, and the latencies between the two.

use std::cell::RefCell;
use std::future::Future;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use futures::StreamExt;
use patina_tests::{config_for, describe_error};

use crate::schedule;
use patina_tests::tokio_postgres::{AsyncMessage, Client, NoTls};
use tokio::sync::mpsc;

const QUERY_TIMEOUT: Duration = Duration::from_secs(30);

/// A notification and when this process read it off the socket.
#[derive(Debug)]
pub struct Arrival {
    pub at: Instant,
    pub channel: String,
    pub payload: String,
}

/// A connection whose notifications are timestamped on arrival.
#[derive(Debug)]
pub struct Listener {
    pub client: Client,
    arrivals: mpsc::UnboundedReceiver<Arrival>,
}

/// Connects to `addr` as `postgres` (patina or PostgreSQL alike).
pub async fn listener(addr: SocketAddr) -> Result<Listener, String> {
    let (client, mut connection) = config_for(addr)
        .connect(NoTls)
        .await
        .map_err(|e| format!("connecting to {addr}: {}", describe_error(&e)))?;
    let (tx, arrivals) = mpsc::unbounded_channel();
    tokio::spawn(async move {
        let mut messages = futures::stream::poll_fn(move |cx| connection.poll_message(cx));
        while let Some(Ok(message)) = messages.next().await {
            if let AsyncMessage::Notification(n) = message {
                let _ = tx.send(Arrival {
                    at: Instant::now(),
                    channel: n.channel().to_owned(),
                    payload: n.payload().to_owned(),
                });
            }
        }
    });
    Ok(Listener { client, arrivals })
}

impl Listener {
    /// The arrival instant of each of `count` writes: reads arrivals until
    /// `key` (which write a notification stands for, `None` for
    /// notifications of no interest) has named every write of `wanted`, or
    /// `deadline` passes.
    pub async fn collect(
        &mut self,
        count: usize,
        wanted: &[usize],
        deadline: Duration,
        key: impl Fn(&Arrival) -> Option<usize>,
    ) -> Vec<Option<Instant>> {
        let mut at = vec![None; count];
        let until = tokio::time::Instant::now() + deadline;
        while wanted
            .iter()
            .any(|k| at.get(*k).is_some_and(Option::is_none))
        {
            let Ok(Some(arrival)) = tokio::time::timeout_at(until, self.arrivals.recv()).await
            else {
                break;
            };
            if let Some(slot) = key(&arrival).and_then(|k| at.get_mut(k))
                && slot.is_none()
            {
                *slot = Some(arrival.at);
            }
        }
        at
    }
}

/// Runs `query(k)` on schedule — `count` of them, one every `period`, open
/// loop (each goes out on time whether or not the earlier ones were
/// acknowledged) — and returns, per write, when it was sent and when its
/// acknowledgement arrived.
pub async fn open_loop<F, Fut>(
    count: usize,
    period: Duration,
    query: F,
) -> Result<Vec<(Instant, Instant)>, String>
where
    F: Fn(usize) -> Fut,
    Fut: Future<Output = Result<(), String>>,
{
    let times = RefCell::new(vec![None; count]);
    schedule::open_loop(count, period, |k| {
        let sent = Instant::now();
        let write = query(k);
        let times = &times;
        async move {
            match tokio::time::timeout(QUERY_TIMEOUT, write).await {
                Ok(result) => result?,
                Err(_) => return Err(format!("write {k}: no answer within {QUERY_TIMEOUT:?}")),
            }
            times.borrow_mut()[k] = Some((sent, Instant::now()));
            Ok(())
        }
    })
    .await?;
    Ok(times.into_inner().into_iter().flatten().collect())
}

/// Per write that arrived, sorted: acknowledgement → arrival (the
/// notification may be read before the writer reads its acknowledgement:
/// counted as zero, and counted in `early`), and send → arrival (an upper
/// bound: it includes the commit itself); how many never arrived.
#[derive(Debug, Default)]
pub struct Latencies {
    pub sorted: Vec<Duration>,
    pub from_send: Vec<Duration>,
    pub early: usize,
    pub missing: usize,
}

pub fn latencies(acks: &[(Instant, Instant)], arrivals: &[Option<Instant>]) -> Latencies {
    let mut out = Latencies::default();
    for ((sent, acked), arrived) in acks.iter().zip(arrivals) {
        match arrived {
            Some(at) => {
                if at < acked {
                    out.early += 1;
                }
                out.sorted.push(at.saturating_duration_since(*acked));
                out.from_send.push(at.saturating_duration_since(*sent));
            }
            None => out.missing += 1,
        }
    }
    out.sorted.sort();
    out.from_send.sort();
    out
}

/// Send → acknowledgement of each write, sorted.
pub fn write_latencies(acks: &[(Instant, Instant)]) -> Vec<Duration> {
    let mut sorted: Vec<Duration> = acks.iter().map(|(sent, acked)| *acked - *sent).collect();
    sorted.sort();
    sorted
}

/// Runs one statement, bounded, naming it in the error.
pub async fn exec(client: &Client, sql: &str) -> Result<(), String> {
    match tokio::time::timeout(QUERY_TIMEOUT, client.batch_execute(sql)).await {
        Ok(Ok(())) => Ok(()),
        Ok(Err(e)) => Err(format!("{sql}: {}", describe_error(&e))),
        Err(_) => Err(format!("{sql}: no answer within {QUERY_TIMEOUT:?}")),
    }
}
