//! Builds the default guest component for `wasm32-wasip2` and precompiles it, so that a run of
//! `exlogare` never JIT-compiles it.
//!
//! The guest is built by a nested `cargo build` (see `exlogare-wasm-build`) with `+simd128` and
//! `+relaxed-simd`; every source file it read becomes a `rerun-if-changed`.

use std::env;
use std::fs;
use std::path::{Path, PathBuf};

use exlogare_wasm_build::{self as wasm_build, fail};

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
    wasm_build::require_wasm_target(
        "exlogare's default guest",
        "`./dev test` and `./dev demo` install it for you.",
    );
    wasm_build::cargo_build(
        workspace,
        &["-p", "exlogare-guest"],
        guest_target,
        "the default guest",
        |cmd| {
            cmd.env(
                "CARGO_TARGET_WASM32_WASIP2_RUSTFLAGS",
                "-C target-feature=+simd128,+relaxed-simd",
            )
            .env_remove("CARGO_PROFILE_RELEASE_LTO");
        },
    );
    let release = guest_target.join("wasm32-wasip2/release");
    wasm_build::rerun_if_sources_change(&release.join("exlogare_guest.d"));
    fs::read(release.join("exlogare_guest.wasm"))
        .unwrap_or_else(|e| fail(&format!("the guest build made no exlogare_guest.wasm: {e}")))
}
