//! Builds the redaction plugins the black-box tests run, as wasmtime's
//! `crates/test-programs/artifacts/build.rs` does: once, from source, for `wasm32-wasip2`, with
//! one `rerun-if-changed` per source file read from each plugin's dep-info. The example plugin
//! (`examples/plugin-acme`, its own workspace) and the hostile ones (`tests/plugins/`, one
//! workspace) are built into a target directory of their own beside the profile directory, and
//! each `.wasm`'s path is given to the tests as `PLUGIN_<NAME>` (e.g. `PLUGIN_ENDLESS_LOOP`).

use std::env;
use std::path::{Path, PathBuf};

use exlogare_wasm_build::{self as wasm_build, fail};

/// The hostile plugins in `tests/plugins/` (package names).
const HOSTILE: &[&str] = &[
    "endless-loop",
    "memory-bomb",
    "huge-output",
    "panics",
    "reads-files",
    "opens-sockets",
    "leaks-secret",
    "future-wit",
    "bad-info",
    "many-rules",
    "bad-rule-name",
    "swells-output",
    "hogs-handles",
    "asks-huge-random",
    "aliased-rules",
];

fn main() {
    let manifest_dir =
        PathBuf::from(env::var_os("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"));
    let out_dir = PathBuf::from(env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"));
    // OUT_DIR is <target>/<profile>/build/<pkg>-<hash>/out: keep the plugins' target dir beside
    // the profile dir, so a change to the tests does not rebuild them from scratch.
    let target_dir = out_dir
        .ancestors()
        .nth(3)
        .map(|p| p.join("plugins-target"))
        .unwrap_or_else(|| out_dir.join("plugins-target"));
    println!("cargo:rerun-if-changed=build.rs");

    wasm_build::require_wasm_target(
        "the plugin tests (they build their plugins for it)",
        "`./dev test` installs it for you.",
    );
    let hostile = manifest_dir.join("plugins");
    let acme = manifest_dir.join("../examples/plugin-acme");
    for workspace in [&hostile, &acme] {
        println!(
            "cargo:rerun-if-changed={}",
            workspace.join("Cargo.toml").display()
        );
        println!(
            "cargo:rerun-if-changed={}",
            workspace.join("Cargo.lock").display()
        );
        build(workspace, &target_dir);
    }
    let release = target_dir.join("wasm32-wasip2/release");
    for name in HOSTILE.iter().chain(&["plugin-acme"]) {
        let stem = name.replace('-', "_");
        let wasm = release.join(format!("{stem}.wasm"));
        if !wasm.is_file() {
            fail(&format!(
                "building the test plugins made no {}",
                wasm.display()
            ));
        }
        wasm_build::rerun_if_sources_change(&release.join(format!("{stem}.d")));
        let var = format!("PLUGIN_{}", stem.to_uppercase());
        let var = if var == "PLUGIN_PLUGIN_ACME" {
            "PLUGIN_ACME".to_string()
        } else {
            var
        };
        println!("cargo:rustc-env={var}={}", wasm.display());
    }
    println!("cargo:rustc-env=PLUGIN_ACME_SOURCE={}", acme.display());
}

/// `cargo build --release --target wasm32-wasip2` of every package in `workspace`.
fn build(workspace: &Path, target_dir: &Path) {
    wasm_build::cargo_build(
        workspace,
        &["--workspace"],
        target_dir,
        "the test plugins",
        |cmd| {
            cmd.env_remove("CARGO_MAKEFLAGS");
        },
    );
}
