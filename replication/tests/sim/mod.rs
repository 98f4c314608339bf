//! A deterministic simulation of a patina cluster: `Node`s with real
//! in-memory stores on one virtual clock, every choice drawn from one seed.
//!
//! - `scenario`: a run's parameters, derived from its seed.
//! - `cluster`: the event loop and the driver (network, sessions, apply,
//!   writes, crashes).
//! - `stores`: in-memory stores with seeded site ids.
//! - `workload`: the writes and the table dump.
//! - `check`: convergence checks and failure reports.
#![allow(dead_code)]

pub mod check;
pub mod cluster;
pub mod scenario;
pub mod stores;
pub mod workload;

use std::time::Duration;

pub use check::Outcome;
pub use cluster::{Sim, Stats};
pub use scenario::{Class, Scenario};

/// Runs one scenario: the fault phase, then a perfect network until every
/// node holds every version and the stores agree.
pub fn run(scenario: Scenario) -> Result<Outcome, String> {
    let limit = scenario.settle_limit;
    let phase = scenario.fault_phase;
    let mut sim = Sim::new(scenario);
    sim.run_until(phase);
    // The fault phase ends with an event at `phase`; run until it fired.
    while !sim.fault_phase_over() {
        let next = sim.now + Duration::from_millis(1);
        sim.run_until(next);
    }
    let settled_from = sim.now;
    let step = Duration::from_millis(100);
    loop {
        let expected = check::expected(&sim);
        if check::nodes_agree(&sim, &expected) {
            check::verify_stores(&sim, &expected)
                .map_err(|e| format!("{e}\n{}", check::describe(&sim, &expected)))?;
            return Ok(Outcome {
                settle: sim.now - settled_from,
                stats: sim.stats.clone(),
                fingerprint: check::fingerprint(&sim),
            });
        }
        if sim.now - settled_from > limit {
            return Err(format!(
                "no convergence {limit:?} after the fault phase\n{}",
                check::describe(&sim, &expected)
            ));
        }
        let next = sim.now + step;
        sim.run_until(next);
    }
}
