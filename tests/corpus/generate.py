#!/usr/bin/env python3
"""Regenerates the evidence corpus (the *.log files and manifest.toml) in this directory.

Every secret here is FAKE, made for these tests; GitHub/npm tokens carry a valid CRC32 so
the checksum-verifying rules accept them."""
import base64, json, urllib.parse, zlib

B62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
def b62(n, w=6):
    d = ""
    while n:
        d = B62[n % 62] + d
        n //= 62
    return d.rjust(w, "0")
def crc(r):
    assert len(r) == 30, r
    return r + b62(zlib.crc32(r.encode()))
def b64(s): return base64.b64encode(s.encode()).decode()

ghp = "ghp_" + crc("FAKEfake0000TestToken1234abcde")
ghs = "ghs_" + crc("FAKEghsToken0000000000000xyzAB")
npm = "npm_" + crc("FAKEnpmToken00000000000000abcd")
glpat = "glpat-FAKEfake00TestTok3nX"
glpat_new = "glpat-FAKE0new0Format0Token0abcdEFG.01.0w1a2b3c4"
akia = "AKIAFAKEXTESTXKEYZ23"
awssecret = "FAKEsecretAccessKey0/testOnly+abcdEFGH12"
slack = "xoxb-000000000000-1111111111111-FAKEslackBotTokenABCD"
stripe = "sk_live_FAKEstripe0000TestKey1234"
google = "AIzaFAKE_google-api-key-000000000abcdef"
pypi = "pypi-AgEIcHlwaS5vcmcCJFAKE0000-pypi-token-for-tests-only-0000000000000000000000"
docker = "dckr_pat_FAKEdockerHubPat000000000"
openai = "sk-proj-FAKEopenai0000000000000000000000000000000000TestKey_abc"
anth = "sk-ant-api03-FAKEanthropic00000000000000000000000000000000000000000000TestAA"
azure_key = b64("FAKE-azure-storage-account-key-for-the-test-corpus-0123456789ab")
jwt = (base64.urlsafe_b64encode(b'{"alg":"HS256","typ":"JWT"}').decode().rstrip("=") + "." +
       base64.urlsafe_b64encode(b'{"sub":"fake-user","iss":"test-corpus"}').decode().rstrip("=") +
       ".FAKEsignature0000abcdEFGH-_x")
pem_body = ["MIIEpAIBAAKCAQEAFAKEfakeFAKEfakeFAKEfakeFAKEfakeFAKEfakeFAKEfake0",
            "FAKEfakeFAKEfakeFAKEfakeFAKEfakeFAKEfakeFAKEfakeFAKEfakeFAKEfak1",
            "FAKEfakeFAKEfakeFAKEfakeFAKEfake=="]
db_pw = "Corpus-DB-Passw0rd!"
deploy = "deploy/Key+with=chars&more"
api = "api-key-1234567890-FAKE"
ci_job = "glcbt-64_FAKEciJobTokenValue9876"
sha = "3f786850e387550fdab836ed7e6dc881de23001b"
sha256 = "9b2a3f1c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f708192a3b4c5d6e7f8"
uuid = "123e4567-e89b-12d3-a456-426614174000"
sri = "sha512-z4PhNX7vuL3xVChQ1m2AB9Yg5AULVxXcg/SpIdNs6c5H0NE8XYXysP+DGNKHfuwvY7kxvUdBeoGlODJ6+SfaPg=="
pem = "\n".join(["-----BEGIN RSA PRIVATE KEY-----"] + pem_body + ["-----END RSA PRIVATE KEY-----"])
url_db_pw = urllib.parse.quote(db_pw, safe="")
url_deploy = urllib.parse.quote(deploy, safe="")
json_deploy = json.dumps(deploy)[1:-1]
basic_db = b64("svc:" + db_pw)
docker_auth = b64("ci:" + deploy)
sa = json.dumps({"type": "service_account", "private_key_id": sha,
                 "private_key": "-----BEGIN PRIVATE KEY-----\n" + "\n".join(pem_body) + "\n-----END PRIVATE KEY-----\n"})

