#!/bin/sh
# exlogare installer: fetches one pinned, verified exlogare release binary for this machine and
# prints its path on stdout. POSIX sh; for any CI job (the GitLab component and the GitHub
# Action run it). Usage:
#
#   bin="$(sh install.sh [--version V] [--url BASE] [--cache DIR] [--public-key KEY])"
#   [ -n "$bin" ] && export PATH="${bin%/*}:$PATH"     # $bin is .../<version>/<arch>/exlogare
#
# or, with no downloader needed beforehand, as the GitLab component does: the script inline.
#
#   --version V      release to install (env EXLOGARE_VERSION; default: the pinned one below)
#   --url BASE       where releases live: BASE/V/<file> (env EXLOGARE_INSTALL_URL)
#   --cache DIR      where verified binaries are kept between jobs (env EXLOGARE_INSTALL_CACHE;
#                    default $CI_PROJECT_DIR/.exlogare-bin in GitLab, $RUNNER_TOOL_CACHE/exlogare
#                    in GitHub Actions, else ${XDG_CACHE_HOME:-$HOME/.cache}/exlogare/bin)
#   --public-key KEY minisign public key of the release (env EXLOGARE_MINISIGN_KEY; default
#                    the key stamped in below at release time)
#
# Files fetched: BASE/V/exlogare-V-<x86_64|aarch64>-linux-musl, BASE/V/SHA256SUMS and, when
# `minisign` is installed and a key is known, BASE/V/SHA256SUMS.minisig. The binary is used
# only when its SHA-256 is the one in SHA256SUMS (sha256sum, shasum, python3 or openssl
# computes it) and, when minisign is present, SHA256SUMS carries a valid signature; without
# minisign it says so and relies on the checksum. Downloads use curl, wget or python3, the
# first one present.
#
# It never breaks a job: when it cannot install (no downloader, unreachable server, checksum or
# signature mismatch, unknown architecture...) it prints ONE line saying why on stderr, prints
# nothing on stdout and exits 0. On success it prints one line on stderr too: where the binary
# came from and what was verified.

# Stamped by the release pipeline (.gitlab-ci.yml, job `installer`); a test checks that the
# version here is the workspace's.
EXLOGARE_PINNED_VERSION="0.1.0"
EXLOGARE_PINNED_KEY=""

version="${EXLOGARE_VERSION:-}"
base="${EXLOGARE_INSTALL_URL:-}"
cache="${EXLOGARE_INSTALL_CACHE:-}"
key="${EXLOGARE_MINISIGN_KEY:-$EXLOGARE_PINNED_KEY}"

note() { printf 'exlogare-install: %s\n' "$*" >&2; }
# The one line on failure; the job goes on.
give_up() {
  note "not installed: $*; the job goes on without exlogare"
  [ -n "${tmp:-}" ] && rm -rf "$tmp"
  exit 0
}

while [ $# -gt 0 ]; do
  case "$1" in
    --version | --url | --cache | --public-key)
      [ $# -ge 2 ] || give_up "$1 needs a value"
      case "$1" in
        --version) version="$2" ;;
        --url) base="$2" ;;
        --cache) cache="$2" ;;
        --public-key) key="$2" ;;
      esac
      shift 2
      ;;
    *) give_up "unknown argument '$1' (see the usage at the top of install.sh)" ;;
  esac
done

case "$version" in "" | latest) version="$EXLOGARE_PINNED_VERSION" ;; esac
case "$version" in
  *[!0-9A-Za-z.+-]* | .* | *..*) give_up "'$version' is not a version (e.g. $EXLOGARE_PINNED_VERSION)" ;;
esac
[ -n "$base" ] || give_up "no release URL (set EXLOGARE_INSTALL_URL or pass --url)"
base="${base%/}"

case "$(uname -s 2>/dev/null)" in
  Linux) ;;
  *) give_up "releases are for Linux, this is $(uname -s 2>/dev/null || echo 'an unknown system')" ;;
esac
case "$(uname -m 2>/dev/null)" in
  x86_64 | amd64) arch=x86_64 ;;
  aarch64 | arm64 | armv8*) arch=aarch64 ;;
  *) give_up "no release for the architecture '$(uname -m 2>/dev/null)' (x86_64 and aarch64 only)" ;;
esac
name="exlogare-$version-$arch-linux-musl"

if [ -z "$cache" ]; then
  if [ -n "${CI_PROJECT_DIR:-}" ]; then cache="$CI_PROJECT_DIR/.exlogare-bin"
  elif [ -n "${RUNNER_TOOL_CACHE:-}" ]; then cache="$RUNNER_TOOL_CACHE/exlogare"
  elif [ -n "${XDG_CACHE_HOME:-}" ]; then cache="$XDG_CACHE_HOME/exlogare/bin"
  elif [ -n "${HOME:-}" ]; then cache="$HOME/.cache/exlogare/bin"
  else cache="${TMPDIR:-/tmp}/exlogare-bin"
  fi
fi
# The verified binary is kept as $dir/exlogare (callers put $dir on PATH).
dir="$cache/$version/$arch"

