#!/usr/bin/env bash
# Builds the exlogare image from a locally built static binary (ci/docker/Dockerfile.prebuilt,
# FROM scratch: no image is pulled) and checks it:
#   - `exlogare --version` runs in the container and prints what the binary prints on the host;
#   - the image runs as non-root (its USER, and `id -u` inside);
#   - it has the shell GitLab jobs need, and a writable /tmp;
#   - its size (printed), no bigger than its two binaries plus 1 MiB;
#   - `exlogare report --dry-run --when always --strict --log /job/build.log` works inside it on
#     a small log mounted read-only, with no network, redacts the secret in it, and prints the
#     same payload as the binary run on the host.
# Manual / optional: not part of .ci/run.
#
# Usage: ci/docker/build-and-check.sh [--bin PATH] [--busybox PATH] [--tag NAME] [--engine podman|docker]
#   --bin      the static musl exlogare
#              (default: ${CARGO_TARGET_DIR:-target}/x86_64-unknown-linux-musl/release/exlogare)
#   --busybox  a static busybox (default: /bin/busybox, from Debian's busybox-static)
#   --tag      the image's name (default: exlogare:local-check); the image is kept
#   --engine   podman or docker (default: podman if found, else docker; or $ENGINE)
# BUILD_FLAGS / RUN_FLAGS (environment) are added to every `build` / `run`; when they are unset
# and podman's defaults fail, the script retries with the settings that work in a VM with hybrid
# cgroups and no CAP_SYS_RESOURCE (`--isolation chroot`; `--runtime runc` and rlimits kept
# under the current hard limits), and says so.
# Exit status: 0 all checks passed, 1 a check failed, 2 something needed is missing.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
bin="${CARGO_TARGET_DIR:-$repo/target}/x86_64-unknown-linux-musl/release/exlogare"
busybox=/bin/busybox
tag=exlogare:local-check
engine="${ENGINE:-}"

while [ $# -gt 0 ]; do
  case "$1" in
    --bin) bin=$2; shift 2 ;;
    --busybox) busybox=$2; shift 2 ;;
    --tag) tag=$2; shift 2 ;;
    --engine) engine=$2; shift 2 ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) echo "unknown argument: $1 (see --help)" >&2; exit 2 ;;
  esac
done

missing() { echo "MISSING: $*" >&2; exit 2; }

# --- what is needed ---------------------------------------------------------------------------
if [ -z "$engine" ]; then
  if command -v podman >/dev/null 2>&1; then engine=podman
  elif command -v docker >/dev/null 2>&1; then engine=docker
  elif command -v buildah >/dev/null 2>&1; then
    missing "buildah is installed but cannot run the image for the checks: install podman (Debian: apt-get install podman runc)"
  else
    missing "no container engine: neither podman nor docker is on PATH. Install one (Debian: apt-get install podman runc, or apt-get install docker.io and start dockerd)"
  fi
fi
command -v "$engine" >/dev/null 2>&1 || missing "container engine '$engine' is not on PATH"
if [ "$engine" = docker ] && ! docker info >/dev/null 2>&1; then
  missing "docker is installed but its daemon does not answer (docker info fails): start dockerd, or use podman"
fi

[ -f "$bin" ] || missing "no exlogare binary at $bin. Build it (docs/install.md):
  rustup target add x86_64-unknown-linux-musl wasm32-wasip2; apt-get install -y musl-tools
  CC_x86_64_unknown_linux_musl=musl-gcc cargo build --release --locked --target x86_64-unknown-linux-musl -p exlogare
or pass --bin PATH"
[ -f "$busybox" ] || missing "no busybox at $busybox: install a static one (Debian: apt-get install busybox-static) or pass --busybox PATH"

is_static() {
  local out
  if command -v file >/dev/null 2>&1; then
    out=$(file -L "$1")
    case "$out" in *"statically linked"*|*"static-pie linked"*) return 0 ;; *) return 1 ;; esac
  elif command -v ldd >/dev/null 2>&1; then
    out=$(ldd "$1" 2>&1 || true)
    case "$out" in *"not a dynamic executable"*|*"statically linked"*) return 0 ;; *) return 1 ;; esac
  fi
  echo "note: neither file nor ldd here; not checking that $1 is static" >&2
}
is_static "$bin" || missing "$bin is not statically linked: build it for x86_64-unknown-linux-musl (docs/install.md)"
is_static "$busybox" || missing "$busybox is not statically linked (Debian's busybox package is dynamic: apt-get install busybox-static)"

