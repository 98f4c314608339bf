//! The Prometheus endpoint: the libraries record through the `metrics`
//! facade; this installs `metrics-exporter-prometheus`'s recorder and
//! answers `GET /metrics` with its text exposition. The HTTP side is a
//! few lines on tokio (one request per connection, then close) rather than
//! a web framework: scrapers need nothing more.

use std::net::SocketAddr;
use std::time::Duration;

use anyhow::Context;
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

/// The longest request head read; scrapers send far less.
const MAX_REQUEST: usize = 8 * 1024;
/// How long a client may take to send its request.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);
/// How often histograms are compacted.
const UPKEEP: Duration = Duration::from_secs(5);

/// The running endpoint; dropping it stops serving.
#[derive(Debug)]
pub struct Exporter {
    tasks: [JoinHandle<()>; 2],
}

impl Drop for Exporter {
    fn drop(&mut self) {
        for task in &self.tasks {
            task.abort();
        }
    }
}

/// Installs the global recorder and serves `/metrics` on `addr`.
pub async fn serve(addr: SocketAddr) -> anyhow::Result<Exporter> {
    let listener = TcpListener::bind(addr)
        .await
        .with_context(|| format!("listening for metrics scrapes on {addr}"))?;
    // The bound address (port 0 picks a free one).
    let addr = listener.local_addr()?;
    let recorder = PrometheusBuilder::new().build_recorder();
    let handle = recorder.handle();
    metrics::set_global_recorder(recorder).context("installing the metrics recorder")?;
    describe();
    let upkeep = {
        let handle = handle.clone();
        tokio::spawn(async move {
            let mut interval = tokio::time::interval(UPKEEP);
            loop {
                interval.tick().await;
                handle.run_upkeep();
            }
        })
    };
    let accept = tokio::spawn(async move {
        loop {
            match listener.accept().await {
                Ok((socket, _)) => {
                    tokio::spawn(respond(socket, handle.clone()));
                }
                Err(error) => tracing::warn!(%error, "accepting a metrics scrape failed"),
            }
        }
    });
    tracing::info!(%addr, "serving Prometheus metrics at /metrics");
    Ok(Exporter {
        tasks: [upkeep, accept],
    })
}

async fn respond(mut socket: TcpStream, handle: PrometheusHandle) {
    let head = match tokio::time::timeout(REQUEST_TIMEOUT, read_head(&mut socket)).await {
        Ok(Ok(head)) => head,
        _ => return,
    };
    let mut words = head.split_whitespace();
    let (method, target) = (words.next().unwrap_or(""), words.next().unwrap_or(""));
    let path = target.split('?').next().unwrap_or("");
    let response = match (method, path) {
        ("GET" | "HEAD", "/metrics") => {
            let body = handle.render();
            let body = if method == "HEAD" {
                String::new()
            } else {
                body
            };
            reply("200 OK", "text/plain; version=0.0.4; charset=utf-8", &body)
        }
        (_, "/metrics") => reply("405 Method Not Allowed", "text/plain", "use GET\n"),
        _ => reply("404 Not Found", "text/plain", "metrics are at /metrics\n"),
    };
    let _ = socket.write_all(response.as_bytes()).await;
    let _ = socket.shutdown().await;
}

/// The request line and headers, up to the blank line.
async fn read_head(socket: &mut TcpStream) -> std::io::Result<String> {
    let mut head = Vec::new();
    let mut buf = [0u8; 1024];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") && head.len() < MAX_REQUEST {
        let n = socket.read(&mut buf).await?;
        if n == 0 {
            break;
        }
        head.extend_from_slice(&buf[..n]);
    }
    Ok(String::from_utf8_lossy(&head).into_owned())
}

fn reply(status: &str, content_type: &str, body: &str) -> String {
    format!(
        "HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\n\
         Connection: close\r\n\r\n{body}",
        body.len()
    )
}

/// The HELP lines of the metrics the libraries record.
fn describe() {
    use metrics::{describe_counter, describe_gauge};
    describe_counter!("patina_pg_statements_total", "SQL statements run, by kind");
    describe_counter!(
        "patina_pg_errors_total",
        "errors sent to clients, by SQLSTATE"
    );
    describe_counter!("patina_pg_connections_total", "client connections accepted");
    describe_counter!(
        "patina_pg_connections_refused_total",
        "client connections refused (limit, auth)"
    );
    describe_gauge!("patina_pg_connections_open", "client connections open now");
    describe_counter!(
        "patina_changes_applied_total",
        "change rows from peers merged into the local database"
    );
    describe_counter!(
        "patina_changes_sent_total",
        "local change sets broadcast to peers"
    );
    describe_counter!("patina_bytes_sent_total", "bytes sent to peers");
    describe_counter!("patina_bytes_received_total", "bytes received from peers");
    describe_gauge!(
        "patina_members_up",
        "cluster members up, this node excluded"
    );
    describe_gauge!("patina_members_down", "cluster members known down");
    describe_counter!(
        "patina_sync_rounds_total",
        "anti-entropy sync sessions, by result"
    );
    describe_gauge!(
        "patina_last_applied_timestamp_seconds",
        "Unix time of the last change merged from a peer"
    );
}