files = {}
files["gitlab-cargo.log"] = f"""Running with gitlab-runner 17.0.0 (44feccdf)
  on docker-runner-3 xyz, system ID: s_0123456789ab
Preparing the "docker" executor
Using docker image sha256:{sha256} for rust:1.95 with digest rust@sha256:{sha256} ...
Fetching changes with git depth set to 20...
Checking out {sha[:8]} as detached HEAD (ref is main)...
$ git remote set-url origin https://gitlab-ci-token:{ci_job}@gitlab.example.com/group/project.git
$ echo "machine gitlab.example.com login oauth2 password {glpat}" > ~/.netrc
$ cargo build --release --locked
    Updating crates.io index
  Downloaded serde v1.0.200
   Compiling proc-macro2 v1.0.86
   Compiling app v0.3.1 (/builds/group/project)
warning: unused variable: `token_count`
    Finished `release` profile [optimized] target(s) in 1m 12s
$ DATABASE_URL=postgres://app:{db_pw}@db:5432/app cargo test
running 14 tests
test config::tests::parses ... ok
test db::tests::connects ... FAILED
thread 'db::tests::connects' panicked at src/db.rs:88:5:
connection failed: error connecting to postgres://app:{url_db_pw}@db:5432/app
  config = {{"url": "{db_pw}", "pool": 5, "id": "{uuid}"}}
test result: FAILED. 13 passed; 1 failed; 0 ignored; 0 measured; 0 filtered out
GITHUB_TOKEN={ghp}
Commit {sha} by dev
ERROR: Job failed: exit code 101
"""
files["pytest.log"] = f"""============================= test session starts ==============================
platform linux -- Python 3.12.3, pytest-8.2.0, pluggy-1.5.0
collected 57 items

tests/test_api.py::test_health PASSED                                    [  1%]
tests/test_api.py::test_login FAILED                                     [  3%]
    def test_login(client):
>       r = client.post("/login", headers={{"Authorization": "Bearer {api}"}})
E       AssertionError: assert 500 == 200
DEBUG    urllib3:connectionpool.py:546 https://api.example.com:443 "POST /v1/token HTTP/1.1" 500 21
DEBUG    app.auth:auth.py:12 request headers: {{'Authorization': 'Basic {basic_db}', 'X-Request-Id': '{uuid}'}}
DEBUG    app.settings: loaded {{"deploy_key": "{json_deploy}", "region": "eu-west-1"}}
DEBUG    app.settings: OPENAI_API_KEY={openai}
DEBUG    app.settings: ANTHROPIC_API_KEY={anth}
DEBUG    boto3: credentials {akia} / aws_secret_access_key={awssecret}
WARNING  app: Slack notify failed for https://hooks.slack.com/services/T00000000/B00000000/FAKEslackWebhook000000ab
INFO     app: stripe key {stripe} loaded
========================= 1 failed, 56 passed in 4.21s =========================
"""
files["npm-docker.log"] = f"""$ npm ci
npm WARN deprecated inflight@1.0.6: This module is not supported, and leaks memory.
npm verb lockfile "integrity": "{sri}"
//registry.npmjs.org/:_authToken={npm}
added 1423 packages, and audited 1424 packages in 37s
$ docker login -u ci -p {docker} registry-1.docker.io
WARNING! Using --password via the CLI is insecure. Use --password-stdin.
#8 writing image sha256:{sha256} done
#8 naming to docker.io/library/app:1.4.2 done
$ cat ~/.docker/config.json
{{"auths": {{"registry.example.com": {{"auth": "{docker_auth}"}}}}}}
$ curl -sf -H "PRIVATE-TOKEN: {glpat_new}" https://gitlab.example.com/api/v4/projects
npm ERR! Unable to authenticate, need: Basic realm="GitHub Package Registry", token {ghs}
"""
files["terraform-kubectl.log"] = f"""$ terraform apply -auto-approve
- Installing hashicorp/aws v5.50.0...
aws_iam_access_key.ci: Creation complete after 1s [id={akia}]
Error: error configuring Terraform AWS Provider: invalid credentials
  12:   secret_key = "{awssecret}"
$ kubectl get secret app -o yaml
data:
  DB_PASSWORD: {b64(db_pw)}
metadata:
  uid: {uuid}
$ kubectl logs deploy/web
2024-05-01T10:00:00.000Z -----BEGIN RSA PRIVATE KEY-----
""" + "".join(f"2024-05-01T10:00:0{i}.123Z {l}\n" for i, l in enumerate(pem_body)) + f"""2024-05-01T10:00:09.000Z -----END RSA PRIVATE KEY-----
2024-05-01T10:00:09.500Z loaded key, jwt={jwt}
$ helm upgrade --install web ./chart --set image.tag=1.4.2 --set slack.token={slack}
Release "web" has been upgraded. Happy Helming!
$ az storage blob upload --connection-string "DefaultEndpointsProtocol=https;AccountName=corpus;AccountKey={azure_key};EndpointSuffix=core.windows.net"
"""
files["maven-gradle-go.log"] = f"""[INFO] Downloading from central: https://repo.maven.apache.org/maven2/org/slf4j/slf4j-api/2.0.13/slf4j-api-2.0.13.pom
[DEBUG] settings.xml server nexus: <password>{db_pw}</password>
[DEBUG]   (f) password = {deploy}
[ERROR] Failed to execute goal: Could not transfer artifact from nexus (https://deployer:{url_deploy}@nexus.example.com/repo)
> Task :test FAILED
gradle: GOOGLE_API_KEY={google}
go: verifying module: golang.org/x/mod@v0.14.0 h1:dGoOF9QVLYng8IHTm7BAyWqCqSheQ5pYWGhzW00YJr0=
--- FAIL: TestUpload (0.01s)
    upload_test.go:31: credentials: {sa}
    upload_test.go:40: PYPI token {pypi}
checksum md5 9e107d9d372bb6826bd81d3542a419d6
version 2.3.1-rc.2+build.77
"""
known = [("DB_PASSWORD", db_pw), ("DEPLOY_KEY", deploy), ("CI_JOB_TOKEN", ci_job), ("API_KEY", api)]
secrets = {
    "gitlab-cargo.log": [(ci_job, "known:CI_JOB_TOKEN", "raw"), (glpat, "gitlab-pat", ""), (db_pw, "known:DB_PASSWORD", "raw"),
                         (url_db_pw, "known:DB_PASSWORD", "url"), (ghp, "github-pat", "")],
    "pytest.log": [(api, "known:API_KEY", "raw"), (basic_db, "known:DB_PASSWORD", "base64"), (json_deploy, "known:DEPLOY_KEY", "json"),
                   (openai, "openai-api-key", ""), (anth, "anthropic-api-key", ""), (akia, "aws-access-key-id", ""),
                   (awssecret, "aws-secret-access-key", ""), ("FAKEslackWebhook000000ab", "slack-webhook", ""), (stripe, "stripe-key", "")],
    "npm-docker.log": [(npm, "npm-token", ""), (docker, "dockerhub-pat", ""), (docker_auth, "known:DEPLOY_KEY", "base64"),
                       (glpat_new, "gitlab-pat", ""), (ghs, "github-app-token", "")],
    "terraform-kubectl.log": [(akia, "aws-access-key-id", ""), (awssecret, "aws-secret-access-key", ""),
                              (b64(db_pw), "known:DB_PASSWORD", "base64"), (pem_body[0], "private-key", ""),
                              (pem_body[1], "private-key", ""), (jwt, "jwt", ""), (slack, "slack-token", ""),
                              (azure_key, "azure-storage-key", "")],
    "maven-gradle-go.log": [(db_pw, "known:DB_PASSWORD", "raw"), (deploy, "known:DEPLOY_KEY", "raw"),
                            (url_deploy, "known:DEPLOY_KEY", "url"), (google, "google-api-key", ""),
                            (pem_body[0], "private-key", ""), (pypi, "pypi-token", "")],
}
keep = {
    "gitlab-cargo.log": [sha256, sha, uuid, "v1.0.200", "s_0123456789ab", "44feccdf", "token_count"],
    "pytest.log": [uuid, "pytest-8.2.0", "eu-west-1", "POST /v1/token HTTP/1.1"],
    "npm-docker.log": [sri, sha256, "app:1.4.2", "inflight@1.0.6"],
    "terraform-kubectl.log": [uuid, "v5.50.0", "2024-05-01T10:00:09.000Z -----END RSA PRIVATE KEY-----",
                              "2024-05-01T10:00:00.000Z -----BEGIN RSA PRIVATE KEY-----", "image.tag=1.4.2"],
    "maven-gradle-go.log": [sha, "h1:dGoOF9QVLYng8IHTm7BAyWqCqSheQ5pYWGhzW00YJr0=", "9e107d9d372bb6826bd81d3542a419d6",
                            "2.3.1-rc.2+build.77", "slf4j-api-2.0.13.pom"],
}
q = json.dumps
out = ["# The evidence corpus: realistic tool output with FAKE secrets planted (none is real).",
       "# Generated by generate.py. Each [[file]] lists the known values to configure, the planted",
       "# secrets (`text` must not survive; `rule` is the report key expected; `encoding` is the",
       "# form of a known value, empty for rules) and `keep`, strings that must survive untouched.",
       "# Checked by guest/redact/tests/corpus.rs.", ""]
for n, c in files.items():
    with open(n, "w") as f:
        f.write(c)
    out.append("[[file]]")
    out.append(f"path = {q(n)}")
    out.append("known = [" + ", ".join(f"{{ name = {q(a)}, value = {q(b)} }}" for a, b in known) + "]")
    out.append("keep = [" + ", ".join(q(k) for k in keep[n]) + "]")
    for v, r, e in secrets[n]:
        assert v in c, (n, v)
        out += ["[[file.secret]]", f"text = {q(v)}", f"rule = {q(r)}", f"encoding = {q(e)}"]
    out.append("")
with open("manifest.toml", "w") as f:
    f.write("\n".join(out))
