//! A member that comes back: its connection is kept when the peer process
//! on it still answers (a renewed identity after a partition), and
//! replaced when it does not (a restarted process at the same address).
//! The restart is played by a UDP relay in front of the peer that switches
//! to another endpoint, which knows nothing of the first one's connection.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use patina_replication::Message;
use patina_replication::tls::PeerTls;
use patina_replication::transport::{ConnectionCheck, Inbound, Transport};
use tokio::net::UdpSocket;
use tokio::sync::mpsc::Receiver;
use tokio::sync::watch;

const WAIT: Duration = Duration::from_secs(10);

fn node() -> (Transport, Receiver<Inbound>) {
    Transport::bind("127.0.0.1:0".parse().expect("addr"), &PeerTls::Insecure).expect("binds")
}

async fn within<T>(what: &str, future: impl Future<Output = T>) -> T {
    tokio::time::timeout(WAIT, future)
        .await
        .unwrap_or_else(|_| panic!("timed out waiting for {what}"))
}

async fn next_swim(rx: &mut Receiver<Inbound>) -> Vec<u8> {
    match within("a message", rx.recv()).await {
        Some(Inbound::Message {
            message: Message::Swim(packet),
            ..
        }) => packet,
        other => panic!("expected a SWIM packet, got {other:?}"),
    }
}

/// A UDP relay at one address forwarding one client's datagrams to the
/// endpoint `target` currently names, and the answers back.
async fn relay(target: watch::Receiver<SocketAddr>) -> SocketAddr {
    let front = Arc::new(UdpSocket::bind("127.0.0.1:0").await.expect("binds"));
    let back = Arc::new(UdpSocket::bind("127.0.0.1:0").await.expect("binds"));
    let addr = front.local_addr().expect("addr");
    let (client_tx, mut client_rx) = watch::channel(None::<SocketAddr>);
    let (front_in, back_out) = (front.clone(), back.clone());
    tokio::spawn(async move {
        let mut buf = vec![0; 65_536];
        while let Ok((len, from)) = front_in.recv_from(&mut buf).await {
            client_tx.send_replace(Some(from));
            let to = *target.borrow();
            let _ = back_out.send_to(&buf[..len], to).await;
        }
    });
    tokio::spawn(async move {
        let mut buf = vec![0; 65_536];
        while let Ok((len, _)) = back.recv_from(&mut buf).await {
            let client = *client_rx.borrow_and_update();
            if let Some(client) = client {
                let _ = front.send_to(&buf[..len], client).await;
            }
        }
    });
    addr
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_connection_that_still_answers_is_kept() {
    let (a, _a_rx) = node();
    let (b, mut b_rx) = node();
    a.send(b.local_addr(), Message::Swim(vec![1]));
    assert_eq!(next_swim(&mut b_rx).await, vec![1]);

    // b renewed its identity (it was declared down, and is back): same
    // process, same connection.
    let check = within("the check", a.check_connection(b.local_addr())).await;
    assert_eq!(check, ConnectionCheck::Alive);
    a.send(b.local_addr(), Message::Swim(vec![2]));
    assert_eq!(next_swim(&mut b_rx).await, vec![2]);
    assert_eq!(a.stats().connections_opened, 1);
    // The probe is no message: b received exactly what a sent.
    assert_eq!(b.stats().messages_received, 2);

    let unknown = "127.0.0.1:9".parse().expect("addr");
    assert_eq!(a.check_connection(unknown).await, ConnectionCheck::Absent);
    a.close().await;
    b.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_connection_to_a_restarted_peer_is_replaced() {
    let (a, _a_rx) = node();
    let (first, mut first_rx) = node();
    let (target_tx, target_rx) = watch::channel(first.local_addr());
    let peer = relay(target_rx).await;

    a.send(peer, Message::Swim(vec![1]));
    assert_eq!(next_swim(&mut first_rx).await, vec![1]);

    // The peer restarts at the same address: the new process does not know
    // the connection.
    let (second, mut second_rx) = node();
    target_tx.send_replace(second.local_addr());
    let check = within("the check", a.check_connection(peer)).await;
    assert_eq!(check, ConnectionCheck::Replaced);

    a.send(peer, Message::Swim(vec![2]));
    assert_eq!(next_swim(&mut second_rx).await, vec![2]);
    assert_eq!(a.stats().connections_opened, 2);
    assert!(first_rx.try_recv().is_err());
    a.close().await;
    first.close().await;
    second.close().await;
}
