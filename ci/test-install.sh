#!/usr/bin/env bash
# Shell-level tests of install.sh, against release files this script makes from a built
# exlogare binary and serves from a local HTTP server on 127.0.0.1:
#
#   ci/test-install.sh [--bin PATH/TO/exlogare]     (default: target/debug/exlogare)
#
# Each case runs install.sh under dash and busybox sh (when present) with a PATH that holds
# only the tools the case allows (symlinks in a directory of its own), and checks its stdout
# (the binary's path, or nothing), its stderr (one line on failure) and exit status (always 0):
#   - curl only, wget only, python3 only (and python3 computing the SHA-256);
#   - a minisign-signed release verified with minisign; a bad signature refused;
#   - minisign absent: installs and says the signature was not checked;
#   - a tampered binary refused; an unreachable server; no downloader at all;
#   - a second run takes the binary from the cache, checked against a fresh SHA256SUMS (the
#     server's log is checked); a poisoned cached binary is replaced; unverifiable: not used;
#   - the copy of install.sh inline in the GitLab component is current (ci/sync-installer.sh).
# Needs python3, minisign (apt: minisign) for the signature cases, shellcheck when present.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/.." && pwd)"
bin="${EXLOGARE_BIN:-$root/target/debug/exlogare}"
if [ "${1:-}" = "--bin" ]; then bin="$2"; fi
[ -x "$bin" ] || { echo "test-install: no exlogare binary at $bin (cargo build -p exlogare)" >&2; exit 1; }

passed=0
failed=0
ok() { passed=$((passed + 1)); printf 'ok   %s\n' "$*"; }
bad() { failed=$((failed + 1)); printf 'FAIL %s\n' "$*"; }

work="$(mktemp -d "${TMPDIR:-/tmp}/exlogare-install-test.XXXXXX")"
server_pid=""
cleanup() {
  if [ -n "$server_pid" ]; then kill "$server_pid" 2>/dev/null || true; fi
  if [ "${KEEP:-}" = 1 ]; then echo "kept $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT

# The static checks first.
sh -n "$root/install.sh"
if command -v shellcheck >/dev/null; then
  if shellcheck -s sh "$root/install.sh"; then ok "shellcheck -s sh install.sh"; else bad "shellcheck -s sh install.sh"; fi
fi
if "$here/sync-installer.sh" --check >/dev/null; then ok "the component's inline installer is install.sh"
else bad "templates/exlogare/template.yml's installer differs from install.sh (run ci/sync-installer.sh)"; fi
ws_version="$(sed -n 's/^version = "\(.*\)"$/\1/p' "$root/Cargo.toml" | head -n1)"
pinned="$(sed -n 's/^EXLOGARE_PINNED_VERSION="\(.*\)"$/\1/p' "$root/install.sh")"
if [ "$pinned" = "$ws_version" ]; then ok "install.sh pins the workspace version $ws_version"
else bad "install.sh pins '$pinned', the workspace is '$ws_version'"; fi

# The release files: good/ (signed), tampered/ (binary changed after SHA256SUMS was made),
# badsig/ (signature of other content).
version="$ws_version"
case "$(uname -m)" in x86_64 | amd64) arch=x86_64 ;; aarch64 | arm64) arch=aarch64 ;; esac
name="exlogare-$version-$arch-linux-musl"
srv="$work/srv"
# A stripped copy: the debug binary's symbols would only slow the many downloads down.
strip -o "$work/exlogare" "$bin" 2>/dev/null || cp "$bin" "$work/exlogare"
for d in good tampered badsig; do mkdir -p "$srv/$d/$version"; cp "$work/exlogare" "$srv/$d/$version/$name"; done
for d in good tampered badsig; do (cd "$srv/$d/$version" && sha256sum "$name" >SHA256SUMS); done
printf 'tampered' >>"$srv/tampered/$version/$name"
key=""
if command -v minisign >/dev/null; then
  minisign -G -W -p "$work/minisign.pub" -s "$work/minisign.key" >/dev/null
  key="$(tail -n1 "$work/minisign.pub")"
  minisign -S -s "$work/minisign.key" -m "$srv/good/$version/SHA256SUMS" >/dev/null
  cp "$srv/good/$version/SHA256SUMS" "$work/other" && echo "x" >>"$work/other"
  minisign -S -s "$work/minisign.key" -m "$work/other" -x "$srv/badsig/$version/SHA256SUMS.minisig" >/dev/null
fi

