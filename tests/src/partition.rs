//! A network partition between loopback addresses, made with nftables.
//!
//! [`Partition::split`] creates an nftables table of its own (a unique name
//! per partition: `patina_test_<pid>_<n>`) whose `input` chain drops UDP
//! from one set of addresses to the other, both ways. Only UDP (the QUIC
//! gossip) is cut: the tests keep reaching every node's PostgreSQL front
//! door over TCP. Dropping on input (not output) makes the loss silent: the
//! sender's `sendmsg` succeeds, as on a real network. [`Partition::heal`]
//! (or dropping the value) deletes the table.
//!
//! Needs the `nft` tool (Debian package `nftables`) and the right to change
//! the ruleset (root, or CAP_NET_ADMIN); [`Partition::available`] says
//! whether both are there.

use std::io::Write;
use std::net::IpAddr;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};

/// A partition in force until healed or dropped.
#[derive(Debug)]
pub struct Partition {
    table: String,
    active: bool,
}

static NEXT: AtomicU32 = AtomicU32::new(1);

impl Partition {
    /// `Ok` if `nft` exists and may change the ruleset; otherwise why not
    /// (for a skip message).
    pub fn available() -> Result<(), String> {
        let probe = format!("patina_test_probe_{}", std::process::id());
        nft(&["add", "table", "inet", &probe])
            .map_err(|e| format!("nftables cannot be used here: {e}"))?;
        nft(&["delete", "table", "inet", &probe])
            .map_err(|e| format!("nftables cannot be used here: {e}"))
    }

    /// Drops UDP between every address of `a` and every address of `b`, in
    /// both directions.
    pub fn split(a: &[IpAddr], b: &[IpAddr]) -> Result<Partition, String> {
        assert!(
            !a.is_empty() && !b.is_empty(),
            "a partition needs addresses on both sides"
        );
        let table = format!(
            "patina_test_{}_{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        );
        let set = |side: &[IpAddr]| {
            let mut v4 = Vec::new();
            for ip in side {
                match ip {
                    IpAddr::V4(ip) => v4.push(ip.to_string()),
                    IpAddr::V6(_) => panic!("partitions are between IPv4 loopback addresses"),
                }
            }
            format!("{{ {} }}", v4.join(", "))
        };
        let (a, b) = (set(a), set(b));
        let script = format!(
            "table inet {table} {{\n\
             \tchain input {{\n\
             \t\ttype filter hook input priority -10; policy accept;\n\
             \t\tip saddr {a} ip daddr {b} meta l4proto udp drop\n\
             \t\tip saddr {b} ip daddr {a} meta l4proto udp drop\n\
             \t}}\n\
             }}\n"
        );
        nft_script(&script).map_err(|e| format!("creating the partition: {e}"))?;
        Ok(Partition {
            table,
            active: true,
        })
    }

    /// The name of its nftables table.
    pub fn table(&self) -> &str {
        &self.table
    }

    /// Ends the partition: deletes the table. Panics if nft fails.
    pub fn heal(mut self) {
        self.active = false;
        if let Err(e) = nft(&["delete", "table", "inet", &self.table]) {
            panic!("healing the partition: {e}");
        }
    }
}

impl Drop for Partition {
    #[allow(clippy::print_stderr)]
    fn drop(&mut self) {
        if self.active {
            self.active = false;
            if let Err(e) = nft(&["delete", "table", "inet", &self.table]) {
                eprintln!("removing the partition table {}: {e}", self.table);
            }
        }
    }
}

/// `nft` from the PATH, else Debian's `/usr/sbin/nft` (not on a normal
/// user's PATH).
fn nft_command() -> Command {
    let sbin = std::path::Path::new("/usr/sbin/nft");
    let on_path = std::env::var_os("PATH")
        .is_some_and(|path| std::env::split_paths(&path).any(|dir| dir.join("nft").is_file()));
    if !on_path && sbin.is_file() {
        Command::new(sbin)
    } else {
        Command::new("nft")
    }
}

fn nft(args: &[&str]) -> Result<(), String> {
    let output = nft_command()
        .args(args)
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("running nft: {e}"))?;
    if output.status.success() {
        Ok(())
    } else {
        let stderr = String::from_utf8_lossy(&output.stderr);
        Err(format!(
            "`nft {}` failed ({}): {}",
            args.join(" "),
            output.status,
            stderr.lines().next().unwrap_or("").trim()
        ))
    }
}

fn nft_script(script: &str) -> Result<(), String> {
    let mut child = nft_command()
        .args(["-f", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("running nft: {e}"))?;
    child
        .stdin
        .take()
        .expect("piped stdin")
        .write_all(script.as_bytes())
        .map_err(|e| format!("writing to nft: {e}"))?;
    let output = child
        .wait_with_output()
        .map_err(|e| format!("waiting on nft: {e}"))?;
    if output.status.success() {
        Ok(())
    } else {
        Err(format!(
            "nft -f failed ({}): {}\n{script}",
            output.status,
            String::from_utf8_lossy(&output.stderr).trim()
        ))
    }
}
