#!/usr/bin/env python3
"""Writes a realistic CI log of a given size, with secrets planted in it, fast.

    genlog.py SIZE OUT [--patterns FILE] [--known FILE]

SIZE is bytes, or with a K/M/G suffix (binary). The log is made of one ~4 MiB block of tool
output (cargo, npm, docker, pytest, maven, terraform, kubectl lines with SHAs, digests, UUIDs
and SRI hashes that must survive) holding a secret about every 500 lines, written again and
again, so even 1 GiB takes a few seconds. --known writes the known secret values (NAME=VALUE
lines, the same values the bench passes to exlogare as secret-named variables); --patterns
writes the ripgrep patterns that do the same replacement (the known values and their base64 /
URL forms, and regexes for the token and context rules).
"""
import base64
import random
import re
import sys
import urllib.parse
import zlib

KNOWN = {
    "DB_PASSWORD": "Sup3r-S3cret-Value!2024",
    "DEPLOY_TOKEN": "dpl-7f3c9a2e41b85d06c7e9",
    "REGISTRY_PASSWORD": "r3g1stry-P4ss-wOrd-x9Q",
}

B62 = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"


def base62(n, width):
    out = []
    while n:
        out.append(B62[n % 62])
        n //= 62
    while len(out) < width:
        out.append(ord("0"))
    return bytes(reversed(out)).decode()


def ghp(rng):
    body = "".join(rng.choice(B62.decode()) for _ in range(30))
    return "ghp_" + body + base62(zlib.crc32(body.encode()), 6)


def hexs(rng, n):
    return "".join(rng.choice("0123456789abcdef") for _ in range(n))


def alnum(rng, n):
    return "".join(rng.choice(B62.decode()) for _ in range(n))


def uuid(rng):
    h = hexs(rng, 32)
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def ordinary(rng, i):
    crates = ["serde_json v1.0.117", "tokio v1.37.0", "regex-automata v0.4.6", "hyper v1.3.1", "clap v4.5.4"]
    k = rng.randrange(18)
    if k == 0:
        return f"   Compiling {rng.choice(crates)}"
    if k == 1:
        return f"2024-05-01T10:{i % 60:02d}:{(i * 7) % 60:02d}.{rng.randrange(10**6):06d}Z 01O test tests::case_{i % 977} ... ok"
    if k == 2:
        return "npm WARN deprecated inflight@1.0.6: This module is not supported, and leaks memory."
    if k == 3:
        return f"added {rng.randrange(100, 2000)} packages, and audited {rng.randrange(100, 2000)} packages in {rng.randrange(2, 90)}s"
    if k == 4:
        return f"#12 sha256:{hexs(rng, 64)} {rng.randrange(1, 99)}.{rng.randrange(10)}MB / 45.6MB 2.1s"
    if k == 5:
        return f" ---> Running in {hexs(rng, 12)}"
    if k == 6:
        return f"[INFO] Downloading from central: https://repo.maven.apache.org/maven2/org/slf4j/slf4j-api/2.0.{i % 20}/slf4j-api-2.0.{i % 20}.pom"
    if k == 7:
        return f"tests/test_api.py::test_create_user[postgres-{i % 50}] PASSED                      [ {i % 100:2d}%]"
    if k == 8:
        return "E       AssertionError: assert 500 == 200"
    if k == 9:
        return f"aws_instance.web[{i % 8}]: Still creating... [{i % 300}s elapsed]"
    if k == 10:
        return f"request_id={uuid(rng)} status=200 duration_ms={rng.randrange(1, 900)}"
    if k == 11:
        return f"HEAD is now at {hexs(rng, 8)} Merge branch 'feature/login-{i % 40}' into 'main' ({hexs(rng, 40)})"
    if k == 12:
        return f"  \"integrity\": \"sha512-{base64.b64encode(rng.randbytes(64)).decode()}\","
    if k == 13:
        return f"    at Object.<anonymous> (/builds/group/project/node_modules/jest-circus/build/utils.js:{i % 400}:10)"
    if k == 14:
        return f"deployment.apps/web-{i % 9} configured"
    if k == 15:
        return "warning: unused variable: `token_count`"
    if k == 16:
        return f"go: downloading golang.org/x/sys v0.{i % 30}.0"
    return f"Step {i % 12 + 1}/12 : RUN make -j4 build VERSION=1.{i % 30}.{i % 7}"