echo "engine:   $($engine --version)"
[ "$engine" = podman ] && command -v runc >/dev/null 2>&1 && echo "runc:     $(runc --version | head -n1)"
echo "binary:   $bin ($(stat -c %s "$bin") bytes; $("$bin" --version))"
echo "busybox:  $busybox ($(stat -c %s "$busybox") bytes; $("$busybox" | head -n1))"

work=$(mktemp -d /tmp/exlogare-image-check.XXXXXX)
trap 'rm -rf "$work"' EXIT

# --- build ------------------------------------------------------------------------------------
mkdir -p "$work/ctx"
install -m 0755 "$bin" "$work/ctx/exlogare"
install -m 0755 "$busybox" "$work/ctx/busybox"

read -r -a build_flags <<<"${BUILD_FLAGS:-}"
build() {
  echo "+ $engine build ${build_flags[*]} -f ci/docker/Dockerfile.prebuilt -t $tag <context: exlogare, busybox>"
  "$engine" build ${build_flags[@]+"${build_flags[@]}"} -f "$here/Dockerfile.prebuilt" -t "$tag" "$work/ctx"
}
if ! build >"$work/build.out" 2>&1; then
  cat "$work/build.out"
  if [ "$engine" = podman ] && [ -z "${BUILD_FLAGS:-}" ]; then
    echo "--- podman build failed with its defaults; retrying with --isolation chroot"
    build_flags=(--isolation chroot)
    build >"$work/build.out" 2>&1 || { cat "$work/build.out"; echo "FAILED: image build" >&2; exit 1; }
  else
    echo "FAILED: image build" >&2; exit 1
  fi
fi
sed -n '1p; /^STEP\|^Step\|Successfully\|^COMMIT\|writing image/p' "$work/build.out"

# --- how to run it ----------------------------------------------------------------------------
read -r -a run_flags <<<"${RUN_FLAGS:-}"
run() { "$engine" run --rm ${run_flags[@]+"${run_flags[@]}"} "$@"; }
if ! run "$tag" --version >"$work/probe.out" 2>&1; then
  cat "$work/probe.out"
  if [ "$engine" = podman ] && [ -z "${RUN_FLAGS:-}" ] && command -v runc >/dev/null 2>&1; then
    run_flags=(--runtime runc --ulimit "nofile=$(ulimit -Hn):$(ulimit -Hn)" --ulimit nproc=4096:4096)
    echo "--- podman run failed with its defaults; retrying with: ${run_flags[*]}"
  fi
fi
echo "run flags: ${run_flags[*]:-(none)}"

# --- checks -----------------------------------------------------------------------------------
passed=0 failed=0
ok()   { passed=$((passed + 1)); echo "ok   $*"; }
fail() { failed=$((failed + 1)); echo "FAIL $*"; }

want_version=$("$bin" --version)
if got=$(run "$tag" --version 2>&1) && [ "$got" = "$want_version" ]; then
  ok "exlogare --version in the container: $got"
else
  fail "exlogare --version in the container: got '$got', want '$want_version'"
fi

user=$("$engine" image inspect --format '{{.Config.User}}' "$tag")
if [ -n "$user" ] && [ "${user%%:*}" != 0 ] && [ "${user%%:*}" != root ]; then
  ok "image USER is $user"
else
  fail "image USER is '${user}' (root)"
fi
if uid=$(run --entrypoint /bin/id "$tag" -u 2>&1) && [ "$uid" != 0 ]; then
  ok "runs as uid $uid inside"
else
  fail "id -u inside: '$uid'"
fi

if out=$(run --entrypoint /bin/sh "$tag" -c \
      'command -v exlogare && exlogare --version >/dev/null && test -d /tmp -a -w /tmp -a -k /tmp && echo shell-ok' 2>&1) \
   && [ "${out##*$'\n'}" = shell-ok ]; then
  ok "/bin/sh runs a job-style script (exlogare on PATH at $(echo "$out" | head -n1); /tmp writable, sticky)"
