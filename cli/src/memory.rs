//! The node's memory between bursts of work. glibc's malloc (which SQLite
//! and the Rust code share) keeps what the process frees for reuse: in one
//! arena per thread by default, and in free chunks under live ones that
//! only `malloc_trim` gives back. A node that was busy once would stay at
//! its peak while idle for hours. So the node uses one arena per core
//! ([`limit_arenas`], before any thread starts) and, once it turns idle
//! after work or after its memory grew ([`release_when_idle`]), asks
//! SQLite to free its caches and malloc to return every free page to the
//! system.
//!
//! The FFI calls below are the only `unsafe` in the workspace: none takes
//! a pointer or has a precondition, and glibc and SQLite serialize them
//! with every other allocation.

use std::time::Duration;

/// How often the node's CPU time is sampled.
const TICK: Duration = Duration::from_secs(2);

/// CPU time per [`TICK`] under which the node counts as idle: 5% of a
/// core, in the clock ticks (USER_HZ, 100 per second on Linux) that
/// /proc reports. An idle node's gossip costs it about 1.5%.
const IDLE_TICKS: u64 = 10;

/// Growth of the node's own memory (RssAnon) since the last release that
/// makes a quiet tick release too: work that costs little CPU can leave
/// much freed memory behind (fifty connections opened and closed: some
/// 4 MB).
const GROWTH: u64 = 2 << 20;

/// Makes malloc keep one arena per core instead of glibc's default of up
/// to eight per core (in practice one per thread that ever allocated):
/// each arena holds what its threads freed, which no other arena can
/// reuse. Threads keep their own small caches (tcache), so this costs no
/// throughput measurable here (see "Idle RSS" in
/// docs/benchmarks/cluster-history.md). Call before starting threads.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
#[allow(unsafe_code)]
pub fn limit_arenas() {
    let cores = std::thread::available_parallelism().map_or(1, std::num::NonZero::get);
    let arenas = i32::try_from(cores).unwrap_or(i32::MAX);
    // SAFETY: mallopt takes two integers and has no precondition.
    if unsafe { libc::mallopt(libc::M_ARENA_MAX, arenas) } != 1 {
        tracing::debug!(arenas, "malloc refused to limit its arenas");
    }
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
pub fn limit_arenas() {}

/// Frees SQLite's unused page caches and returns every free page of the
/// heap to the system. Returns whether malloc gave memory back.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
#[allow(unsafe_code)]
fn release() -> bool {
    // SAFETY: neither call takes a pointer or has a precondition;
    // SQLite's is thread-safe (it takes its page cache's mutex), as
    // malloc_trim is (it locks each arena in turn).
    unsafe {
        rusqlite::ffi::sqlite3_release_memory(i32::MAX);
        libc::malloc_trim(0) == 1
    }
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn release() -> bool {
    false
}

/// Runs until dropped: every [`TICK`], reads the process's CPU time and
/// own memory, and hands them to [`Idle`]. A node under steady load is
/// left alone: trimming then would only make it fault the pages back in.
pub async fn release_when_idle() {
    let mut idle = Idle::new();
    let mut last = cpu_ticks();
    let mut ticks = tokio::time::interval(TICK);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    ticks.tick().await;
    loop {
        ticks.tick().await;
        let now = cpu_ticks();
        let used = match (last, now) {
            (Some(last), Some(now)) => now.saturating_sub(last),
            // without /proc, every tick counts as quiet: release once
            _ => 0,
        };
        last = now;
        if idle.tick(used, rss_anon()) {
            let released = release();
            idle.released(rss_anon());
            tracing::debug!(released, "idle: returned free memory to the system");
        }
    }
}

/// When to release: at the first quiet tick after a busy one (or after
/// the start, which allocates and frees a lot), or at a quiet tick once
/// the node's own memory grew by [`GROWTH`] since the last release.
#[derive(Debug)]
struct Idle {
    busy: bool,
    /// RssAnon right after the last release.
    released_at: Option<u64>,
}

impl Idle {
    fn new() -> Idle {
        Idle {
            busy: true,
            released_at: None,
        }
    }

    /// A tick that used `used` CPU ticks, with `anon` bytes of RssAnon:
    /// whether to release now.
    fn tick(&mut self, used: u64, anon: Option<u64>) -> bool {
        if used >= IDLE_TICKS {
            self.busy = true;
            return false;
        }
        let grown =
            matches!((anon, self.released_at), (Some(now), Some(then)) if now > then + GROWTH);
        let release = self.busy || grown;
        self.busy = false;
        release
    }

    fn released(&mut self, anon: Option<u64>) {
        self.released_at = anon;
    }
}

/// The process's anonymous resident memory (its own, not the binary's
/// pages), bytes.
fn rss_anon() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let kb = status
        .lines()
        .find_map(|line| line.strip_prefix("RssAnon:"))?
        .trim()
        .strip_suffix("kB")?
        .trim()
        .parse::<u64>()
        .ok()?;
    Some(kb * 1024)
}

/// User + system CPU time of this process so far, in clock ticks.
fn cpu_ticks() -> Option<u64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    parse_cpu_ticks(&stat)
}

