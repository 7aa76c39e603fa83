//! Builds the redaction plugins the black-box tests run, as wasmtime's
//! `crates/test-programs/artifacts/build.rs` does: once, from source, for `wasm32-wasip2`, with
//! one `rerun-if-changed` per source file read from each plugin's dep-info. The example plugin
//! (`examples/plugin-acme`, its own workspace) and the hostile ones (`tests/plugins/`, one
//! workspace) are built into a target directory of their own beside the profile directory, and
//! each `.wasm`'s path is given to the tests as `PLUGIN_<NAME>` (e.g. `PLUGIN_ENDLESS_LOOP`).

use std::env;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

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

    check_wasm_target();
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
        emit_rerun_from_depinfo(&release.join(format!("{stem}.d")));
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

/// `cargo build --release --target wasm32-wasip2` in `workspace`.
fn build(workspace: &Path, target_dir: &Path) {
    let cargo = env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let mut cmd = Command::new(&cargo);
    cmd.current_dir(workspace)
        .args([
            "build",
            "--release",
            "--locked",
            "--workspace",
            "--target",
            "wasm32-wasip2",
            "--target-dir",
        ])
        .arg(target_dir);
    // The outer build's settings are for the host, not the plugins.
    for var in [
        "RUSTFLAGS",
        "CARGO_ENCODED_RUSTFLAGS",
        "CARGO_BUILD_RUSTFLAGS",
        "CARGO_BUILD_TARGET",
        "CARGO_TARGET_DIR",
        "CARGO_BUILD_TARGET_DIR",
        "CARGO_PRIMARY_PACKAGE",
        "CARGO_MAKEFLAGS",
    ] {
        cmd.env_remove(var);
    }
    let status = cmd.status().unwrap_or_else(|e| {
        fail(&format!(
            "cannot run `{cargo}` to build the test plugins: {e}"
        ))
    });
    if !status.success() {
        fail(&format!(
            "building the test plugins in {} (`cargo build --release --target wasm32-wasip2`) failed; its errors are above",
            workspace.display()
        ));
    }
}

/// One `rerun-if-changed` per source file the plugin was built from (not registry sources).
fn emit_rerun_from_depinfo(depinfo: &Path) {
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

/// Stops with a clear message when the `wasm32-wasip2` standard library is not installed.
fn check_wasm_target() {
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
        fail(
            "the Rust target `wasm32-wasip2` is not installed, and the plugin tests build their plugins for it.\n\
             Install it with:  rustup target add wasm32-wasip2\n\
             (`./dev test` installs it for you.)",
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