def secret_line(rng, j):
    names = list(KNOWN)
    k = j % 10
    if k == 0:
        return f"export DB_PASSWORD={KNOWN['DB_PASSWORD']}"
    if k == 1:
        return f"+ docker login -u ci -p {KNOWN['REGISTRY_PASSWORD']} registry.example.com"
    if k == 2:
        return f"git remote set-url origin https://x:{ghp(rng)}@github.com/o/r.git"
    if k == 3:
        return f"curl -H 'Authorization: Bearer {alnum(rng, 40)}' https://api.example.com/v1/deploy"
    if k == 4:
        return f"token glpat-{alnum(rng, 20)} used for clone"
    if k == 5:
        return f"AWS_ACCESS_KEY_ID=AKIA{''.join(rng.choice('ABCDEFGHIJKLMNOPQRSTUVWXYZ234567') for _ in range(16))}"
    if k == 6:
        v = KNOWN[names[j % len(names)]]
        return f"config: {base64.b64encode(('user:' + v).encode()).decode()} (basic auth blob)"
    if k == 7:
        return f"deploy url https://deploy.example.com/hook?t={urllib.parse.quote(KNOWN['DEPLOY_TOKEN'], safe='')}"
    if k == 8:
        return f"postgres://app:{alnum(rng, 16)}@db.internal:5432/app"
    return f"{{\"deploy_token\": \"{KNOWN['DEPLOY_TOKEN']}\"}}"


def block(size):
    rng = random.Random(42)
    lines = []
    n = 0
    i = 0
    while n < size:
        line = secret_line(rng, i // 500) if i % 500 == 499 else ordinary(rng, i)
        lines.append(line)
        n += len(line) + 1
        i += 1
    return ("\n".join(lines) + "\n").encode()


def parse_size(s):
    mult = {"K": 1 << 10, "M": 1 << 20, "G": 1 << 30}
    s = s.strip().upper().removesuffix("IB").removesuffix("B")
    if s and s[-1] in mult:
        return int(float(s[:-1]) * mult[s[-1]])
    return int(s)


def known_forms(value):
    forms = {value, urllib.parse.quote(value, safe="")}
    raw = value.encode()
    for shift in range(3):
        enc = base64.b64encode(b"\0" * shift + raw).decode()
        # Only the characters fully determined by the value (as the engine does).
        start = (shift * 8 + 5) // 6 + (1 if shift else 0)
        end = ((shift + len(raw)) * 8) // 6
        core = enc[start:end]
        if len(core) >= 8:
            forms.add(core)
            forms.add(core.replace("+", "-").replace("/", "_"))
    return forms


RULES = [
    r"gh[pousr]_[0-9A-Za-z]{36}",
    r"github_pat_[0-9A-Za-z_]{82}",
    r"gl(pat|dt|rt|ptt|cbt|soat|ffct|agent|oas)-[0-9A-Za-z_.-]{20,}",
    r"(AKIA|ASIA)[0-9A-Z]{16}",
    r"xox[baprs]-[0-9A-Za-z-]{10,}",
    r"(sk|rk)_live_[0-9A-Za-z]{24,}",
    r"AIza[0-9A-Za-z_-]{35}",
    r"npm_[0-9A-Za-z]{36}",
    r"pypi-AgEIcHlwaS5vcmc[0-9A-Za-z_-]{50,}",
    r"dckr_pat_[0-9A-Za-z_-]{27}",
    r"sk-(proj-)?[0-9A-Za-z_-]{20,}",
    r"sk-ant-[0-9A-Za-z_-]{80,}",
    r"AccountKey=[0-9A-Za-z+/=]{40,}",
    r"eyJ[0-9A-Za-z_-]{8,}\.eyJ[0-9A-Za-z_-]{8,}\.[0-9A-Za-z_-]{8,}",
    r"-----BEGIN [A-Z ]*PRIVATE KEY-----",
    r'''(?i)authorization:\s*(bearer|basic|token)\s+[^\s'"]+''',
    r"[A-Za-z][A-Za-z0-9+.-]*://[^\s:/@]+:[^\s@/]+@",
    r'''(?i)[a-z_]*(password|passwd|secret|token|api_key|apikey)["']?\s*[=:]\s*["']?[^\s"']{4,}''',
    r"(?i)(--password|-p)\s+[^\s-][^\s]{5,}",
]


def main():
    args = sys.argv[1:]
    opts = {}
    pos = []
    while args:
        a = args.pop(0)
        if a in ("--patterns", "--known"):
            opts[a] = args.pop(0)
        else:
            pos.append(a)
    if "--known" in opts:
        with open(opts["--known"], "w") as f:
            for k, v in KNOWN.items():
                f.write(f"{k}={v}\n")
    if "--patterns" in opts:
        with open(opts["--patterns"], "w") as f:
            for v in KNOWN.values():
                for form in sorted(known_forms(v)):
                    f.write(re.escape(form) + "\n")
            for r in RULES:
                f.write(r + "\n")
    if not pos:
        return
    size, out = parse_size(pos[0]), pos[1]
    base = block(min(size, 4 << 20) or 1)
    with open(out, "wb") as f:
        left = size
        while left > 0:
            piece = base if left >= len(base) else base[:left]
            f.write(piece)
            left -= len(piece)


if __name__ == "__main__":
    main()