/// utime + stime (fields 14 and 15) of a /proc/<pid>/stat line. The
/// command name (field 2) is in parentheses and may hold spaces.
fn parse_cpu_ticks(stat: &str) -> Option<u64> {
    let after = &stat[stat.rfind(')')? + 1..];
    let mut fields = after.split_whitespace().skip(11);
    let utime: u64 = fields.next()?.parse().ok()?;
    let stime: u64 = fields.next()?.parse().ok()?;
    Some(utime + stime)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpu_ticks_of_a_stat_line_with_spaces_in_the_name() {
        let stat = "4242 (patina (a) b) S 1 4242 4242 0 -1 4194560 \
                    1539 0 0 0 57 13 0 0 20 0 7 0 1234 123456 789";
        assert_eq!(parse_cpu_ticks(stat), Some(70));
    }

    #[test]
    fn cpu_ticks_of_this_process_grow_with_work() {
        let before = cpu_ticks().expect("/proc/self/stat");
        let start = std::time::Instant::now();
        let mut spin = 0u64;
        while cpu_ticks().expect("/proc/self/stat") < before + 2 {
            spin = spin.wrapping_add(1);
            assert!(
                start.elapsed() < Duration::from_secs(30),
                "CPU time never grew"
            );
        }
        assert!(spin > 0);
    }

    #[test]
    fn releases_after_work_or_growth_then_not_again() {
        const MB: u64 = 1 << 20;
        let mut idle = Idle::new();
        // Quiet right after the start: release.
        assert!(idle.tick(1, Some(20 * MB)));
        idle.released(Some(10 * MB));
        assert!(!idle.tick(1, Some(10 * MB)));
        // Busy, then quiet: release once.
        assert!(!idle.tick(IDLE_TICKS, Some(30 * MB)));
        assert!(idle.tick(0, Some(30 * MB)));
        idle.released(Some(12 * MB));
        assert!(!idle.tick(0, Some(12 * MB)));
        // Grown without work (connections come and gone): release once,
        // and not again when nothing could be given back.
        assert!(!idle.tick(1, Some(12 * MB + GROWTH)));
        assert!(idle.tick(1, Some(12 * MB + GROWTH + 1)));
        idle.released(Some(15 * MB));
        assert!(!idle.tick(1, Some(15 * MB)));
        // Without /proc: only after work.
        assert!(!idle.tick(1, None));
    }

    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    #[test]
    fn release_returns_freed_heap_pages_to_the_system() {
        // 64 MiB in chunks below malloc's mmap threshold, each followed by
        // a small live allocation, so that free() cannot shrink the heap
        // by itself
        const MIB: u64 = 1024 * 1024;
        let mut chunks = Vec::with_capacity(1024);
        let mut pins = Vec::with_capacity(1024);
        for _ in 0..1024 {
            chunks.push(vec![1u8; 64 * 1024]);
            pins.push(vec![2u8; 64]);
        }
        drop(chunks);
        let before = rss_anon().expect("RssAnon");
        assert!(release(), "malloc returned nothing");
        let after = rss_anon().expect("RssAnon");
        assert!(
            before.saturating_sub(after) >= 32 * MIB,
            "RssAnon {} MiB before, {} MiB after",
            before / MIB,
            after / MIB
        );
        assert_eq!(pins.len(), 1024);
    }
}
