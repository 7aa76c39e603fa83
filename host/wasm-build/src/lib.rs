//! For build scripts that build wasm components: `exlogare-runtime` (the default guest, embedded
//! in the binary) and `exlogare-tests` (the plugins the black-box tests load).
//!
//! As wasmtime's `crates/test-programs/artifacts/build.rs` does, a component is built by a nested
//! `cargo build --target wasm32-wasip2` into a target directory of its own (the outer build holds
//! the lock on the main one), and every source file it read (from its dep-info) becomes a
//! `rerun-if-changed`. Every failure stops the build with a message that says what to do.

use std::env;
use std::fs;
use std::path::Path;
use std::process::Command;

/// The outer build's settings that are for the host, never for a nested wasm build.
const HOST_ONLY_ENV: &[&str] = &[
    "RUSTFLAGS",
    "CARGO_ENCODED_RUSTFLAGS",
    "CARGO_BUILD_RUSTFLAGS",
    "CARGO_BUILD_TARGET",
    "CARGO_TARGET_DIR",
    "CARGO_BUILD_TARGET_DIR",
    "CARGO_PRIMARY_PACKAGE",
];

/// Stops the build when the `wasm32-wasip2` standard library is not installed. `needed_for`
/// says what needs it; `hint` what installs it for the user.
pub fn require_wasm_target(needed_for: &str, hint: &str) {
    let rustc = env::var("RUSTC").unwrap_or_else(|_| "rustc".into());
    let out = Command::new(&rustc)
        .args(["--print", "target-libdir", "--target", "wasm32-wasip2"])
        .output();
    let installed = match out {
        Ok(out) if out.status.success() => {
            let dir = String::from_utf8_lossy(&out.stdout).trim().to_string();
            fs::read_dir(&dir)
                .map(|mut d| d.next().is_some())
                .unwrap_or(false)
        }
        _ => false,
    };
    if !installed {
        fail(&format!(
            "the Rust target `wasm32-wasip2` is not installed, and {needed_for} needs it.\n\
             Install it with:  rustup target add wasm32-wasip2\n\
             ({hint})"
        ));
    }
}

/// `cargo build --release --locked --target wasm32-wasip2 --target-dir <target_dir> <args>` in
/// `dir`, without the outer build's host settings; `adjust` sets or removes more variables.
/// Stops the build, naming `what`, when it fails.
pub fn cargo_build(
    dir: &Path,
    args: &[&str],
    target_dir: &Path,
    what: &str,
    adjust: impl FnOnce(&mut Command),
) {
    let cargo = env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let mut cmd = Command::new(&cargo);
    cmd.current_dir(dir)
        .args(["build", "--release", "--locked"])
        .args(args)
        .args(["--target", "wasm32-wasip2", "--target-dir"])
        .arg(target_dir);
    for var in HOST_ONLY_ENV {
        cmd.env_remove(var);
    }
    adjust(&mut cmd);
    let status = cmd
        .status()
        .unwrap_or_else(|e| fail(&format!("cannot run `{cargo}` to build {what}: {e}")));
    if !status.success() {
        fail(&format!(
            "building {what} (`cargo build --target wasm32-wasip2` in {}) failed; its errors are above",
            dir.display()
        ));
    }
}

/// One `rerun-if-changed` per source file in a nested build's dep-info file (`<name>.d`),
/// leaving out registry sources (they never change under a given Cargo.lock) and libraries.
pub fn rerun_if_sources_change(depinfo: &Path) {
    let Ok(text) = fs::read_to_string(depinfo) else {
        return;
    };
    for dep in text
        .lines()
        .flat_map(|line| line.split_once(": ").map(|(_, deps)| deps))
        .flat_map(str::split_whitespace)
    {
        if !dep.contains("/.cargo/registry/") && !dep.ends_with(".rlib") {
            println!("cargo:rerun-if-changed={dep}");
        }
    }
}

/// Stops the build script: the whole message on stderr, its first line as a cargo warning.
pub fn fail(message: &str) -> ! {
    eprintln!("\nerror: {message}\n");
    println!(
        "cargo:warning={}",
        message.lines().next().unwrap_or(message)
    );
    std::process::exit(1);
}
