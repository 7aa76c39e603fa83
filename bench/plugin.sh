#!/usr/bin/env bash
# Builds the example plugin (examples/plugin-acme) for wasm32-wasip2 and prints the path of the
# component, for part 5 of bench/run. Exits non-zero (printing nothing) when it cannot.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
dir=$ROOT/examples/plugin-acme
target=${CARGO_TARGET_DIR:-$ROOT/target}/plugin-acme
[ -f "$dir/Cargo.toml" ] || exit 1
cargo build --release --quiet --manifest-path "$dir/Cargo.toml" --target wasm32-wasip2 --target-dir "$target" >&2
wasm=$target/wasm32-wasip2/release/plugin_acme.wasm
[ -f "$wasm" ] || exit 1
echo "$wasm"
