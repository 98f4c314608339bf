//! Per-node gossip traffic, counted by nftables.
//!
//! One table of the bench's own (`patina_bench_<pid>_<n>`) with an `input`
//! chain (priority 0, accept) holding one counting rule per node:
//! `ip daddr <node ip> meta l4proto udp counter`. All gossip (SWIM
//! datagrams, broadcast and sync streams) is QUIC over UDP, and every node
//! has a loopback address of its own, so a rule counts everything a node
//! receives from its peers: IP packets and bytes including the IP and UDP
//! headers. Summed over the nodes it is also everything they sent. The
//! PostgreSQL clients use TCP and are not counted. A partition's drops
//! happen in an earlier chain (priority -10) and are not counted either.

use std::collections::HashMap;
use std::net::IpAddr;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};

#[derive(Debug)]
pub struct NetCounters {
    table: String,
}

/// Packets and bytes received per node address.
pub type Snapshot = HashMap<IpAddr, (u64, u64)>;

static NEXT: AtomicU32 = AtomicU32::new(1);

impl NetCounters {
    pub fn new(ips: &[IpAddr]) -> Result<NetCounters, String> {
        let table = format!(
            "patina_bench_{}_{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        );
        let mut script = format!(
            "table inet {table} {{\n\tchain input {{\n\t\ttype filter hook input priority 0; policy accept;\n"
        );
        for ip in ips {
            script.push_str(&format!("\t\tip daddr {ip} meta l4proto udp counter\n"));
        }
        script.push_str("\t}\n}\n");
        nft(&["-f", "-"], Some(&script))?;
        Ok(NetCounters { table })
    }

    pub fn snapshot(&self) -> Result<Snapshot, String> {
        let listing = nft(&["list", "table", "inet", &self.table], None)?;
        let mut out = HashMap::new();
        for line in listing.lines() {
            let words: Vec<&str> = line.split_whitespace().collect();
            let after = |key: &str| {
                words
                    .iter()
                    .position(|w| *w == key)
                    .and_then(|i| words.get(i + 1))
                    .copied()
            };
            let (Some(ip), Some(packets), Some(bytes)) =
                (after("daddr"), after("packets"), after("bytes"))
            else {
                continue;
            };
            if let (Ok(ip), Ok(packets), Ok(bytes)) = (ip.parse(), packets.parse(), bytes.parse()) {
                out.insert(ip, (packets, bytes));
            }
        }
        Ok(out)
    }
}

impl Drop for NetCounters {
    #[allow(clippy::print_stderr)]
    fn drop(&mut self) {
        if let Err(e) = nft(&["delete", "table", "inet", &self.table], None) {
            eprintln!("removing the nftables table {}: {e}", self.table);
        }
    }
}

/// Per node: (packets, bytes) received between two snapshots.
pub fn delta(before: &Snapshot, after: &Snapshot, ips: &[IpAddr]) -> Vec<(u64, u64)> {
    ips.iter()
        .map(|ip| {
            let (p0, b0) = before.get(ip).copied().unwrap_or_default();
            let (p1, b1) = after.get(ip).copied().unwrap_or_default();
            (p1.saturating_sub(p0), b1.saturating_sub(b0))
        })
        .collect()
}

/// `nft` from the PATH, else /usr/sbin/nft.
fn nft(args: &[&str], stdin: Option<&str>) -> Result<String, String> {
    use std::io::Write;
    let sbin = std::path::Path::new("/usr/sbin/nft");
    let on_path = std::env::var_os("PATH")
        .is_some_and(|path| std::env::split_paths(&path).any(|dir| dir.join("nft").is_file()));
    let mut command = if !on_path && sbin.is_file() {
        Command::new(sbin)
    } else {
        Command::new("nft")
    };
    let mut child = command
        .args(args)
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("running nft: {e}"))?;
    if let Some(text) = stdin {
        child
            .stdin
            .take()
            .ok_or("no stdin")?
            .write_all(text.as_bytes())
            .map_err(|e| format!("writing to nft: {e}"))?;
    }
    let output = child
        .wait_with_output()
        .map_err(|e| format!("waiting on nft: {e}"))?;
    if output.status.success() {
        Ok(String::from_utf8_lossy(&output.stdout).into_owned())
    } else {
        Err(format!(
            "nft {} failed ({}): {}",
            args.join(" "),
            output.status,
            String::from_utf8_lossy(&output.stderr).trim()
        ))
    }
}
