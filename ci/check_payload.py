#!/usr/bin/env python3
"""Checks what the receiver recorded in ci/gitlab-ci-local.sh's pipeline.

Usage: check_payload.py RECEIVED_DIR TOKEN PLANTED_SECRET COMMIT_SHA JOB_ENV_FILE
Prints every failed expectation and exits 1 if there is one.
"""
import glob
import json
import sys

received_dir, token, planted, sha, env_file = sys.argv[1:6]
problems = []


def expect(cond, what):
    if not cond:
        problems.append(what)


env = {}
with open(env_file) as f:
    for line in f:
        if "=" in line:
            k, v = line.rstrip("\n").split("=", 1)
            env[k] = v

all_records = [json.load(open(p)) for p in sorted(glob.glob(received_dir + "/*.json"))]


def job_name(record):
    try:
        return json.loads(record["body"]).get("job_name")
    except ValueError:
        return None


names = sorted(str(job_name(r)) for r in all_records)
expect(names == ["failing-job", "reference-job"], f"one request per failed job (failing-job, reference-job), none from passing-job; got {names}")
ref = [r for r in all_records if job_name(r) == "reference-job"]
if ref:
    body = json.loads(ref[0]["body"])
    expect(body.get("status") == "failed", "reference-job's status is failed")
    expect(body.get("log") == "reference job output\n", f"reference-job's log, got {body.get('log')!r}")
    expect(ref[0]["headers"].get("authorization") == f"Bearer {token}", "reference-job sent the token too")
records = [r for r in all_records if job_name(r) == "failing-job"]
if records:
    r = records[0]
    expect(r["method"] == "POST", f"POST, got {r['method']}")
    expect(r["path"] == "/api/ingest/log", f"path /api/ingest/log, got {r['path']}")
    expect(r["headers"].get("authorization") == f"Bearer {token}", "the token in the Authorization header")
    body_text = r["body"]
    expect(token not in body_text, "the token is not in the body")
    expect(planted not in json.dumps(r), "the planted secret DEPLOY_PASSWORD never arrives")
    expect("glpat-AbCdEfGhIjKlMnOpQrSt" not in body_text, "the fixture GitLab token is redacted")
    try:
        body = json.loads(body_text)
    except ValueError as e:
        body = {}
        problems.append(f"the body is JSON ({e})")
    want = {
        "provider": "gitlab_ci",
        "project": env.get("CI_PROJECT_PATH"),
        "pipeline_id": env.get("CI_PIPELINE_ID"),
        "job_id": env.get("CI_JOB_ID"),
        "job_name": "failing-job",
        "status": "failed",
        "branch": env.get("CI_COMMIT_REF_NAME"),
        "commit_sha": sha,
        "pipeline_url": env.get("CI_PIPELINE_URL"),
    }
    expect(env.get("CI_PROJECT_PATH") == "acme/shop", f"gitlab-ci-local's CI_PROJECT_PATH is acme/shop (from the remote), got {env.get('CI_PROJECT_PATH')}")
    expect(env.get("CI_JOB_NAME") == "failing-job", "the job env file is failing-job's")
    for field, value in want.items():
        expect(value not in (None, ""), f"the job's {field} is known")
        expect(body.get(field) == value, f"{field} = {value!r}, got {body.get(field)!r}")
    meta = body.get("metadata", {})
    expect(meta.get("job", {}).get("url") == env.get("CI_JOB_URL"), f"metadata.job.url = CI_JOB_URL, got {meta.get('job')}")
    expect(meta.get("job", {}).get("stage") == "test", "metadata.job.stage = test")
    # gitlab-ci-local sets CI_COMMIT_TITLE to a fixed text; what matters is that it is passed on.
    expect(meta.get("commit", {}).get("title") == env.get("CI_COMMIT_TITLE"), f"metadata.commit.title, got {meta.get('commit')}")
    expect(meta.get("pipeline", {}).get("source") == env.get("CI_PIPELINE_SOURCE"), "metadata.pipeline.source")
    log = body.get("log", "")
    expect(log.startswith("compiling...\n"), f"the log is the wrapped command's output, got {log[:200]!r}")
    expect("error: connection refused with password [REDACTED" in log, f"ANSI removed and the password redacted, got {log!r}")
    expect("\x1b" not in log, "no ANSI escape in the log")
    expect("the job's own trace line" not in log, "only what exlogare run captured is in the log")
    red = meta.get("redactions", {})
    expect(bool(red), f"metadata.redactions lists the redactions, got {red!r}")

for p in problems:
    print("check_payload: FAILED:", p, file=sys.stderr)
sys.exit(1 if problems else 0)