# Created here, not by the background redirect, so the first read below cannot race it.
: >"$work/server.out"
: >"$work/server.log"
python3 -u -m http.server --bind 127.0.0.1 --directory "$srv" 0 >"$work/server.out" 2>"$work/server.log" &
server_pid=$!
port=""
for _ in $(seq 100); do
  port="$(sed -n 's/.*port \([0-9]*\).*/\1/p' "$work/server.out" | head -n1)"
  [ -n "$port" ] && break
  sleep 0.05
done
[ -n "$port" ] || { echo "test-install: the HTTP server did not start: $(cat "$work/server.log")" >&2; exit 1; }
url="http://127.0.0.1:$port"
# A port nothing listens on: bind one, note it, close it.
closed="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()')"

# mkpath NAME TOOL...: a directory with only the named tools (plus what the script needs).
python_real="$(python3 -c 'import sys; print(sys.executable)')"
mkpath() {
  local dir="$work/path-$1"; shift
  mkdir -p "$dir"
  local t
  for t in sh uname mkdir mktemp mv chmod rm cat "$@"; do
    case "$t" in
      python3) ln -sf "$python_real" "$dir/python3" ;;
      *) ln -sf "$(command -v "$t")" "$dir/$t" ;;
    esac
  done
  echo "$dir"
}
p_curl="$(mkpath curl curl sha256sum)"
p_wget="$(mkpath wget wget sha256sum)"
p_python="$(mkpath python python3)"
p_sign="$(mkpath sign curl sha256sum minisign)"
p_none="$(mkpath none sha256sum)"

shells=()
for s in dash busybox; do
  if command -v "$s" >/dev/null; then
    if [ "$s" = busybox ]; then shells+=("$(command -v busybox) sh"); else shells+=("$(command -v "$s")"); fi
  fi
