//! Phase 2: what live query subscriptions cost a node taking a steady
//! write load. One node; a table of `subs` rows; writers UPDATE one row
//! per transaction, open loop at `rate`/s on rotating connections, the
//! key cycling through the rows. A round without subscriptions, then
//! `subs` distinct subscriptions (`SELECT k, v FROM load WHERE k = <i>`,
//! spread over a few listening sessions) and the same round again: the
//! node's CPU, the writers' commit latency, and for the second round the
//! commit → notification latency of every write (each changes exactly one
//! subscription's result).

use std::time::{Duration, Instant};

use patina_tests::Cluster;
use patina_tests::tokio_postgres::Client;
use serde_json::Value;

use crate::latency::prepare;
use crate::procfs::{self, CpuMeter, CpuUse};
use crate::timed::{Latencies, Listener, exec, latencies, listener, open_loop, write_latencies};

const WRITERS: usize = 4;
/// Sessions the subscriptions are spread over.
const SESSIONS: usize = 10;
const DRAIN: Duration = Duration::from_secs(30);
/// Values of round r are `r * ROUND + k + 1` for write k, so a
/// notification names its write.
const ROUND: i64 = 1_000_000_000;

/// One round of the write load.
#[derive(Debug)]
pub struct Round {
    /// Send → commit acknowledgement, sorted.
    pub writes: Vec<Duration>,
    /// Over the writes and, with subscriptions, until their notifications
    /// arrived.
    pub cpu: CpuUse,
    /// Load seconds the writes were scheduled over.
    pub secs: f64,
    pub notifications: Option<Latencies>,
    /// Rows whose last write of the round was never notified (earlier
    /// writes of a row may arrive folded into a later one).
    pub lost: usize,
}

#[derive(Debug)]
pub struct Load {
    pub subs: usize,
    pub rate: f64,
    pub without: Round,
    pub subscribe: Duration,
    pub with: Round,
}

pub async fn run(rate: f64, secs: f64, subs: usize) -> Result<Load, String> {
    let cluster = Cluster::start(1, Default::default()).await;
    let data_dir = cluster.node(0).data_dir();
    let pid = procfs::pid_of(&data_dir)
        .ok_or_else(|| format!("no process runs {}", data_dir.display()))?;
    let admin = listener(cluster.pg_addr(0)).await?.client;
    exec(&admin, "CREATE TABLE load (k BIGINT PRIMARY KEY, v BIGINT)").await?;
    let rows: Vec<String> = (0..subs).map(|k| format!("({k}, 0)")).collect();
    exec(
        &admin,
        &format!("INSERT INTO load VALUES {}", rows.join(", ")),
    )
    .await?;
    let mut writers = Vec::new();
    for _ in 0..WRITERS {
        writers.push(listener(cluster.pg_addr(0)).await?.client);
    }

    crate::progress(&format!("  {rate}/s without subscriptions …"));
    let without = round(&writers, pid, 0, rate, secs, subs, &mut []).await?;

    crate::progress(&format!("  subscribing {subs} queries …"));
    let started = Instant::now();
    let mut sessions = Vec::new();
    for _ in 0..SESSIONS {
        sessions.push(listener(cluster.pg_addr(0)).await?);
    }
    let per = subs.div_ceil(SESSIONS);
    let subscribing = sessions.iter().enumerate().map(|(s, session)| async move {
        for k in (s * per)..((s + 1) * per).min(subs) {
            let query = format!("SELECT k, v FROM load WHERE k = {k}");
            exec(
                &session.client,
                &format!("SELECT * FROM patina_subscribe('{query}')"),
            )
            .await?;
        }
        Ok::<_, String>(())
    });
    for done in futures::future::join_all(subscribing).await {
        done?;
    }
    let subscribe = started.elapsed();

    crate::progress(&format!("  {rate}/s with {subs} subscriptions …"));
    let with = round(&writers, pid, 1, rate, secs, subs, &mut sessions).await?;
    Ok(Load {
        subs,
        rate,
        without,
        subscribe,
        with,
    })
}

/// Round `r` of the load; the notifications of `sessions` (which session
/// `s` holds the subscriptions of keys `s * per ..`) are awaited after it.
async fn round(
    writers: &[Client],
    pid: u32,
    r: i64,
    rate: f64,
    secs: f64,
    subs: usize,
    sessions: &mut [Listener],
) -> Result<Round, String> {
    let mut updates = Vec::new();
    for w in writers {
        updates.push(prepare(w, "UPDATE load SET v = $1 WHERE k = $2").await?);
    }
    let count = (rate * secs).round().max(1.0) as usize;
    let period = Duration::from_secs_f64(1.0 / rate);
    let meter = CpuMeter::start(vec![pid]);
    let acks = open_loop(count, period, |k| {
        let (client, update) = (&writers[k % WRITERS], &updates[k % WRITERS]);
        async move {
            let v = r * ROUND + k as i64 + 1;
            let key = (k % subs) as i64;
            let changed = client
                .execute(update, &[&v, &key])
                .await
                .map_err(|e| format!("update {k}: {}", patina_tests::describe_error(&e)))?;
            if changed == 1 {
                Ok(())
            } else {
                Err(format!("update {k} changed {changed} rows"))
            }
        }
    })
    .await?;
    let mut lost = 0;
    let notifications = if sessions.is_empty() {
        None
    } else {
        let per = subs.div_ceil(sessions.len());
        let mut arrived = vec![None; count];
        for (s, session) in sessions.iter_mut().enumerate() {
            // every row's last write: earlier ones may be folded into it
            let last: Vec<usize> = (count.saturating_sub(subs)..count)
                .filter(|k| (k % subs) / per == s)
                .collect();
            let at = session
                .collect(count, &last, DRAIN, |a| {
                    let v = serde_json::from_str::<Value>(&a.payload)
                        .ok()?
                        .pointer("/row/v")?
                        .as_i64()?;
                    usize::try_from(v - r * ROUND - 1).ok()
                })
                .await;
            for (slot, at) in arrived.iter_mut().zip(at) {
                if at.is_some() {
                    *slot = at;
                }
            }
        }
        let last_writes = count.saturating_sub(subs)..count;
        lost = last_writes.filter(|k| arrived[*k].is_none()).count();
        Some(latencies(&acks, &arrived))
    };
    Ok(Round {
        writes: write_latencies(&acks),
        cpu: meter.stop(),
        secs,
        notifications,
        lost,
    })
}