else
  fail "shell check: $out"
fi

# a job the way GitLab's docker executor runs one: entrypoint cleared, a shell found by the
# runner's probe, the job's script on its standard input
probe='if [ -x /usr/local/bin/bash ]; then exec /usr/local/bin/bash; elif [ -x /usr/bin/bash ]; then exec /usr/bin/bash; elif [ -x /bin/bash ]; then exec /bin/bash; elif [ -x /bin/sh ]; then exec /bin/sh; else echo shell not found; exit 1; fi'
# shellcheck disable=SC2016  # expanded by the container's shell
job='set -e
cd /tmp
status=0
exlogare run --log build.log -- sh -c "echo compiling; echo token=glpat-AbCdEfGhIjKlMnOpQrSt >&2; exit 3" || status=$?
echo "job-status=$status"
exlogare report --dry-run --when always --strict --log build.log >payload.json 2>report.err
grep -q "REDACTED:gitlab" payload.json && ! grep -q AbCdEfGhIjKlMnOpQrSt payload.json && echo job-ok'
if out=$(printf '%s\n' "$job" | run -i --network none --entrypoint '' "$tag" /bin/sh -c "$probe" 2>&1) \
   && printf '%s\n' "$out" | grep -qx 'job-status=3' && [ "${out##*$'\n'}" = job-ok ]; then
  ok "a GitLab-style job (entrypoint '', script on sh's stdin): exlogare run kept exit 3, report --dry-run redacted the token"
else
  fail "GitLab-style job: $out"
fi

size=$("$engine" image inspect --format '{{.Size}}' "$tag")
files=$(( $(stat -c %s "$bin") + $(stat -c %s "$busybox") ))
limit=$(( files + 1024 * 1024 ))
size_mib=$(awk -v b="$size" 'BEGIN { printf "%.1f", b / 1048576 }')
if [ "$size" -le "$limit" ]; then
  ok "image size: $size bytes ($size_mib MiB); its two binaries: $files bytes"
else
  fail "image size: $size bytes ($size_mib MiB) > the binaries ($files bytes) + 1 MiB"
fi

# a small job log with a secret in it, mounted read-only; no network at all
mkdir -p "$work/job"
secret='wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY'
printf 'Running tests\nexport AWS_SECRET_ACCESS_KEY=%s\n\033[31merror\033[0m: 1 test failed\n' "$secret" >"$work/job/build.log"
chmod 0755 "$work/job"; chmod 0644 "$work/job/build.log"
args=(report --dry-run --when always --strict --log /job/build.log)
if run --network none -v "$work/job:/job:ro,z" -w /job -e CI_PROJECT_DIR=/job "$tag" "${args[@]}" \
     >"$work/payload.json" 2>"$work/report.err"; then
  rc=0
else
  rc=$?
fi
sed 's/^/  stderr: /' "$work/report.err"
if [ "$rc" = 0 ] && grep -q 'REDACTED:aws-secret-access-key' "$work/payload.json" \
   && ! grep -qF "$secret" "$work/payload.json" && grep -q 'nothing was sent' "$work/report.err"; then
  ok "exlogare ${args[*]}: exit 0, payload of $(stat -c %s "$work/payload.json") bytes, secret redacted, nothing sent"
else
  fail "exlogare ${args[*]}: exit $rc; payload: $(head -c 400 "$work/payload.json")"
fi
# the same on the host, with the same binary: the payload must be the same
(cd "$work/job" && env -i PATH=/usr/bin:/bin CI_PROJECT_DIR="$work/job" "$bin" report --dry-run --when always \
   --strict --log "$work/job/build.log" >"$work/payload.host.json" 2>/dev/null) || true
if cmp -s "$work/payload.json" "$work/payload.host.json"; then
  ok "the container's payload is byte-for-byte the host's"
else
  fail "the container's payload differs from the host's:"
  diff <(tr ',' '\n' <"$work/payload.host.json") <(tr ',' '\n' <"$work/payload.json") | head -n 20 || true
fi

echo "image: $tag ($size_mib MiB), kept; remove it with: $engine rmi $tag"
echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