done
[ ${#shells[@]} -gt 0 ] || shells=("$(command -v sh)")

# run SHELL PATH CACHE ARGS...: runs install.sh, sets $out, $err, $rc.
run() {
  local sh="$1" path="$2" cache="$3"; shift 3
  set +e
  # shellcheck disable=SC2086
  out="$(env -i PATH="$path" HOME="$work/home" $sh "$root/install.sh" --cache "$cache" "$@" 2>"$work/err")"
  rc=$?
  set -e
  err="$(cat "$work/err")"
}
# expect_installed WHAT: stdout is a binary that runs.
expect_installed() {
  if [ "$rc" = 0 ] && [ -n "$out" ] && [ -x "$out" ] && "$out" --version | grep -q "exlogare $version"; then
    ok "$1"
  else
    bad "$1: rc=$rc out='$out' err='$err'"
  fi
}
# expect_refused WHAT PATTERN: exit 0, nothing on stdout, exactly one line on stderr matching.
expect_refused() {
  local lines
  lines="$(printf '%s\n' "$err" | grep -c 'not installed:' || true)"
  if [ "$rc" = 0 ] && [ -z "$out" ] && [ "$lines" = 1 ] && printf '%s' "$err" | grep -q "$2" \
     && [ "$(printf '%s\n' "$err" | wc -l)" = 1 ]; then
    ok "$1"
  else
    bad "$1: rc=$rc out='$out' err='$err'"
  fi
}

n=0
for sh in "${shells[@]}"; do
  run "$sh" "$p_curl" "$work/cache-$((n += 1))" --url "$url/good"
  expect_installed "[$sh] curl only: installs and verifies the checksum"
  printf '%s' "$err" | grep -q 'signature not checked' && ok "[$sh] curl only, no key: says the signature was not checked" \
    || bad "[$sh] no signature note: $err"
  run "$sh" "$p_wget" "$work/cache-$((n += 1))" --url "$url/good"
  expect_installed "[$sh] wget only"
  run "$sh" "$p_python" "$work/cache-$((n += 1))" --url "$url/good"
  expect_installed "[$sh] python3 only (download and SHA-256 by python3)"
  run "$sh" "$p_none" "$work/cache-$((n += 1))" --url "$url/good"
  expect_refused "[$sh] no downloader: one line, exit 0" "no curl, wget or python3"
  run "$sh" "$p_curl" "$work/cache-$((n += 1))" --url "$url/tampered"
  expect_refused "[$sh] tampered binary refused" "checksum mismatch"
  run "$sh" "$p_wget" "$work/cache-$((n += 1))" --url "http://127.0.0.1:$closed"
  expect_refused "[$sh] unreachable server: one line, exit 0" "cannot download"
  run "$sh" "$p_curl" "$work/cache-$((n += 1))" --url "$url/good" --version 9.9.9
  expect_refused "[$sh] a version that does not exist" "cannot download .*9.9.9/SHA256SUMS"
  run "$sh" "$p_curl" "$work/cache-$((n += 1))" --url "$url/good" --version '../../etc'
  expect_refused "[$sh] a version that is a path is rejected" "is not a version"
  if [ -n "$key" ]; then
    run "$sh" "$p_sign" "$work/cache-$((n += 1))" --url "$url/good" --public-key "$key"
    expect_installed "[$sh] minisign signature verified"
    printf '%s' "$err" | grep -q 'signature of SHA256SUMS verified' && ok "[$sh] says the signature was verified" \
      || bad "[$sh] no 'verified' note: $err"
    run "$sh" "$p_sign" "$work/cache-$((n += 1))" --url "$url/badsig" --public-key "$key"
    expect_refused "[$sh] bad signature refused" "signature of SHA256SUMS does not verify"
    run "$sh" "$p_curl" "$work/cache-$((n += 1))" --url "$url/good" --public-key "$key"
    expect_installed "[$sh] key but no minisign: installs on the checksum"
    printf '%s' "$err" | grep -q 'minisign is not installed' && ok "[$sh] says minisign is missing" \
      || bad "[$sh] no 'minisign is not installed' note: $err"
  fi
  # The cache: a second run downloads SHA256SUMS again but not the binary; a cached binary
  # that changed (a poisoned CI cache) is fetched again; a cached binary that cannot be checked
  # against the release (server unreachable) is not used.
  n=$((n + 1))
  cache="$work/cache-$n"
  run "$sh" "$p_curl" "$cache" --url "$url/good"
  before="$(grep -c 'GET /good/.*-linux-musl' "$work/server.log" || true)"
  sums_before="$(grep -c 'GET /good/.*/SHA256SUMS ' "$work/server.log" || true)"
  run "$sh" "$p_curl" "$cache" --url "$url/good"
  after="$(grep -c 'GET /good/.*-linux-musl' "$work/server.log" || true)"
  sums_after="$(grep -c 'GET /good/.*/SHA256SUMS ' "$work/server.log" || true)"
  expect_installed "[$sh] second run from the cache"
  if [ "$before" = "$after" ] && [ "$sums_after" -gt "$sums_before" ] && printf '%s' "$err" | grep -q 'from the cache'; then
    ok "[$sh] the cache hit downloads no binary, and checks it against a fresh SHA256SUMS"
  else bad "[$sh] cache hit: binary requests $before -> $after, SHA256SUMS $sums_before -> $sums_after, err='$err'"; fi
  [ -f "$cache/$version/$arch/exlogare" ] && printf 'x' >>"$cache/$version/$arch/exlogare"
  run "$sh" "$p_curl" "$cache" --url "$url/good"
  expect_installed "[$sh] a changed cached binary is downloaded again"
  if cmp -s "$cache/$version/$arch/exlogare" "$srv/good/$version/$name"; then ok "[$sh] the poisoned cached binary was replaced"
  else bad "[$sh] the cached binary is not the release's after a re-download"; fi
  run "$sh" "$p_curl" "$cache" --url "http://127.0.0.1:$closed"
  expect_refused "[$sh] a cached binary is not used unchecked when the server is unreachable" "cannot download"
done
# openssl as the only hash tool (python3 present for the download only... and first in line
# for hashing, so drop it: wget + openssl).
p_ossl="$(mkpath ossl wget openssl)"
run "${shells[0]}" "$p_ossl" "$work/cache-ossl" --url "$url/good"
expect_installed "wget + openssl dgst as the hash tool"
run "${shells[0]}" "$(mkpath nohash wget)" "$work/cache-nohash" --url "$url/good"
expect_refused "no hash tool: refused" "no tool to compute a SHA-256"

# The installer as the release pipeline publishes it: .gitlab-ci.yml's build job stamps the
# version and the minisign public key into install.sh; that copy, given no option but the URL,
# installs that version and checks the signature with that key.
if [ -n "$key" ]; then
  stamp="$(python3 -c '
import sys, yaml
job = yaml.safe_load(open(sys.argv[1]))["build"]
print(next(s for s in job["script"] if "EXLOGARE_PINNED_KEY" in s))' "$root/.gitlab-ci.yml")"
  mkdir -p "$srv/stamped/9.8.7" "$work/stamped"
  cp "$work/exlogare" "$srv/stamped/9.8.7/exlogare-9.8.7-$arch-linux-musl"
  (cd "$srv/stamped/9.8.7" && sha256sum "exlogare-9.8.7-$arch-linux-musl" >SHA256SUMS)
  minisign -S -s "$work/minisign.key" -m "$srv/stamped/9.8.7/SHA256SUMS" >/dev/null
  (cd "$work/stamped" && cp "$root/install.sh" . && mkdir -p dist \
    && version=9.8.7 MINISIGN_PUBLIC_KEY="$key" bash -c "$stamp")
  set +e
  out="$(env -i PATH="$p_sign" HOME="$work/home" ${shells[0]} "$work/stamped/dist/install.sh" --cache "$work/cache-stamped" --url "$url/stamped" 2>"$work/err")"
  rc=$?
  set -e
  err="$(cat "$work/err")"
  if [ "$rc" = 0 ] && [ -x "$out" ] && printf '%s' "$err" | grep -q 'exlogare 9.8.7 .*minisign signature of SHA256SUMS verified'; then
    ok "install.sh as stamped by .gitlab-ci.yml pins 9.8.7 and its key"
  else
    bad "stamped install.sh: rc=$rc out='$out' err='$err'"
  fi
fi

# The GitHub Action (action.yml): its two steps' scripts, run as the runner runs them (sh, the
# inputs in the environment, GITHUB_ACTION_PATH, GITHUB_PATH, GITHUB_OUTPUT, RUNNER_TOOL_CACHE),
# with no exlogare on PATH: it installs into the tool cache and puts it on GITHUB_PATH; then the
# report step sends the log to a recording receiver on 127.0.0.1.
step() { python3 -c '
import sys, yaml
print(yaml.safe_load(open(sys.argv[1]))["runs"]["steps"][int(sys.argv[2])]["run"])' "$root/action.yml" "$1"; }
gh="$work/gh"
mkdir -p "$gh/received" "$gh/ws"
: >"$gh/path"; : >"$gh/output"
set +e
env -i PATH="$p_curl" HOME="$work/home" GITHUB_ACTION_PATH="$root" GITHUB_PATH="$gh/path" \
  GITHUB_OUTPUT="$gh/output" RUNNER_TOOL_CACHE="$gh/tool-cache" EXLOGARE_VERSION=latest \
  EXLOGARE_INSTALL_URL="$url/good" EXLOGARE_MINISIGN_KEY="" ${shells[0]} -c "$(step 0)" 2>"$work/err"
rc=$?
set -e
gh_bin="$(sed -n 's/^path=//p' "$gh/output")"
if [ "$rc" = 0 ] && [ -x "$(cat "$gh/path")/exlogare" ] && [ "$gh_bin" = "$gh/tool-cache/exlogare/$version/$arch/exlogare" ]; then
  ok "action.yml install step: into RUNNER_TOOL_CACHE, on GITHUB_PATH, path output"
else
  bad "action.yml install step: rc=$rc GITHUB_PATH='$(cat "$gh/path")' output='$(cat "$gh/output")' err='$(cat "$work/err")'"
fi
python3 "$here/receiver.py" "$gh/received" >"$gh/port" 2>/dev/null &
gh_receiver=$!
for _ in $(seq 100); do [ -s "$gh/port" ] && break; sleep 0.05; done
printf 'error: the build failed\n' >"$gh/ws/build.log"
set +e
(cd "$gh/ws" && env -i PATH="$p_curl" HOME="$work/home" EXLOGARE_TOKEN=exl_action_token_0123456789 \
  EXLOGARE_URL="http://127.0.0.1:$(head -n1 "$gh/port")" EXLOGARE_LOG=build.log EXLOGARE_WHEN=failed \
  EXLOGARE_STRICT=false EXLOGARE_JOB_STATUS=failure EXLOGARE_BIN="$gh_bin" GITHUB_ACTIONS=true \
  GITHUB_REPOSITORY=acme/shop GITHUB_RUN_ID=77 EXLOGARE_CACHE_DIR="$gh/cache" \
  ${shells[0]} -c "$(step 1)") >"$work/out" 2>&1
rc=$?
set -e
sleep 0.2
kill "$gh_receiver" 2>/dev/null || true
if [ "$rc" = 0 ] && grep -q 'the build failed' "$gh"/received/*.json 2>/dev/null; then
  ok "action.yml report step: the failed job's log was sent"
else
  bad "action.yml report step: rc=$rc: $(cat "$work/out")"
fi

echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