# sha256_of FILE: prints the hex SHA-256 of FILE, or nothing when no tool can.
sha256_of() {
  if command -v sha256sum >/dev/null 2>&1; then sha256sum "$1" | { read -r h _ && echo "$h"; }
  elif command -v shasum >/dev/null 2>&1; then shasum -a 256 "$1" | { read -r h _ && echo "$h"; }
  elif command -v python3 >/dev/null 2>&1; then
    python3 -c 'import hashlib,sys; print(hashlib.sha256(open(sys.argv[1],"rb").read()).hexdigest())' "$1"
  elif command -v openssl >/dev/null 2>&1; then
    openssl dgst -sha256 -r "$1" | { read -r h _ && echo "$h"; }
  fi
}

# expected_sum SUMS: the hash SUMS lists for $name (sha256sum format, '*' binary marker allowed).
expected_sum() {
  while read -r h f; do
    [ "${f#\*}" = "$name" ] && { echo "$h"; return 0; }
  done <"$1"
  return 0
}

# verified SUMS BINARY: whether BINARY's SHA-256 is the one SUMS lists for it (sets $why).
verified() {
  want="$(expected_sum "$1")"
  [ -n "$want" ] || { why="SHA256SUMS has no line for $name"; return 1; }
  got="$(sha256_of "$2")"
  [ -n "$got" ] || { why="no tool to compute a SHA-256 (sha256sum, shasum, python3 or openssl)"; return 1; }
  [ "$got" = "$want" ] || { why="checksum mismatch for $name (expected $want, got $got): refusing it"; return 1; }
  return 0
}

# fetch URL FILE
if command -v curl >/dev/null 2>&1; then
  fetcher=curl
  fetch() { curl -fsSL --connect-timeout 10 --max-time 120 --retry 2 -o "$2" "$1" 2>/dev/null; }
elif command -v wget >/dev/null 2>&1; then
  fetcher=wget
  fetch() { wget -q -T 30 -O "$2" "$1" 2>/dev/null; }
elif command -v python3 >/dev/null 2>&1; then
  fetcher=python3
  fetch() {
    python3 -c 'import sys, urllib.request, shutil
with urllib.request.urlopen(sys.argv[1], timeout=30) as r, open(sys.argv[2], "wb") as f:
    shutil.copyfileobj(r, f)' "$1" "$2" 2>/dev/null
  }
else
  give_up "no curl, wget or python3 in this image to download $name"
fi

mkdir -p "$cache" 2>/dev/null || give_up "cannot create the cache directory $cache"
tmp="$(mktemp -d "$cache/.download.XXXXXX" 2>/dev/null)" || give_up "cannot write in $cache"

# The release's SHA256SUMS (and its signature) is fetched on every run, also when the binary is
# cached: a CI cache can be written by other jobs and branches, so a cached binary is only used
# when it matches the release's own, freshly fetched (and, with minisign, verified) checksum.
fetch "$base/$version/SHA256SUMS" "$tmp/SHA256SUMS" \
  || give_up "cannot download $base/$version/SHA256SUMS (server unreachable or no such release)"
if [ -z "$key" ]; then
  signature="signature not checked: no minisign public key is configured (EXLOGARE_MINISIGN_KEY)"
elif ! command -v minisign >/dev/null 2>&1; then
  signature="signature not checked: minisign is not installed in this image"
else
  fetch "$base/$version/SHA256SUMS.minisig" "$tmp/SHA256SUMS.minisig" \
    || give_up "cannot download $base/$version/SHA256SUMS.minisig to check the signature"
  minisign -Vq -P "$key" -m "$tmp/SHA256SUMS" -x "$tmp/SHA256SUMS.minisig" >/dev/null 2>&1 \
    || give_up "the signature of SHA256SUMS does not verify with the configured minisign key: refusing the download"
  signature="minisign signature of SHA256SUMS verified"
fi

if [ -x "$dir/exlogare" ]; then
  if verified "$tmp/SHA256SUMS" "$dir/exlogare"; then
    rm -rf "$tmp"
    tmp=""
    note "exlogare $version ($arch) from the cache $dir: checksum verified against the release's SHA256SUMS, $signature"
    printf '%s\n' "$dir/exlogare"
    exit 0
  fi
  note "the cached $dir/exlogare does not match the release's checksum; downloading it again"
fi

fetch "$base/$version/$name" "$tmp/$name" || give_up "cannot download $base/$version/$name"
verified "$tmp/SHA256SUMS" "$tmp/$name" || give_up "$why"
chmod 0755 "$tmp/$name" || give_up "cannot make $name executable in $cache"
if ! { mkdir -p "$dir" && mv -f "$tmp/$name" "$dir/exlogare"; }; then
  give_up "cannot move the verified binary into $dir"
fi
rm -rf "$tmp"
tmp=""
note "installed exlogare $version ($arch) in $dir from $base/$version/ (with $fetcher): checksum verified, $signature"
printf '%s\n' "$dir/exlogare"
exit 0
