//! The README's "a 3-node cluster on one machine" walkthrough, run as a
//! newcomer would paste it: the `sh` block under its heading, by bash,
//! with `patina` on the PATH. Two things differ from a paste, so the test
//! can run beside others: the already built binary stands in for `cargo
//! build --release`, and the nodes listen on 127.0.2.1 instead of
//! 127.0.0.1. Needs the patina binary (`cargo build -p patina-cli`, or
//! `PATINA_BIN`).

use std::os::unix::process::CommandExt;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use patina_tests::patina_bin;

const HEADING: &str = "### Walkthrough: a 3-node cluster on one machine";
/// The loopback address the test's nodes use instead of 127.0.0.1.
const ADDRESS: &str = "127.0.2.1";
const DEADLINE: Duration = Duration::from_secs(120);

/// The first `sh` block after `HEADING` in the README.
fn walkthrough() -> String {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../README.md"))
        .expect("reads README.md");
    let section = readme
        .split_once(HEADING)
        .unwrap_or_else(|| panic!("README.md has no heading {HEADING:?}"))
        .1;
    let block = section
        .split_once("```sh\n")
        .expect("the walkthrough has a sh block")
        .1;
    block
        .split_once("```")
        .expect("the sh block ends")
        .0
        .to_owned()
}

#[test]
fn the_readme_walkthrough_runs_as_pasted() {
    let script = walkthrough();
    let bin_dir = tempfile::tempdir().expect("temp dir");
    std::os::unix::fs::symlink(patina_bin(), bin_dir.path().join("patina")).expect("links patina");
    assert!(
        script.contains("cargo build --release\n") && script.contains("$PWD/target/release"),
        "the walkthrough builds patina and puts target/release on the PATH:\n{script}"
    );
    let script = script
        .replace("cargo build --release\n", "")
        .replace("$PWD/target/release", &bin_dir.path().display().to_string())
        .replace("127.0.0.1", ADDRESS);

    let work = tempfile::tempdir().expect("temp dir");
    let mut child = Command::new("bash")
        .args(["-e", "-c", &script])
        .env("TMPDIR", work.path())
        .env_remove("PATINA_CONFIG")
        .env_remove("PATINA_PG_ADDR")
        .current_dir(work.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        // Its own process group, so the nodes it starts in the background
        // can be stopped with it whatever happens.
        .process_group(0)
        .spawn()
        .expect("runs bash");
    let group = child.id();
    let started = Instant::now();
    let finished = loop {
        if let Some(status) = child.try_wait().expect("waits for bash") {
            break Some(status);
        }
        if started.elapsed() > DEADLINE {
            break None;
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let _ = Command::new("kill")
        .args(["-KILL", "--", &format!("-{group}")])
        .stderr(Stdio::null())
        .status();
    let output = child.wait_with_output().expect("collects output");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    let Some(status) = finished else {
        panic!("the walkthrough did not finish in {DEADLINE:?}:\n{stdout}\n{stderr}");
    };
    assert!(
        status.success(),
        "the walkthrough failed ({status}):\n{stdout}\n{stderr}"
    );
    assert!(
        stdout.contains(" web  | 10.0.0.1:8080\n(1 row)"),
        "node c shows the row written on node b:\n{stdout}"
    );
    let alive = stdout
        .lines()
        .filter(|line| line.contains(&format!("{ADDRESS}:700")) && line.contains("| alive |"))
        .count();
    assert_eq!(alive, 2, "node c lists both others alive:\n{stdout}");
}
