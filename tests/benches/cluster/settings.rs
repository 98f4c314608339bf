//! The bench's settings, read from the environment.

use super::*;

#[derive(Debug, Clone)]
pub(crate) struct Settings {
    pub(crate) sizes: Vec<usize>,
    pub(crate) phases: Vec<String>,
    pub(crate) rate: f64,
    pub(crate) prop_secs: f64,
    pub(crate) writers: usize,
    pub(crate) tput_secs: f64,
    pub(crate) split_rows: i64,
    pub(crate) catchup_rows: i64,
    pub(crate) idle_secs: f64,
    pub(crate) settle_secs: f64,
    pub(crate) poll_budget: f64,
    pub(crate) wait_down: bool,
    pub(crate) partition_rounds: usize,
}

pub(crate) fn env<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name)
        .ok()
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(default)
}

impl Settings {
    pub(crate) fn from_env() -> Settings {
        let list = |name: &str, default: &str| -> Vec<String> {
            std::env::var(name)
                .unwrap_or_else(|_| default.to_owned())
                .split(',')
                .map(|s| s.trim().to_owned())
                .filter(|s| !s.is_empty())
                .collect()
        };
        Settings {
            sizes: list("CLUSTER_SIZES", "3,10,30")
                .iter()
                .filter_map(|s| s.parse().ok())
                .filter(|n| (2..=250).contains(n))
                .collect(),
            phases: list(
                "CLUSTER_PHASES",
                "idle,propagation,throughput,partition,catchup",
            ),
            rate: env("CLUSTER_RATE", 100.0f64).max(1.0),
            prop_secs: env("CLUSTER_PROP_SECS", 5.0f64).max(0.5),
            writers: env("CLUSTER_WRITERS", 4usize).max(1),
            tput_secs: env("CLUSTER_TPUT_SECS", 5.0f64).max(0.5),
            split_rows: env("CLUSTER_SPLIT_ROWS", 20_000i64).max(SPLIT_BATCH),
            catchup_rows: env("CLUSTER_CATCHUP_ROWS", 100_000i64).max(CATCHUP_BATCH),
            idle_secs: env("CLUSTER_IDLE_SECS", 5.0f64).max(1.0),
            settle_secs: env("CLUSTER_SETTLE_SECS", 3.0f64).max(0.0),
            poll_budget: env("CLUSTER_POLL_BUDGET", 4000.0f64).max(100.0),
            wait_down: env("CLUSTER_WAIT_DOWN", 1u8) != 0,
            partition_rounds: env("CLUSTER_PARTITION_ROUNDS", 3usize),
        }
    }

    pub(crate) fn runs(&self, phase: &str) -> bool {
        self.phases.iter().any(|p| p == phase)
    }

    /// The observers' poll interval at `n` nodes: the budget spread over
    /// the nodes, at least 1 ms.
    pub(crate) fn poll(&self, n: usize) -> Duration {
        Duration::from_secs_f64((n as f64 / self.poll_budget).max(0.001))
    }
}

pub(crate) fn progress(what: &str) {
    eprintln!("[cluster bench] {what}");
}
