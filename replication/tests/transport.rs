//! The QUIC transport between real endpoints on loopback: datagrams,
//! streams, sync sessions, large messages, dead peers, garbage, and peer
//! TLS (mutual and insecure).

use std::future::Future;
use std::net::{SocketAddr, UdpSocket};
use std::path::Path;
use std::time::{Duration, Instant};

use bytes::Bytes;
use patina_replication::message::Chunk;
use patina_replication::tls::{self, PeerTls};
use patina_replication::transport::{Inbound, Transport, TransportError};
use patina_replication::{Message, SyncState};
use patina_store::{Change, SiteId, Value};
use tokio::sync::mpsc::Receiver;
use tokio::sync::mpsc::error::TryRecvError;

const WAIT: Duration = Duration::from_secs(10);

fn loopback() -> SocketAddr {
    "127.0.0.1:0".parse().expect("addr")
}

fn node(tls: &PeerTls) -> (Transport, Receiver<Inbound>) {
    Transport::bind(loopback(), tls).expect("binds")
}

async fn within<T>(what: &str, future: impl Future<Output = T>) -> T {
    tokio::time::timeout(WAIT, future)
        .await
        .unwrap_or_else(|_| panic!("timed out waiting for {what}"))
}

/// Polls `condition` until it holds (or fails the test after [`WAIT`]).
async fn until(what: &str, mut condition: impl FnMut() -> bool) {
    within(what, async {
        while !condition() {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    })
    .await;
}

async fn next(rx: &mut Receiver<Inbound>) -> Inbound {
    within("an inbound message", rx.recv())
        .await
        .expect("inbound channel open")
}

async fn next_message(rx: &mut Receiver<Inbound>) -> (SocketAddr, Message) {
    match next(rx).await {
        Inbound::Message { from, message } => (from, message),
        Inbound::Sync { from, .. } => panic!("unexpected sync session from {from}"),
    }
}

fn chunk(site: u8, version: u64, blob: Vec<u8>) -> Chunk {
    Chunk::Changes {
        site: SiteId([site; 16]),
        version,
        part: 0,
        parts: 1,
        changes: vec![Change {
            table: "t".into(),
            pk: vec![Value::Integer(version as i64)],
            column: Some("c".into()),
            value: Value::Blob(blob),
            col_version: 1,
            causal_length: 1,
            seq: 0,
        }],
        keys: [("t".to_owned(), vec!["id".to_owned()])].into(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn datagram_and_stream_messages_arrive_from_the_sender() {
    let (a, _a_rx) = node(&PeerTls::Insecure);
    let (b, mut b_rx) = node(&PeerTls::Insecure);

    let swim = Message::Swim(vec![7; 200]);
    a.send(b.local_addr(), swim.clone());
    let (from, message) = next_message(&mut b_rx).await;
    assert_eq!(from, a.local_addr());
    assert_eq!(message, swim);

    let broadcast = Message::Broadcast(vec![chunk(1, 1, vec![1, 2, 3])]);
    a.send(b.local_addr(), broadcast.clone());
    let (from, message) = next_message(&mut b_rx).await;
    assert_eq!(from, a.local_addr());
    assert_eq!(message, broadcast);

    // Too large for a datagram: falls back to a stream, still arrives.
    let big_swim = Message::Swim(vec![9; 20_000]);
    a.send(b.local_addr(), big_swim.clone());
    let (from, message) = next_message(&mut b_rx).await;
    assert_eq!(from, a.local_addr());
    assert_eq!(message, big_swim);

    let stats = a.stats();
    assert_eq!(
        stats.connections_opened, 1,
        "one connection reused: {stats:?}"
    );
    until("a's sends to be acknowledged", || {
        a.stats().messages_sent == 3
    })
    .await;
    assert_eq!(b.stats().messages_received, 3);
    a.close().await;
    b.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn many_messages_arrive_in_both_directions() {
    let (a, mut a_rx) = node(&PeerTls::Insecure);
    let (b, mut b_rx) = node(&PeerTls::Insecure);
    let count = 500u64;
    // Streams, not datagrams: datagrams may be lost, and this counts.
    for i in 0..count {
        a.send(
            b.local_addr(),
            Message::Broadcast(vec![chunk(1, i, vec![])]),
        );
        b.send(
            a.local_addr(),
            Message::Broadcast(vec![chunk(2, i, vec![])]),
        );
    }
    let mut from_a = Vec::new();
    let mut from_b = Vec::new();
    for _ in 0..count {
        let (from, message) = next_message(&mut b_rx).await;
        assert_eq!(from, a.local_addr());
        from_a.push(message);
        let (from, message) = next_message(&mut a_rx).await;
        assert_eq!(from, b.local_addr());
        from_b.push(message);
    }
    // Each message arrives once, in the order it was sent: every one went
    // on the sender's one stream to that peer.
    let versions = |messages: &[Message]| {
        messages
            .iter()
            .map(|message| match message {
                Message::Broadcast(chunks) => match &chunks[..] {
                    [Chunk::Changes { version, .. }] => *version,
                    other => panic!("unexpected {other:?}"),
                },
                other => panic!("unexpected {other:?}"),
            })
            .collect::<Vec<u64>>()
    };
    let expected: Vec<u64> = (0..count).collect();
    assert_eq!(versions(&from_a), expected);
    assert_eq!(versions(&from_b), expected);
    assert_eq!(a.stats().streams_opened, 1, "{:?}", a.stats());
    assert_eq!(b.stats().streams_opened, 1, "{:?}", b.stats());
    a.close().await;
    b.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_peer_answers_on_the_connection_opened_to_it() {
    let (a, mut a_rx) = node(&PeerTls::Insecure);
    let (b, mut b_rx) = node(&PeerTls::Insecure);
    a.send(b.local_addr(), Message::Swim(vec![1]));
    assert_eq!(next_message(&mut b_rx).await.1, Message::Swim(vec![1]));

    // b's datagrams, stream frames and sync session all go on a's connection.
    b.send(a.local_addr(), Message::Swim(vec![2]));
    let broadcast = Message::Broadcast(vec![chunk(2, 1, vec![2; 10])]);
    b.send(a.local_addr(), broadcast.clone());
    assert_eq!(
        next_message(&mut a_rx).await,
        (b.local_addr(), Message::Swim(vec![2]))
    );
    assert_eq!(next_message(&mut a_rx).await, (b.local_addr(), broadcast));
    let mut client = b
        .open_sync(a.local_addr(), SyncState::default())
        .await
        .expect("opens");
    let Inbound::Sync {
        from, mut reply, ..
    } = next(&mut a_rx).await
    else {
        panic!("expected a sync session");
    };
    assert_eq!(from, b.local_addr());
    let answer = Message::SyncChunks(vec![chunk(1, 1, vec![])]);
    reply.send(&answer).await.expect("answers");
    reply.finish().await;
    assert_eq!(
        within("the answer", client.next()).await.expect("reads"),
        Some(answer)
    );
    assert_eq!(within("the end", client.next()).await.expect("reads"), None);

    let (a_stats, b_stats) = (a.stats(), b.stats());
    assert_eq!(a_stats.connections_opened, 1, "{a_stats:?}");
    assert_eq!(b_stats.connections_opened, 0, "{b_stats:?}");
    assert_eq!(a_stats.open_connections, 1, "{a_stats:?}");
    assert_eq!(b_stats.open_connections, 1, "{b_stats:?}");
    a.close().await;
    b.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sync_session_streams_many_frames_and_ends() {
    let (a, _a_rx) = node(&PeerTls::Insecure);
    let (b, mut b_rx) = node(&PeerTls::Insecure);
    let frames = 2_000u64;

    let mut client = a
        .open_sync(b.local_addr(), SyncState::default())
        .await
        .expect("opens");
    let server = tokio::spawn(async move {
        let Inbound::Sync {
            from,
            request,
            mut reply,
        } = next(&mut b_rx).await
        else {
            panic!("expected a sync session");
        };
        assert_eq!(request, SyncState::default());
        for version in 1..=frames {
            reply
                .send(&Message::SyncChunks(vec![chunk(3, version, vec![0; 1000])]))
                .await
                .expect("sends");
        }
        reply.finish().await;
        (from, b_rx)
    });

    let mut received = 0;
    while let Some(message) = within("a sync frame", client.next()).await.expect("reads") {
        let Message::SyncChunks(chunks) = message else {
            panic!("unexpected {message:?}");
        };
        received += 1;
        assert_eq!(chunks, vec![chunk(3, received, vec![0; 1000])]);
    }
    assert_eq!(received, frames);
    let (from, _b_rx) = within("the server task", server).await.expect("server");
    assert_eq!(from, a.local_addr());
    a.close().await;
    b.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn abandoned_sync_reply_is_an_error_not_an_end() {
    let (a, _a_rx) = node(&PeerTls::Insecure);
    let (b, mut b_rx) = node(&PeerTls::Insecure);
    let mut client = a
        .open_sync(b.local_addr(), SyncState::default())
        .await
        .expect("opens");
    let Inbound::Sync { mut reply, .. } = next(&mut b_rx).await else {
        panic!("expected a sync session");
    };
    reply.send(&Message::SyncBusy).await.expect("sends");
    drop(reply);
    // The frame may or may not arrive before the reset; the session must
    // end in an error either way, never look complete.
    loop {
        match within("the reset", client.next()).await {
            Ok(Some(message)) => assert_eq!(message, Message::SyncBusy),
            Ok(None) => panic!("an abandoned answer looked complete"),
            Err(error) => {
                assert!(matches!(error, TransportError::Stream { .. }), "{error:?}");
                break;
            }
        }
    }
    a.close().await;
    b.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn large_broadcast_arrives_whole() {
    let (a, _a_rx) = node(&PeerTls::Insecure);
    let (b, mut b_rx) = node(&PeerTls::Insecure);
    let blob: Vec<u8> = (0..6 * 1024 * 1024).map(|i: u32| (i % 251) as u8).collect();
    let broadcast = Message::Broadcast(vec![chunk(4, 1, blob)]);
    a.send(b.local_addr(), broadcast.clone());
    let (from, message) = next_message(&mut b_rx).await;
    assert_eq!(from, a.local_addr());
    assert_eq!(message, broadcast);
    a.close().await;
    b.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dead_peer_neither_blocks_nor_panics() {
    let (a, _a_rx) = node(&PeerTls::Insecure);
    let (b, mut b_rx) = node(&PeerTls::Insecure);
    let dead = {
        let socket = UdpSocket::bind(loopback()).expect("binds");
        socket.local_addr().expect("addr")
    };

    let started = Instant::now();
    for i in 0..5_000u32 {
        a.send(dead, Message::Swim(i.to_be_bytes().to_vec()));
    }
    assert!(
        started.elapsed() < Duration::from_secs(1),
        "send blocked: {:?}",
        started.elapsed()
    );
    // The queue holds at most PEER_QUEUE; the rest are dropped at once.
    // (One more may already be out of the queue, waiting for the connect.)
    let queued = patina_replication::transport::PEER_QUEUE as u64 + 1;
    assert!(a.stats().dropped >= 5_000 - queued);

    // The live peer is unaffected.
    a.send(b.local_addr(), Message::Swim(vec![1]));
    let (from, message) = next_message(&mut b_rx).await;
    assert_eq!(from, a.local_addr());
    assert_eq!(message, Message::Swim(vec![1]));

    // The dead peer's queue is dropped once the connect times out.
    until("the dead peer's messages to be dropped", || {
        a.stats().dropped == 5_000
    })
    .await;
    assert!(a.stats().connect_failures >= 1);

    let sync = within(
        "open_sync to a dead peer",
        a.open_sync(dead, SyncState::default()),
    )
    .await;
    assert!(
        matches!(sync, Err(TransportError::ConnectTimeout { .. })),
        "{sync:?}"
    );

    // Still working after all that.
    a.send(b.local_addr(), Message::SyncBusy);
    assert_eq!(next_message(&mut b_rx).await.1, Message::SyncBusy);
    a.close().await;
    b.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn garbage_udp_datagrams_do_not_break_the_endpoint() {
    let (a, _a_rx) = node(&PeerTls::Insecure);
    let (b, mut b_rx) = node(&PeerTls::Insecure);

    a.send(b.local_addr(), Message::Swim(vec![1]));
    assert_eq!(next_message(&mut b_rx).await.1, Message::Swim(vec![1]));

    let socket = UdpSocket::bind(loopback()).expect("binds");
    let mut state = 0x1234_5678_u32;
    let mut byte = || {
        // xorshift: deterministic noise without another dependency.
        state ^= state << 13;
        state ^= state >> 17;
        state ^= state << 5;
        state as u8
    };
    for size in [0, 1, 5, 20, 100, 1200, 1350, 1500, 9000] {
        for first in [0x00, 0x40, 0x80, 0xC0, 0xFF] {
            let mut packet: Vec<u8> = (0..size).map(|_| byte()).collect();
            if let Some(head) = packet.first_mut() {
                *head = first | (*head & 0x0F);
            }
            // Sending can fail for the largest sizes; the point is what arrives.
            let _ = socket.send_to(&packet, b.local_addr());
        }
    }

    // The existing connection and a new one both still work.
    a.send(b.local_addr(), Message::Swim(vec![2]));
    assert_eq!(next_message(&mut b_rx).await.1, Message::Swim(vec![2]));
    let (c, _c_rx) = node(&PeerTls::Insecure);
    c.send(b.local_addr(), Message::Swim(vec![3]));
    let (from, message) = next_message(&mut b_rx).await;
    assert_eq!((from, message), (c.local_addr(), Message::Swim(vec![3])));
    a.close().await;
    b.close().await;
    c.close().await;
}

/// Garbage inside a real QUIC connection (datagrams and streams that are
/// not frames) is dropped piece by piece; the connection keeps working.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_frames_are_dropped_and_the_connection_kept() {
    let (b, mut b_rx) = node(&PeerTls::Insecure);
    let configs = PeerTls::Insecure.quic_configs().expect("configs");
    let mut raw = quinn::Endpoint::client(loopback()).expect("raw endpoint");
    raw.set_default_client_config(configs.client);
    let connection = within(
        "the raw connection",
        raw.connect(b.local_addr(), tls::PEER_NAME)
            .expect("connect"),
    )
    .await
    .expect("connects");
    let raw_addr = raw.local_addr().expect("addr");

    connection
        .send_datagram(Bytes::from_static(b"\x01\x00\x00\x00\x03abc"))
        .expect("datagram");
    connection
        .send_datagram(Bytes::from_static(b"not a frame"))
        .expect("datagram");
    let oversized = [1, 0xFF, 0xFF, 0xFF, 0xFF];
    let truncated = [1, 0, 0, 0, 10, 0];
    let bad_version = [9, 0, 0, 0, 1, 5];
    for garbage in [
        &oversized[..],
        &truncated[..],
        &bad_version[..],
        b"\x01\x00\x00\x00\x01\xEE",
    ] {
        let mut stream = connection.open_uni().await.expect("uni");
        stream.write_all(garbage).await.expect("writes");
        stream.finish().expect("finishes");
    }
    // A bidirectional stream that does not open with a sync request.
    let (mut send, _recv) = connection.open_bi().await.expect("bi");
    send.write_all(&patina_replication::wire::encode(&Message::SyncBusy).expect("encodes"))
        .await
        .expect("writes");
    send.finish().expect("finishes");

    until("every piece of garbage to be rejected", || {
        b.stats().rejected_frames == 7
    })
    .await;

    let mut stream = connection.open_uni().await.expect("uni");
    let good = Message::Broadcast(vec![chunk(5, 1, vec![5])]);
    stream
        .write_all(&patina_replication::wire::encode(&good).expect("encodes"))
        .await
        .expect("writes");
    stream.finish().expect("finishes");
    let (from, message) = next_message(&mut b_rx).await;
    assert_eq!((from, message), (raw_addr, good));
    assert!(connection.close_reason().is_none());
    connection.close(0u32.into(), b"");
    b.close().await;
}

struct Cluster {
    dir: tempfile::TempDir,
    ca: String,
    ca_key: String,
}

impl Cluster {
    fn new() -> Cluster {
        let (ca, ca_key) = tls::generate::ca().expect("ca");
        Cluster {
            dir: tempfile::tempdir().expect("tempdir"),
            ca,
            ca_key,
        }
    }

    /// A node trusting the `trusted` CAs with a certificate signed by `self`'s.
    fn member(&self, name: &str, trusted: &[&Cluster]) -> PeerTls {
        let (cert, key) =
            tls::generate::signed(&self.ca, &self.ca_key, &["127.0.0.1".into()]).expect("signed");
        let write = |dir: &Path, file: &str, contents: &str| {
            let path = dir.join(format!("{name}-{file}"));
            std::fs::write(&path, contents).expect("writes");
            path
        };
        let dir = self.dir.path();
        PeerTls::Mutual {
            ca: write(
                dir,
                "ca.pem",
                &trusted.iter().map(|c| c.ca.as_str()).collect::<String>(),
            ),
            cert: write(dir, "cert.pem", &cert),
            key: write(dir, "key.pem", &key),
        }
    }
}

/// A node whose certificate is not signed by the CA `rx`'s node trusts
/// (`other`) sends and is sent to; once both failures are seen, a marker
/// from a legitimate member must be the first thing either side received.
async fn assert_refused(
    a: &Transport,
    a_rx: &mut Receiver<Inbound>,
    b: &Transport,
    other: &Transport,
    other_rx: &mut Receiver<Inbound>,
) {
    let before = a.stats();
    // A stream, so a refusal after the other side's handshake completed
    // still shows as a failed (dropped) message.
    other.send(
        a.local_addr(),
        Message::Broadcast(vec![chunk(8, 1, vec![0xBA])]),
    );
    a.send(other.local_addr(), Message::Swim(vec![0xBA, 0xD1]));

    until("a to refuse the other node's connection", || {
        a.stats().connections_refused > before.connections_refused
    })
    .await;
    until("a's connection to the other node to fail", || {
        a.stats().connect_failures > before.connect_failures
    })
    .await;
    until("the other node's message to be dropped", || {
        other.stats().dropped >= 1
    })
    .await;

    b.send(a.local_addr(), Message::Swim(vec![0x60, 0x0D]));
    let (from, message) = next_message(a_rx).await;
    assert_eq!(
        (from, message),
        (b.local_addr(), Message::Swim(vec![0x60, 0x0D]))
    );
    assert!(matches!(other_rx.try_recv(), Err(TryRecvError::Empty)));
    assert_eq!(other.stats().messages_received, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mutual_tls_members_talk_and_strangers_are_refused() {
    let cluster = Cluster::new();
    let stranger_ca = Cluster::new();
    let (a, mut a_rx) = node(&cluster.member("a", &[&cluster]));
    let (b, mut b_rx) = node(&cluster.member("b", &[&cluster]));

    a.send(b.local_addr(), Message::Swim(vec![1]));
    let (from, message) = next_message(&mut b_rx).await;
    assert_eq!((from, message), (a.local_addr(), Message::Swim(vec![1])));
    b.send(
        a.local_addr(),
        Message::Broadcast(vec![chunk(6, 1, vec![6])]),
    );
    let (from, message) = next_message(&mut a_rx).await;
    assert_eq!(
        (from, message),
        (
            b.local_addr(),
            Message::Broadcast(vec![chunk(6, 1, vec![6])])
        )
    );
    let mut client = a
        .open_sync(b.local_addr(), SyncState::default())
        .await
        .expect("opens");
    let Inbound::Sync { from, reply, .. } = next(&mut b_rx).await else {
        panic!("expected a sync session");
    };
    assert_eq!(from, a.local_addr());
    reply.finish().await;
    assert_eq!(within("the end", client.next()).await.expect("reads"), None);

    // A node of another cluster: its own CA, its own certificate.
    let (stranger, mut stranger_rx) = node(&stranger_ca.member("stranger", &[&stranger_ca]));
    assert_refused(&a, &mut a_rx, &b, &stranger, &mut stranger_rx).await;

    // A node that trusts our CA (and its own) but holds a certificate of
    // another: it accepts our certificate, we refuse its.
    let (impostor, mut impostor_rx) =
        node(&stranger_ca.member("impostor", &[&cluster, &stranger_ca]));
    assert_refused(&a, &mut a_rx, &b, &impostor, &mut impostor_rx).await;
    let sync = within(
        "a sync from the impostor",
        impostor.open_sync(a.local_addr(), SyncState::default()),
    )
    .await;
    match sync {
        // Refused during the handshake, or right after it on the stream.
        Err(_) => {}
        Ok(mut client) => assert!(within("the refusal", client.next()).await.is_err()),
    }

    // An insecure node can neither join nor be joined.
    let (insecure, mut insecure_rx) = node(&PeerTls::Insecure);
    assert_refused(&a, &mut a_rx, &b, &insecure, &mut insecure_rx).await;

    for node in [a, b, stranger, impostor, insecure] {
        node.close().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn close_delivers_what_was_sent_and_ends_the_inbound_channel() {
    let (a, _a_rx) = node(&PeerTls::Insecure);
    let (b, mut b_rx) = node(&PeerTls::Insecure);
    a.send(b.local_addr(), Message::Swim(vec![1]));
    assert_eq!(next_message(&mut b_rx).await.1, Message::Swim(vec![1]));

    let broadcast = Message::Broadcast(vec![chunk(7, 1, vec![7; 100_000])]);
    a.send(b.local_addr(), broadcast.clone());
    a.close().await;
    assert_eq!(next_message(&mut b_rx).await.1, broadcast);

    a.send(b.local_addr(), Message::Swim(vec![2]));
    assert!(a.stats().dropped >= 1);
    b.close().await;
    assert!(
        within("the inbound channel to end", b_rx.recv())
            .await
            .is_none()
    );
}
