//! A few nodes wired together in memory on virtual time: when syncs open
//! and how often members seen down are re-contacted.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use patina_store::SiteId;

use super::*;

fn addr(i: usize) -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], 7000 + i as u16))
}

/// Nodes `0..n`, a link matrix, and a log of what each sent to whom.
struct Net {
    nodes: Vec<Node>,
    cut: Vec<usize>,
    now: Instant,
    /// (time, from, to) of every SWIM packet sent.
    swim_sent: Vec<(Instant, usize, usize)>,
    /// (time, who, with) of every sync session opened.
    syncs: Vec<(Instant, usize, usize)>,
}

impl Net {
    fn new(n: usize) -> Net {
        let now = Instant::now();
        let nodes = (0..n)
            .map(|i| {
                let id = NodeId::new(SiteId([i as u8 + 1; 16]), addr(i), 1);
                Node::new(id, SyncState::default(), Config::default(), i as u64, now)
            })
            .collect();
        Net {
            nodes,
            cut: Vec::new(),
            now,
            swim_sent: Vec::new(),
            syncs: Vec::new(),
        }
    }

    fn index(&self, to: SocketAddr) -> usize {
        (0..self.nodes.len())
            .find(|i| addr(*i) == to)
            .expect("a node")
    }

    fn linked(&self, a: usize, b: usize) -> bool {
        self.cut.contains(&a) == self.cut.contains(&b)
    }

    /// Delivers everything the nodes send at the current time, until quiet.
    fn pump(&mut self) {
        loop {
            let mut moved = false;
            for i in 0..self.nodes.len() {
                while let Some((to, message)) = self.nodes[i].poll_transmit() {
                    let j = self.index(to);
                    if matches!(message, Message::Swim(_)) {
                        self.swim_sent.push((self.now, i, j));
                    }
                    if self.linked(i, j) {
                        self.nodes[j].handle_message(addr(i), message, self.now);
                        moved = true;
                    }
                }
                while let Some((peer, _request)) = self.nodes[i].poll_sync() {
                    let j = self.index(peer);
                    let (now, ok) = (self.now, self.linked(i, j));
                    self.syncs.push((now, i, j));
                    self.nodes[i].sync_ended(peer, ok, now);
                    moved = true;
                }
                while self.nodes[i].poll_event().is_some() {}
                let now = self.now;
                if self.nodes[i].poll_timeout().is_some_and(|at| at <= now) {
                    self.nodes[i].handle_timeout(now);
                    moved = true;
                }
            }
            if !moved {
                break;
            }
        }
    }

    fn run_for(&mut self, span: Duration) {
        let end = self.now + span;
        while self.now < end {
            self.now += Duration::from_millis(5);
            self.pump();
        }
    }

    fn join_all(&mut self) {
        for i in 1..self.nodes.len() {
            self.nodes[i].join(&[addr(0)], self.now);
        }
        self.pump();
        self.run_for(Duration::from_secs(3));
    }

    fn sees(&self, i: usize, j: usize, state: MemberState) -> bool {
        self.nodes[i]
            .members()
            .iter()
            .any(|m| m.id.addr == addr(j) && m.state == state)
    }

    fn announces(&self, from: usize, to: usize, within: std::ops::Range<Instant>) -> usize {
        self.swim_sent
            .iter()
            .filter(|(at, f, t)| *f == from && *t == to && within.contains(at))
            .count()
    }
}

#[test]
fn a_joining_node_opens_a_sync_with_its_bootstrap_without_waiting_for_a_round() {
    let mut net = Net::new(2);
    let t0 = net.now;
    net.nodes[1].join(&[addr(0)], t0);
    // No time passes: the announce, its answer and the sync all happen now.
    net.pump();
    assert!(net.sees(1, 0, MemberState::Alive));
    assert!(
        net.syncs.contains(&(t0, 1, 0)),
        "the new node syncs with its bootstrap at once: {:?}",
        net.syncs
    );
    assert!(
        net.syncs.contains(&(t0, 0, 1)),
        "and the bootstrap with the new node: {:?}",
        net.syncs
    );
}

#[test]
fn members_seen_down_are_recontacted_fast_then_less_often_and_synced_with_on_return() {
    let mut net = Net::new(3);
    net.join_all();
    assert!(net.sees(0, 2, MemberState::Alive) && net.sees(2, 0, MemberState::Alive));

    net.cut = vec![2];
    let cut_at = net.now;
    while !net.sees(0, 2, MemberState::Down) {
        net.run_for(Duration::from_millis(100));
        assert!(
            net.now < cut_at + Duration::from_secs(30),
            "never seen down"
        );
    }
    let down_at = net.now;
    // Right after the loss: about every 250 ms.
    net.run_for(Duration::from_secs(2));
    let early = net.announces(0, 2, down_at..net.now);
    assert!((7..=9).contains(&early), "{early} announces in 2 s");
    // Much later: every 2 s.
    net.run_for(Duration::from_secs(30));
    let late_from = net.now;
    net.run_for(Duration::from_secs(10));
    let late = net.announces(0, 2, late_from..net.now);
    assert!((4..=6).contains(&late), "{late} announces in 10 s");

    // A fresh loss: node 1 is cut off too, and node 0, alone now, announces
    // to everyone it lost. Healed a second later, all are found again and
    // synced with within a fraction of a second.
    net.cut = vec![1, 2];
    while !net.sees(0, 1, MemberState::Down) {
        net.run_for(Duration::from_millis(100));
        assert!(
            net.now < late_from + Duration::from_secs(60),
            "never seen down"
        );
    }
    net.run_for(Duration::from_secs(1));
    net.cut.clear();
    let healed_at = net.now;
    while !(net.sees(0, 1, MemberState::Alive) && net.sees(0, 2, MemberState::Alive)) {
        net.run_for(Duration::from_millis(5));
        assert!(net.now < healed_at + Duration::from_secs(5), "never back");
    }
    let back_in = net.now - healed_at;
    assert!(
        back_in <= Duration::from_millis(300),
        "back after {back_in:?}"
    );
    for peer in [1, 2] {
        assert!(
            net.syncs
                .iter()
                .any(|(at, i, j)| (*i, *j) == (0, peer) && *at >= healed_at),
            "synced with {peer} on its return: {:?}",
            net.syncs
        );
    }
}

#[test]
fn members_are_exchanged_while_members_come_up_and_no_longer() {
    let mut net = Net::new(4);
    for i in 1..3 {
        net.nodes[i].join(&[addr(0)], net.now);
    }
    net.pump();
    let exchange = Config::default().member_exchange;
    let quiet = Config::default().member_exchange_for;
    assert!(
        net.nodes[0].exchange_at == Some(net.now + exchange),
        "a member came up: node 0 asks one for its members soon"
    );
    net.run_for(quiet + exchange * 2);
    assert!(
        net.nodes.iter().all(|node| node.exchange_at.is_none()),
        "no member came up for a while: no more exchanges"
    );
    let joined_at = net.now;
    net.nodes[3].join(&[addr(0)], joined_at);
    net.pump();
    assert_eq!(net.nodes[0].exchange_at, Some(joined_at + exchange));
}
