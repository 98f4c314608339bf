//! A tokio-postgres connection that records what the server pushes to it
//! between requests: notifications and notices.

use std::net::SocketAddr;

use futures::StreamExt;
use tokio::sync::mpsc;
use tokio_postgres::{AsyncMessage, Client, Config, NoTls};

/// A NotificationResponse.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notification {
    /// The backend pid of the notifying session.
    pub pid: i32,
    pub channel: String,
    pub payload: String,
}

/// A connection and what it was sent, in arrival order.
#[derive(Debug)]
pub struct Recording {
    pub client: Client,
    pub notifications: mpsc::UnboundedReceiver<Notification>,
    /// The messages of the NOTICEs (and WARNINGs) it received.
    pub notices: mpsc::UnboundedReceiver<String>,
}

/// Connects to `addr` as `postgres` and records what arrives.
pub async fn connect_recording(addr: SocketAddr) -> Recording {
    let mut config = Config::new();
    config
        .host(addr.ip().to_string())
        .port(addr.port())
        .user("postgres")
        .dbname("postgres");
    let (client, mut connection) = config.connect(NoTls).await.expect("connect");
    let (notification_tx, notifications) = mpsc::unbounded_channel();
    let (notice_tx, notices) = mpsc::unbounded_channel();
    tokio::spawn(async move {
        let mut messages = futures::stream::poll_fn(move |cx| connection.poll_message(cx));
        while let Some(Ok(message)) = messages.next().await {
            match message {
                AsyncMessage::Notification(n) => {
                    let _ = notification_tx.send(Notification {
                        pid: n.process_id(),
                        channel: n.channel().to_owned(),
                        payload: n.payload().to_owned(),
                    });
                }
                AsyncMessage::Notice(notice) => {
                    let _ = notice_tx.send(notice.message().to_owned());
                }
                _ => {}
            }
        }
    });
    Recording {
        client,
        notifications,
        notices,
    }
}
