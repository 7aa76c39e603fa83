#!/usr/bin/env bash
# Builds the release binaries: static musl executables for x86-64 and aarch64, stripped, with
# their sizes printed, into dist/ (or OUT_DIR):
#
#   ci/build-release.sh [--targets "x86_64 aarch64"] [--out DIR]
#
#   dist/exlogare-<version>-x86_64-linux-musl
#   dist/exlogare-<version>-aarch64-linux-musl
#   dist/SHA256SUMS                     (sha256sum format, names as above)
#
# Both targets are built by ONE `cargo build --profile dist` (fat LTO, one codegen unit: see
# [profile.dist] in Cargo.toml), so the build script's host-side wasmtime is compiled once.
# The aarch64 binary embeds the default guest precompiled for aarch64 by that build script
# (feature exlogare-runtime/cross-precompile gives it Cranelift's other backends).
#
# What it needs (Debian package names; it installs them when run as root with apt, else says):
#   rustup targets x86_64-unknown-linux-musl aarch64-unknown-linux-musl wasm32-wasip2,
#   musl-tools (musl-gcc: C parts of ring and wasmtime for x86-64 musl), gcc-aarch64-linux-gnu
#   (C compiler and linker for aarch64; Rust's musl target brings its own crt and libc),
#   binutils-aarch64-linux-gnu (strip). Optional: qemu-user (runs the aarch64 binary's --version).
#
# The unstripped binaries stay in target/<triple>/dist/exlogare, for `cargo bloat --profile dist
# --target <triple> -p exlogare --crates` (no rebuild: same flags).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
targets="x86_64 aarch64"
out="${OUT_DIR:-$root/dist}"
# Each stripped binary must stay within this many bytes (20 MB).
size_budget="${EXLOGARE_SIZE_BUDGET:-20000000}"
while [ $# -gt 0 ]; do
  case "$1" in
    --targets) targets="$2"; shift 2 ;;
    --out) out="$2"; shift 2 ;;
    *) echo "build-release: unknown argument $1" >&2; exit 2 ;;
  esac
done

say() { printf 'build-release: %s\n' "$*" >&2; }
die() { say "$*"; exit 1; }

version="$(sed -n 's/^version = "\(.*\)"$/\1/p' Cargo.toml | head -n1)"
[ -n "$version" ] || die "no version in Cargo.toml [workspace.package]"

need_pkg() { # need_pkg COMMAND DEBIAN-PACKAGE
  command -v "$1" >/dev/null 2>&1 && return 0
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    say "installing $2 (for $1)"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$2" >/dev/null 2>&1 \
      || { apt-get update -q >/dev/null 2>&1 || true
           DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$2" >/dev/null; } \
      || die "cannot install $2"
  fi
  command -v "$1" >/dev/null 2>&1 || die "$1 is missing: install the Debian package $2"
}

cargo_args=()
triples=()
for t in $targets; do
  triple="$t-unknown-linux-musl"
  triples+=("$triple")
  cargo_args+=(--target "$triple")
  case "$t" in
    x86_64)
      need_pkg musl-gcc musl-tools
      export CC_x86_64_unknown_linux_musl=musl-gcc
      # Static, not static-pie: no run-time relocations (.rela.dyn and most of .data.rel.ro
      # go, about 0.7 MB). Only the x86-64 target's crates see this; build scripts do not.
      export CARGO_TARGET_X86_64_UNKNOWN_LINUX_MUSL_RUSTFLAGS="-C relocation-model=static"
      ;;
    aarch64)
      need_pkg aarch64-linux-gnu-gcc gcc-aarch64-linux-gnu
      need_pkg aarch64-linux-gnu-strip binutils-aarch64-linux-gnu
      # Rust's aarch64 musl target links its own self-contained crt and libc; the GNU cross
      # gcc only drives the link and compiles the few C files (ring, wasmtime's helpers).
      export CC_aarch64_unknown_linux_musl=aarch64-linux-gnu-gcc
      export AR_aarch64_unknown_linux_musl=aarch64-linux-gnu-ar
      export CARGO_TARGET_AARCH64_UNKNOWN_LINUX_MUSL_LINKER=aarch64-linux-gnu-gcc
      ;;
    *) die "unsupported target $t (x86_64 or aarch64)" ;;
  esac
done
installed="$(rustup target list --installed 2>/dev/null || true)"
for triple in "${triples[@]}" wasm32-wasip2; do
  if ! grep -qx "$triple" <<<"$installed"; then
    say "adding the Rust target $triple"
    rustup target add "$triple" || die "cannot add the Rust target $triple (rustup target add $triple)"
  fi
done

say "cargo build --profile dist ${cargo_args[*]} (this takes minutes)"
started=$(date +%s)
cargo build --locked --profile dist -p exlogare --features exlogare-runtime/cross-precompile "${cargo_args[@]}"
say "built in $(( $(date +%s) - started )) s"

mkdir -p "$out"
rm -f "$out/SHA256SUMS"
for t in $targets; do
  triple="$t-unknown-linux-musl"
  built="target/$triple/dist/exlogare"
  name="exlogare-$version-$t-linux-musl"
  case "$t" in
    x86_64) strip_cmd=strip ;;
    aarch64) strip_cmd=aarch64-linux-gnu-strip ;;
  esac
  "$strip_cmd" -o "$out/$name" "$built"
  chmod 0755 "$out/$name"
  desc="$(file -b "$out/$name" 2>/dev/null || echo '(file(1) missing)')"
  case "$desc" in
    *"statically linked"* | *"static-pie linked"* | *"(file(1) missing)"*) ;;
    *) die "$name is not static: $desc" ;;
  esac
  size="$(stat -c %s "$out/$name")"
  say "$name: $size bytes stripped ($(stat -c %s "$built") unstripped): $desc"
  # The size is a tracked figure (bench/RESULTS.md, "Release binaries"): a build that grows
  # past the budget fails here, naming the figure, instead of shipping quietly bigger.
  [ "$size" -le "$size_budget" ] \
    || die "$name is $size bytes, over the size budget of $size_budget bytes (EXLOGARE_SIZE_BUDGET): see bench/RESULTS.md, \"Release binaries\", for what makes the size"
  if [ "$t" = "$(uname -m)" ]; then
    "$out/$name" --version >&2 || die "$name --version failed"
  elif [ "$t" = aarch64 ] && command -v qemu-aarch64 >/dev/null 2>&1; then
    qemu-aarch64 "$out/$name" --version >&2 || die "$name --version failed under qemu-aarch64"
  fi
done
(cd "$out" && sha256sum exlogare-"$version"-*-linux-musl >SHA256SUMS)
say "wrote $out/SHA256SUMS:"
cat "$out/SHA256SUMS" >&2
