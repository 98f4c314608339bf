//! Link options of the `patina` binary. A node's resident memory is mostly
//! the binary's own pages (the kernel maps its file in large chunks around
//! every page a node touches), so every byte the linker drops is a byte
//! less per node.
#![allow(
    clippy::print_stdout,
    reason = "cargo reads a build script's instructions from its stdout"
)]

fn main() {
    let target = std::env::var("TARGET").unwrap_or_default();
    if target == "x86_64-unknown-linux-gnu" {
        // Rust links this target with its own lld, which knows both options.
        // Identical functions (generic code instantiated for types of the
        // same layout, drop glue) kept once: Rust makes no promise that two
        // functions have different addresses.
        println!("cargo::rustc-link-arg-bins=-Wl,--icf=all");
        // The relocations of the position-independent binary in the compact
        // RELR form (glibc 2.36 or later): the dynamic loader reads all of
        // them at every start, and the classic table was 0.9 MB of the
        // binary's resident pages.
        println!("cargo::rustc-link-arg-bins=-Wl,-z,pack-relative-relocs");
    }
}
