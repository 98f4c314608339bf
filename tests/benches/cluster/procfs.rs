//! A node's process as /proc shows it: which pid runs a data folder, its
//! resident memory and CPU time.

use std::fs;
use std::os::unix::ffi::OsStrExt;
use std::path::Path;
use std::sync::OnceLock;

/// The pid of the process whose command line has `data_dir` as an argument
/// (a node runs `patina agent --data-dir <data_dir> …`).
pub fn pid_of(data_dir: &Path) -> Option<u32> {
    let needle = data_dir.as_os_str().as_bytes();
    for entry in fs::read_dir("/proc").ok()?.flatten() {
        let Some(pid) = entry
            .file_name()
            .to_str()
            .and_then(|s| s.parse::<u32>().ok())
        else {
            continue;
        };
        let Ok(cmdline) = fs::read(entry.path().join("cmdline")) else {
            continue;
        };
        if cmdline.split(|b| *b == 0).any(|arg| arg == needle) {
            return Some(pid);
        }
    }
    None
}

/// A `kB` field of /proc/<pid>/status, in bytes.
fn status_kb(pid: u32, field: &str) -> Option<u64> {
    let status = fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status.lines().find_map(|line| {
        let rest = line.strip_prefix(field)?.strip_prefix(':')?;
        let kb: u64 = rest.trim().strip_suffix("kB")?.trim().parse().ok()?;
        Some(kb * 1024)
    })
}

/// Resident set size (VmRSS: anonymous + file-backed + shared pages), bytes.
pub fn rss(pid: u32) -> Option<u64> {
    status_kb(pid, "VmRSS")
}

/// Anonymous resident memory (RssAnon: heap, stacks), bytes.
pub fn rss_anon(pid: u32) -> Option<u64> {
    status_kb(pid, "RssAnon")
}

/// User + system CPU time so far, seconds.
pub fn cpu_seconds(pid: u32) -> Option<f64> {
    let stat = fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // fields after the command name, which is in parentheses and may hold
    // spaces: state is field 3, utime 14, stime 15
    let after = &stat[stat.rfind(')')? + 1..];
    let fields: Vec<&str> = after.split_whitespace().collect();
    let utime: f64 = fields.get(11)?.parse().ok()?;
    let stime: f64 = fields.get(12)?.parse().ok()?;
    Some((utime + stime) / clock_ticks())
}

fn clock_ticks() -> f64 {
    static TICKS: OnceLock<f64> = OnceLock::new();
    *TICKS.get_or_init(|| {
        std::process::Command::new("getconf")
            .arg("CLK_TCK")
            .output()
            .ok()
            .and_then(|out| String::from_utf8(out.stdout).ok())
            .and_then(|s| s.trim().parse().ok())
            .unwrap_or(100.0)
    })
}

/// Proportional set size (Pss from /proc/<pid>/smaps_rollup: private pages
/// plus each shared page divided by the processes sharing it), bytes.
pub fn pss(pid: u32) -> Option<u64> {
    let rollup = fs::read_to_string(format!("/proc/{pid}/smaps_rollup")).ok()?;
    rollup.lines().find_map(|line| {
        let rest = line.strip_prefix("Pss:")?;
        let kb: u64 = rest.trim().strip_suffix("kB")?.trim().parse().ok()?;
        Some(kb * 1024)
    })
}

/// File-backed resident memory (RssFile: the binary's pages, mapped
/// files), bytes.
pub fn rss_file(pid: u32) -> Option<u64> {
    status_kb(pid, "RssFile")
}

/// Busy CPU seconds of the whole machine so far (every CPU: user, nice,
/// system, irq, softirq, steal from /proc/stat), and the number of CPUs.
pub fn machine_busy() -> Option<(f64, usize)> {
    let stat = fs::read_to_string("/proc/stat").ok()?;
    let mut lines = stat.lines();
    let total: Vec<f64> = lines
        .next()?
        .strip_prefix("cpu ")?
        .split_whitespace()
        .filter_map(|f| f.parse().ok())
        .collect();
    let cpus = lines.filter(|l| l.starts_with("cpu")).count();
    // user nice system idle iowait irq softirq steal
    let busy: f64 = [0, 1, 2, 5, 6, 7]
        .iter()
        .filter_map(|i| total.get(*i))
        .sum();
    Some((busy / clock_ticks(), cpus.max(1)))
}

/// CPU time of a set of processes (and of this one, and of the whole
/// machine) over an interval.
#[derive(Debug)]
pub struct CpuMeter {
    pids: Vec<u32>,
    nodes: f64,
    own: f64,
    machine: Option<(f64, usize)>,
    start: std::time::Instant,
}

/// CPU seconds the nodes, this process and the whole machine used, the
/// wall time and the number of CPUs.
#[derive(Debug, Clone, Copy, Default)]
pub struct CpuUse {
    pub nodes: f64,
    pub bench: f64,
    pub machine: Option<f64>,
    pub cpus: usize,
    pub wall: f64,
}

impl CpuUse {
    /// CPU seconds used by processes other than the nodes and the bench
    /// (other builds or tests on a shared machine), if known.
    pub fn others(&self) -> Option<f64> {
        self.machine.map(|m| (m - self.nodes - self.bench).max(0.0))
    }
}

impl CpuMeter {
    pub fn start(pids: Vec<u32>) -> CpuMeter {
        let nodes = pids.iter().filter_map(|p| cpu_seconds(*p)).sum();
        CpuMeter {
            pids,
            nodes,
            own: cpu_seconds(std::process::id()).unwrap_or(0.0),
            machine: machine_busy(),
            start: std::time::Instant::now(),
        }
    }

    pub fn stop(&self) -> CpuUse {
        let nodes: f64 = self.pids.iter().filter_map(|p| cpu_seconds(*p)).sum();
        let machine = match (self.machine, machine_busy()) {
            (Some((before, _)), Some((after, _))) => Some(after - before),
            _ => None,
        };
        CpuUse {
            nodes: nodes - self.nodes,
            bench: cpu_seconds(std::process::id()).unwrap_or(0.0) - self.own,
            machine,
            cpus: self.machine.map_or(0, |(_, cpus)| cpus),
            wall: self.start.elapsed().as_secs_f64(),
        }
    }
}
