//! Support for the cluster bench: visibility probes, process and network
//! counters, percentiles.

pub mod nft;
pub mod probes;
pub mod procfs;
pub mod schedule;
pub mod stats;
