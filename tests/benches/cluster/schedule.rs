//! Open-loop load: job `k` starts at `t0 + k·period` whether or not the
//! earlier ones finished (so a slow server meets the load a real client
//! fleet would send, not a politely waiting one), and the jobs that finish
//! meanwhile are collected while waiting for the next slot.

use std::future::Future;
use std::time::Duration;

use futures::StreamExt;
use futures::stream::FuturesUnordered;

/// Starts `count` jobs, one every `period`, `start(k)` making job `k` at
/// its slot; returns once all finished, or at the first that failed.
pub async fn open_loop<F, Fut>(count: usize, period: Duration, mut start: F) -> Result<(), String>
where
    F: FnMut(usize) -> Fut,
    Fut: Future<Output = Result<(), String>>,
{
    let t0 = tokio::time::Instant::now();
    let mut in_flight = FuturesUnordered::new();
    for k in 0..count {
        let at = t0 + period * k as u32;
        loop {
            tokio::select! {
                () = tokio::time::sleep_until(at) => break,
                Some(done) = in_flight.next(), if !in_flight.is_empty() => done?,
            }
        }
        in_flight.push(start(k));
    }
    while let Some(done) = in_flight.next().await {
        done?;
    }
    Ok(())
}
