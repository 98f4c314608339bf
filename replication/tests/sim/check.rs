//! What a converged cluster looks like, and the verdict on a run.

use std::fmt::Write as _;
use std::time::Duration;

use patina_replication::SyncState;
use patina_replication::core::MemberState;
use patina_replication::sync::Holdings;

use super::cluster::Sim;
use super::workload;

/// Every version every node committed, as each node must end up holding.
pub fn expected(sim: &Sim) -> SyncState {
    let mut all = Holdings::new();
    for n in &sim.nodes {
        let head = n.store.db_version().expect("db version");
        all.insert(n.store.site_id(), 1..=head);
    }
    all.to_state()
}

/// Every running node says it holds everything (cheap: no store reads).
pub fn nodes_agree(sim: &Sim, expected: &SyncState) -> bool {
    sim.nodes.iter().all(|n| {
        n.node
            .as_ref()
            .is_some_and(|node| node.have().normalized() == *expected)
    })
}

/// The stores agree with each other and with what was written: same
/// bookkeeping, same rows, every unique key present.
pub fn verify_stores(sim: &Sim, expected: &SyncState) -> Result<(), String> {
    let first = workload::dump(&sim.nodes[0].store);
    for (i, n) in sim.nodes.iter().enumerate() {
        let state = SyncState::from(n.store.sync_state().expect("sync state")).normalized();
        if state != *expected {
            return Err(format!(
                "node {i}'s store holds {state:?}, its node says {:?}, expected {expected:?}",
                n.node.as_ref().map(|node| node.have().normalized())
            ));
        }
        let dump = workload::dump(&n.store);
        if dump != first {
            let diff: Vec<_> = dump
                .iter()
                .filter(|row| !first.contains(row))
                .chain(first.iter().filter(|row| !dump.contains(row)))
                .take(6)
                .collect();
            return Err(format!(
                "node {i}'s table differs from node 0's ({} vs {} rows), e.g. {diff:?}",
                dump.len(),
                first.len()
            ));
        }
    }
    let keys: std::collections::BTreeSet<i64> = first
        .iter()
        .filter_map(|(k, _, _)| match k {
            patina_store::Value::Integer(k) => Some(*k),
            _ => None,
        })
        .collect();
    for (i, n) in sim.nodes.iter().enumerate() {
        if let Some(missing) = n.unique.iter().find(|k| !keys.contains(k)) {
            return Err(format!("key {missing} inserted by node {i} is missing"));
        }
    }
    Ok(())
}

/// Every running node that has not left sees every other such node up,
/// with its current identity.
pub fn membership_converged(sim: &Sim) -> bool {
    let live: Vec<_> = sim
        .nodes
        .iter()
        .filter(|n| !n.left)
        .filter_map(|n| n.node.as_ref().map(|node| node.id()))
        .collect();
    sim.nodes.iter().filter(|n| !n.left).all(|n| {
        let Some(node) = n.node.as_ref() else {
            return false;
        };
        let members = node.members();
        live.iter()
            .filter(|id| **id != node.id())
            .all(|id| members.iter().any(|m| m.id == *id && m.state.is_up()))
    })
}

/// Every running node that has not left sees node `i` down (or has
/// forgotten it), and not up under any identity.
pub fn seen_down(sim: &Sim, i: usize) -> bool {
    let addr = sim.nodes[i].addr;
    sim.nodes
        .iter()
        .enumerate()
        .filter(|(j, n)| *j != i && !n.left)
        .all(|(_, n)| {
            n.node.as_ref().is_some_and(|node| {
                node.members()
                    .iter()
                    .filter(|m| m.id.addr == addr)
                    .all(|m| m.state == MemberState::Down)
            })
        })
}

/// A readable account of every node, for a failure message.
pub fn describe(sim: &Sim, expected: &SyncState) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "  at {:?}; expected {:?}", sim.now, expected);
    for (i, n) in sim.nodes.iter().enumerate() {
        match &n.node {
            None => {
                let _ = writeln!(out, "  node {i} {}: crashed", n.addr);
            }
            Some(node) => {
                let up = node.members().iter().filter(|m| m.state.is_up()).count();
                let _ = writeln!(
                    out,
                    "  node {i} {}: {} members up, behind {}, have {:?}",
                    node.id(),
                    up,
                    node.is_behind(),
                    node.have().normalized()
                );
            }
        }
    }
    out
}

/// How a run ended.
#[derive(Debug)]
pub struct Outcome {
    /// Virtual time from the end of the fault phase to convergence.
    pub settle: Duration,
    pub stats: super::cluster::Stats,
    /// Everything observable at the end (time, counters, every node's
    /// identity, holdings and rows): equal for two runs of one seed.
    pub fingerprint: String,
}

pub fn fingerprint(sim: &Sim) -> String {
    let mut out = format!("{:?} {:?}\n", sim.now, sim.stats);
    for n in &sim.nodes {
        let id = n.node.as_ref().map(|node| node.id());
        let _ = writeln!(out, "{id:?} {:?}", workload::dump(&n.store));
    }
    out
}
