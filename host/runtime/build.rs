//! Builds the default guest component for `wasm32-wasip2` and precompiles it, so that a run of
//! `exlogare` never JIT-compiles it.
//!
//! The guest is built by a nested `cargo build` into its own target directory (the outer build
//! holds the lock on the main one), with `+simd128`; every source file the guest read (from its
//! dep-info) becomes a `rerun-if-changed`, as wasmtime's `test-programs` does.

use std::env;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

#[path = "src/engine_config.rs"]
mod engine_config;

fn main() {
    let manifest_dir =
        PathBuf::from(env::var_os("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"));
    let workspace = manifest_dir.join("../..");
    let out_dir = PathBuf::from(env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"));
    // OUT_DIR is <target>/[<triple>/]<profile>/build/<pkg>-<hash>/out: keep the guest's own
    // target dir beside the profile dir, so it survives across host rebuilds.
    let guest_target = out_dir
        .ancestors()
        .nth(3)
        .map(|p| p.join("guest-target"))
        .unwrap_or_else(|| out_dir.join("guest-target"));

    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-changed=src/engine_config.rs");
    println!("cargo:rerun-if-changed={}", workspace.join("wit").display());
    println!(
        "cargo:rerun-if-changed={}",
        workspace.join("Cargo.lock").display()
    );
    println!("cargo:rerun-if-env-changed=EXLOGARE_GUEST_WASM");

    let wasm = match env::var_os("EXLOGARE_GUEST_WASM") {
        // A prebuilt guest (e.g. for a musl build on a machine without the wasm target).
        Some(path) => fs::read(&path).unwrap_or_else(|e| {
            fail(&format!(
                "cannot read EXLOGARE_GUEST_WASM={}: {e}",
                Path::new(&path).display()
            ))
        }),
        None => build_guest(&workspace, &guest_target),
    };
    fs::write(out_dir.join("default-guest.wasm"), &wasm)
        .unwrap_or_else(|e| fail(&format!("cannot write the guest into OUT_DIR: {e}")));

    let mut config = engine_config::config();
    let target = env::var("TARGET").unwrap_or_default();
    let host = env::var("HOST").unwrap_or_default();
    if target != host
        && let Err(e) = config.target(&target)
    {
        fail(&format!("wasmtime cannot compile for {target}: {e}"));
    }
    let engine = wasmtime::Engine::new(&config)
        .unwrap_or_else(|e| fail(&format!("cannot create the wasmtime engine: {e:#}")));
    let compiled = engine
        .precompile_component(&wasm)
        .unwrap_or_else(|e| fail(&format!("cannot precompile the default guest: {e:#}")));
    fs::write(out_dir.join("default-guest.cwasm"), compiled)
        .unwrap_or_else(|e| fail(&format!("cannot write the precompiled guest: {e}")));
}

/// Builds `exlogare-guest` for wasm32-wasip2 and returns the component's bytes.
fn build_guest(workspace: &Path, guest_target: &Path) -> Vec<u8> {
    let rustc = env::var("RUSTC").unwrap_or_else(|_| "rustc".into());
    let cargo = env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    check_wasm_target(&rustc);

    let mut cmd = Command::new(&cargo);
    cmd.current_dir(workspace)
        .args([
            "build",
            "--release",
            "--locked",
            "-p",
            "exlogare-guest",
            "--target",
            "wasm32-wasip2",
            "--target-dir",
        ])
        .arg(guest_target)
        .env(
            "CARGO_TARGET_WASM32_WASIP2_RUSTFLAGS",
            "-C target-feature=+simd128,+relaxed-simd",
        );
    // The outer build's flags are for the host, not the guest.
    for var in [
        "RUSTFLAGS",
        "CARGO_ENCODED_RUSTFLAGS",
        "CARGO_BUILD_RUSTFLAGS",
        "CARGO_BUILD_TARGET",
        "CARGO_TARGET_DIR",
        "CARGO_BUILD_TARGET_DIR",
        "CARGO_PROFILE_RELEASE_LTO",
        "CARGO_PRIMARY_PACKAGE",
    ] {
        cmd.env_remove(var);
    }
    let status = cmd
        .status()
        .unwrap_or_else(|e| fail(&format!("cannot run `{cargo}` to build the guest: {e}")));
    if !status.success() {
        fail(
            "building the default guest (`cargo build -p exlogare-guest --target wasm32-wasip2`) failed; its errors are above",
        );
    }

    let release = guest_target.join("wasm32-wasip2/release");
    if let Ok(depinfo) = fs::read_to_string(release.join("exlogare_guest.d")) {
        for dep in depinfo
            .lines()
            .flat_map(|line| line.split_once(": ").map(|(_, deps)| deps))
            .flat_map(|deps| deps.split_whitespace())
        {
            // Registry sources never change under a given Cargo.lock; our own sources do.
            if !dep.contains("/.cargo/registry/") && !dep.ends_with(".rlib") {
                println!("cargo:rerun-if-changed={dep}");
            }
        }
    }
    fs::read(release.join("exlogare_guest.wasm"))
        .unwrap_or_else(|e| fail(&format!("the guest build made no exlogare_guest.wasm: {e}")))
}

/// Stops with a clear message when the `wasm32-wasip2` standard library is not installed.
fn check_wasm_target(rustc: &str) {
    let out = Command::new(rustc)
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
        fail(
            "the Rust target `wasm32-wasip2` is not installed, and exlogare's default guest needs it.\n\
             Install it with:  rustup target add wasm32-wasip2\n\
             (`./dev test` and `./dev demo` install it for you.)",
        );
    }
}

fn fail(message: &str) -> ! {
    eprintln!("\nerror: {message}\n");
    println!(
        "cargo:warning={}",
        message.lines().next().unwrap_or(message)
    );
    std::process::exit(1);
}
