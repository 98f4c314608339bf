//! Link options of the `patina` binary. A node's resident memory is mostly
//! the binary's own pages (the kernel maps its file in chunks of up to 64 KB
//! around every page a node touches), so every byte the linker drops, and
//! every cold function kept away from the hot ones, is a byte less per node.
#![allow(
    clippy::print_stdout,
    reason = "cargo reads a build script's instructions from its stdout"
)]

use std::path::Path;
use std::process::Command;

fn main() {
    let target = std::env::var("TARGET").unwrap_or_default();
    if target == "x86_64-unknown-linux-gnu" {
        // Rust links this target with its own lld, which knows these options.
        // Identical functions (generic code instantiated for types of the
        // same layout, drop glue) kept once: Rust makes no promise that two
        // functions have different addresses.
        println!("cargo::rustc-link-arg-bins=-Wl,--icf=all");
        // The relocations of the position-independent binary in the compact
        // RELR form (glibc 2.36 or later): the dynamic loader reads all of
        // them at every start, and the classic table was 0.9 MB of the
        // binary's resident pages.
        println!("cargo::rustc-link-arg-bins=-Wl,-z,pack-relative-relocs");
        if std::env::var("PROFILE").as_deref() == Ok("release") {
            order_hot_functions();
        }
    }
}

/// The functions a node runs (`scripts/hot-functions` lists them) go first
/// and together, so the pages an idle node maps hold little cold code:
/// idle RssFile 15.2 -> 10.3 MB per node. Names missing from the binary
/// are skipped.
fn order_hot_functions() {
    let list = Path::new(env!("CARGO_MANIFEST_DIR")).join("hot-functions.txt");
    println!("cargo::rerun-if-changed={}", list.display());
    let Ok(text) = std::fs::read_to_string(&list) else {
        println!(
            "cargo::warning=no {}: run scripts/hot-functions",
            list.display()
        );
        return;
    };
    println!(
        "cargo::rustc-link-arg-bins=-Wl,--symbol-ordering-file={}",
        list.display()
    );
    println!("cargo::rustc-link-arg-bins=-Wl,--no-warn-symbol-ordering");
    // Symbol names carry a hash of the compiler's version: a list made by
    // another rustc matches few functions of this build.
    let made_by = text
        .lines()
        .find_map(|l| l.strip_prefix("# Made by scripts/hot-functions with "));
    let rustc = std::env::var("RUSTC").unwrap_or_else(|_| "rustc".to_owned());
    let this = Command::new(rustc)
        .arg("--version")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned());
    if let (Some(made_by), Ok(this)) = (made_by, this)
        && made_by.trim_end_matches('.') != this
    {
        println!(
            "cargo::warning=cli/hot-functions.txt was made with {made_by} but this is {this}: \
             run scripts/hot-functions, or idle nodes map more of the binary"
        );
    }
}
