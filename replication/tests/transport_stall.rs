//! A connection across a partition: it stalls (what it sent fills QUIC's
//! congestion window unacknowledged, and its loss probes back off), so
//! once the path is back the next message goes on a new connection
//! instead of waiting for the stuck one's next probe. The partition is a
//! UDP relay in front of the peer that drops everything while it is on.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use patina_replication::Message;
use patina_replication::tls::{IDLE_TIMEOUT, PeerTls};
use patina_replication::transport::{Inbound, Transport};
use tokio::net::UdpSocket;
use tokio::sync::mpsc::Receiver;

const WAIT: Duration = Duration::from_secs(20);

fn node() -> (Transport, Receiver<Inbound>) {
    Transport::bind("127.0.0.1:0".parse().expect("addr"), &PeerTls::Insecure).expect("binds")
}

async fn within<T>(what: &str, future: impl Future<Output = T>) -> T {
    tokio::time::timeout(WAIT, future)
        .await
        .unwrap_or_else(|_| panic!("timed out waiting for {what}"))
}

/// Waits for the SWIM packet `marker`, skipping every other message.
async fn receive(rx: &mut Receiver<Inbound>, marker: &[u8]) {
    within("the marker", async {
        loop {
            match rx.recv().await {
                Some(Inbound::Message {
                    message: Message::Swim(packet),
                    ..
                }) if packet == marker => return,
                Some(_) => {}
                None => panic!("inbound closed"),
            }
        }
    })
    .await;
}

/// A UDP relay at one address forwarding one client's datagrams to
/// `target` and the answers back, dropping both ways while `cut` is set.
async fn relay(target: SocketAddr, cut: Arc<AtomicBool>) -> SocketAddr {
    let front = Arc::new(UdpSocket::bind("127.0.0.1:0").await.expect("binds"));
    let back = Arc::new(UdpSocket::bind("127.0.0.1:0").await.expect("binds"));
    let addr = front.local_addr().expect("addr");
    let client = Arc::new(std::sync::Mutex::new(None::<SocketAddr>));
    let (front_in, back_out, client_in, cut_in) =
        (front.clone(), back.clone(), client.clone(), cut.clone());
    tokio::spawn(async move {
        let mut buf = vec![0; 65_536];
        while let Ok((len, from)) = front_in.recv_from(&mut buf).await {
            *client_in.lock().expect("lock") = Some(from);
            if !cut_in.load(Ordering::SeqCst) {
                let _ = back_out.send_to(&buf[..len], target).await;
            }
        }
    });
    tokio::spawn(async move {
        let mut buf = vec![0; 65_536];
        while let Ok((len, _)) = back.recv_from(&mut buf).await {
            let to = *client.lock().expect("lock");
            if let Some(to) = to
                && !cut.load(Ordering::SeqCst)
            {
                let _ = front.send_to(&buf[..len], to).await;
            }
        }
    });
    addr
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_connection_stalled_by_a_partition_is_replaced_once_the_path_is_back() {
    let (a, _a_rx) = node();
    let (b, mut b_rx) = node();
    let cut = Arc::new(AtomicBool::new(false));
    let peer = relay(b.local_addr(), cut.clone()).await;

    a.send(peer, Message::Swim(vec![1]));
    receive(&mut b_rx, &[1]).await;
    assert_eq!(a.stats().connections_opened, 1);

    // The partition: what a sends now (large messages on its stream, as
    // broadcasts during a split) goes unacknowledged.
    cut.store(true, Ordering::SeqCst);
    for _ in 0..8 {
        a.send(peer, Message::Swim(vec![7; 60_000]));
    }
    // a keeps talking to b (as SWIM does) until it gives the stalled
    // connection up and tries a new one, which the partition drops too;
    // before the stalled one would have idled out.
    let gave_up = tokio::time::timeout(IDLE_TIMEOUT, async {
        while a.stats().connect_failures == 0 {
            a.send(peer, Message::Swim(vec![2]));
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    })
    .await;
    assert!(
        gave_up.is_ok(),
        "the stalled connection was kept until its idle timeout"
    );
    assert_eq!(a.stats().connections_opened, 1);

    // Healed: the next message goes on a new connection.
    cut.store(false, Ordering::SeqCst);
    within("a message across the healed path", async {
        loop {
            a.send(peer, Message::Swim(vec![3]));
            tokio::select! {
                () = receive(&mut b_rx, &[3]) => break,
                () = tokio::time::sleep(Duration::from_millis(200)) => {}
            }
        }
    })
    .await;
    assert_eq!(a.stats().connections_opened, 2);
    a.close().await;
    b.close().await;
}
