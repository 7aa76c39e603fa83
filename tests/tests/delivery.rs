//! Delivery: retries, deadlines, idempotency, 413, gzip, the spool and `send`, TLS with a CA
//! made in the test, and a proxy — each against real servers on 127.0.0.1 started by the test,
//! each checking the exit code, what the server got, and what the spool holds.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use exlogare_tests::proxy::Proxy;
use exlogare_tests::tls::{TestCa, TlsFront};
use exlogare_tests::{
    Dir, Receiver, Reply, Run, TOKEN, TestCommand, base64, gitlab_failed_job, json,
};

const LOG: &str = "compiling...\nerror[E0425]: cannot find value `x`\n";

/// `report` for a failed GitLab job whose project directory is `dir`, sending to `url`, with
/// short backoffs.
fn report(dir: &Dir, url: &str) -> TestCommand {
    dir.create("build.log", LOG);
    let mut cmd = dir.command();
    cmd.args(["report"])
        .envs(gitlab_failed_job())
        .env("CI_PROJECT_DIR", dir.path())
        .env("EXLOGARE_TOKEN", TOKEN)
        .env("EXLOGARE_URL", url)
        .env("EXLOGARE_RETRY_BASE_MS", "50");
    cmd
}

/// `send` in `dir`, with the token and short backoffs.
fn send(dir: &Dir) -> TestCommand {
    let mut cmd = dir.command();
    cmd.args(["send"])
        .env("CI_PROJECT_DIR", dir.path())
        .env("EXLOGARE_TOKEN", TOKEN)
        .env("EXLOGARE_RETRY_BASE_MS", "50");
    cmd
}

/// A URL where nothing listens: a port bound, then released.
fn dead_url() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr");
    drop(listener);
    format!("http://{addr}")
}

/// The spool files in `dir`'s default spool.
fn spooled(dir: &Dir) -> Vec<PathBuf> {
    let spool = dir.path().join(".exlogare-spool");
    let mut files: Vec<PathBuf> = match std::fs::read_dir(&spool) {
        Ok(entries) => entries.filter_map(Result::ok).map(|e| e.path()).collect(),
        Err(_) => Vec::new(),
    };
    files.sort();
    files
}

/// A spool file: its metadata (the gzip comment) and its body; checks mode 0600 and that
/// the token is nowhere in it.
fn read_spooled(path: &Path) -> (serde_json::Value, Vec<u8>) {
    use std::io::Read;
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(path)
        .expect("spool file")
        .permissions()
        .mode()
        & 0o777;
    assert_eq!(mode, 0o600, "spool file mode of {}", path.display());
    let raw = std::fs::read(path).expect("read spool file");
    assert!(
        !String::from_utf8_lossy(&raw).contains(TOKEN),
        "token in the raw spool file"
    );
    let mut gz = flate2::read::GzDecoder::new(&raw[..]);
    let mut body = Vec::new();
    gz.read_to_end(&mut body).expect("a gzip file");
    let comment = gz
        .header()
        .and_then(|h| h.comment())
        .expect("metadata in the gzip comment")
        .to_vec();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&body),
        String::from_utf8_lossy(&comment)
    );
    assert!(
        !text.contains(TOKEN),
        "token in the spooled payload or metadata"
    );
    assert!(!text.contains(&base64(TOKEN)), "base64 token in the spool");
    (json(&comment), body)
}

/// Checks one payload was spooled for `url` and returns its metadata and body.
fn one_spooled(dir: &Dir, url: &str, run: &Run) -> (serde_json::Value, Vec<u8>) {
    let files = spooled(dir);
    assert_eq!(
        files.len(),
        1,
        "one spool file expected: {files:?}\n{}",
        run.report()
    );
    let (meta, body) = read_spooled(&files[0]);
    assert_eq!(meta["format"], "exlogare-spool/1");
    assert_eq!(meta["endpoint"], format!("{url}/api/ingest/log"));
    assert!(
        meta["idempotency_key"]
            .as_str()
            .is_some_and(|k| k.len() >= 16)
    );
    assert!(meta["attempts"].as_u64().is_some());
    assert!(meta["created"].as_str().is_some_and(|c| c.ends_with('Z')));
    assert_eq!(
        json(&body)["log"],
        LOG,
        "the spooled payload is the redacted JSON body"
    );
    run.assert_stderr_contains(".exlogare-spool/exlogare-")
        .assert_stderr_contains("artifacts: {when: always, paths: [.exlogare-spool/]}")
        .assert_stderr_contains("exlogare send");
    (meta, body)
}

#[test]
fn retries_503_twice_then_delivers_exactly_once_with_one_idempotency_key() {
    let dir = Dir::new();
    let receiver = Receiver::with_replies(vec![Reply::status(503), Reply::status(503)]);
    let run = report(&dir, &receiver.url()).ok();
    run.assert_stderr_contains("HTTP 202 Accepted after 3 attempts (retried: HTTP 503, HTTP 503)")
        .assert_never_printed(TOKEN);
    let got = receiver.received();
    assert_eq!(got.len(), 3, "{}", run.report());
    let key = got[0].header("idempotency-key").expect("idempotency key");
    assert!(got.iter().all(|r| r.header("idempotency-key") == Some(key)));
    assert!(got.iter().all(|r| r.body == got[0].body));
    assert!(
        spooled(&dir).is_empty(),
        "a delivered payload is not spooled"
    );
}

#[test]
fn waits_for_retry_after_then_delivers() {
    let dir = Dir::new();
    let receiver = Receiver::with_replies(vec![Reply::with_header(429, "retry-after", "1")]);
    let started = Instant::now();
    let run = report(&dir, &receiver.url()).ok();
    let waited = started.elapsed();
    run.assert_stderr_contains("after 2 attempts (retried: HTTP 429)");
    let got = receiver.received();
    assert_eq!(got.len(), 2);
    assert!(
        waited >= Duration::from_secs(1),
        "Retry-After: 1 was not honoured: {waited:?}"
    );
    assert!(spooled(&dir).is_empty());
}

#[test]
fn retry_after_beyond_the_deadline_gives_up_early_and_spools() {
    let dir = Dir::new();
    let receiver = Receiver::scripted(Vec::new(), Reply::with_header(503, "retry-after", "600"));
    let started = Instant::now();
    let run = report(&dir, &receiver.url())
        .args(["--deadline", "20", "--strict"])
        .expect_code(6);
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "it did not wait for nothing"
    );
    run.assert_stderr_contains("the server asked to retry after 600.0 s, past the deadline");
    assert_eq!(receiver.received().len(), 1);
    one_spooled(&dir, &receiver.url(), &run);
}

#[test]
fn a_reset_connection_is_retried() {
    let dir = Dir::new();
    let receiver = Receiver::with_replies(vec![Reply::Drop]);
    let run = report(&dir, &receiver.url()).ok();
    run.assert_stderr_contains("HTTP 202 Accepted after 2 attempts (retried: connection closed)");
    let got = receiver.received();
    assert_eq!(got.len(), 2);
    assert_eq!(
        got[0].header("idempotency-key"),
        got[1].header("idempotency-key")
    );
    assert!(spooled(&dir).is_empty());
}

#[test]
fn a_server_slower_than_the_deadline_ends_in_time_and_spools() {
    let dir = Dir::new();
    let receiver = Receiver::scripted(
        Vec::new(),
        Reply::Delay(Duration::from_secs(30), Box::new(Reply::status(202))),
    );
    let started = Instant::now();
    let run = report(&dir, &receiver.url())
        .args(["--deadline", "3s"])
        .ok();
    let took = started.elapsed();
    assert!(
        took < Duration::from_millis(3500),
        "took {took:?} with --deadline 3s\n{}",
        run.report()
    );
    run.assert_stderr_contains("NOT sent: no answer from")
        .assert_stderr_contains("exit status 0 so the job is not failed")
        .assert_never_printed(TOKEN);
    assert!(!receiver.received().is_empty(), "the request did arrive");
    let (meta, _) = one_spooled(&dir, &receiver.url(), &run);
    assert_eq!(
        Some(meta["idempotency_key"].as_str().unwrap_or_default()),
        receiver.received()[0].header("idempotency-key"),
        "the spool keeps the key the attempts used"
    );
    assert!(
        meta["last_error"]
            .as_str()
            .is_some_and(|e| e.contains("no answer"))
    );
}

#[test]
fn nothing_listening_is_retried_until_the_deadline_then_spooled_with_exit_5_when_strict() {
    let dir = Dir::new();
    let url = dead_url();
    let started = Instant::now();
    let run = report(&dir, &url)
        .args(["--deadline", "2", "--strict"])
        .expect_code(5);
    assert!(started.elapsed() < Duration::from_millis(2500));
    run.assert_stderr_contains("could not reach")
        .assert_stderr_contains("gave up at the deadline");
    let (meta, _) = one_spooled(&dir, &url, &run);
    assert!(
        meta["attempts"].as_u64().unwrap_or(0) > 1,
        "connection errors are retried: {meta}"
    );
}

#[test]
fn unauthorized_is_not_retried_says_to_check_the_token_and_exits_4_when_strict() {
    let dir = Dir::new();
    let receiver = Receiver::with_replies(vec![Reply::status(401)]);
    let run = report(&dir, &receiver.url()).arg_strict().expect_code(4);
    run.assert_stderr_contains("answered HTTP 401 Unauthorized")
        .assert_stderr_contains("not retried")
        .assert_stderr_contains("check the token")
        .assert_stderr_contains("ingest scope")
        .assert_never_printed(TOKEN);
    assert_eq!(receiver.received().len(), 1, "401 is never retried");
    let (meta, _) = one_spooled(&dir, &receiver.url(), &run);
    assert_eq!(meta["attempts"], 1);

    // Fail-open by default: the same failure exits 0.
    let dir = Dir::new();
    let receiver = Receiver::with_replies(vec![Reply::status(401)]);
    report(&dir, &receiver.url())
        .ok()
        .assert_stderr_contains("exit status 0 so the job is not failed");
}

#[test]
fn other_refusals_are_not_retried_and_say_what_to_check() {
    for (status, says, code) in [
        (400, "this is a bug in exlogare", 6),
        (403, "ingest scope", 4),
        (404, "check the URL", 2),
        (422, "this is a bug in exlogare", 6),
    ] {
        let dir = Dir::new();
        let receiver = Receiver::with_replies(vec![Reply::status(status)]);
        let run = report(&dir, &receiver.url()).arg_strict().expect_code(code);
        run.assert_stderr_contains(&format!("answered HTTP {status}"))
            .assert_stderr_contains(says);
        assert_eq!(receiver.received().len(), 1, "{status} is never retried");
        assert_eq!(spooled(&dir).len(), 1);
    }
}

#[test]
fn too_large_shrinks_the_log_keeping_its_tail_and_delivers() {
    let dir = Dir::new();
    let mut log = String::new();
    for i in 0..2000 {
        log.push_str(&format!("step {i:04}: some build output\n"));
    }
    log.push_str("error: the real failure is at the end\n");
    let receiver = Receiver::with_replies(vec![Reply::status(413)]);
    let mut cmd = report(&dir, &receiver.url());
    dir.create("build.log", &log);
    let run = cmd.ok();
    run.assert_stderr_contains("HTTP 413")
        .assert_stderr_contains("the log was cut to")
        .assert_stderr_contains("sent again")
        .assert_stderr_contains("HTTP 202 Accepted");
    let got = receiver.received();
    assert_eq!(got.len(), 2);
    let first = got[0].json()["log"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let second = got[1].json()["log"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    assert_eq!(first, log);
    assert!(
        second.len() <= log.len() / 2 + 200,
        "shrunk: {} of {}",
        second.len(),
        log.len()
    );
    assert!(
        second.ends_with("error: the real failure is at the end\n"),
        "the tail is kept"
    );
    assert!(second.contains("left out"), "with the omission marker");
    assert_ne!(
        got[0].header("idempotency-key"),
        got[1].header("idempotency-key"),
        "a different payload has its own key"
    );
    assert!(spooled(&dir).is_empty());
}

#[test]
fn gzip_sets_content_encoding() {
    for how in ["flag", "env"] {
        let dir = Dir::new();
        let receiver = Receiver::start();
        let mut cmd = report(&dir, &receiver.url());
        if how == "flag" {
            cmd.args(["--compress", "gzip"]);
        } else {
            cmd.env("EXLOGARE_COMPRESS", "gzip");
        }
        cmd.ok().assert_stderr_contains("gzip:");
        let got = receiver.single();
        assert_eq!(got.header("content-encoding"), Some("gzip"), "{how}");
        assert_ne!(got.raw_body, got.body, "the wire body is compressed");
        assert_eq!(got.json()["log"], LOG);
    }
}

#[test]
fn tls_with_a_test_ca_is_trusted_with_ca_file_and_refused_without() {
    let ca = TestCa::new();
    let receiver = Receiver::start();
    let front = TlsFront::start(receiver.addr(), &ca);

    // Untrusted: refused, nothing arrives, the payload is spooled.
    let dir = Dir::new();
    let run = report(&dir, &front.url())
        .args(["--deadline", "3", "--strict"])
        .expect_code(5);
    run.assert_stderr_contains("could not reach");
    assert!(
        receiver.received().is_empty(),
        "nothing crosses an untrusted TLS connection"
    );
    one_spooled(&dir, &front.url(), &run);

    // Trusted with --ca-file, with EXLOGARE_CA_FILE and with SSL_CERT_FILE.
    for how in ["--ca-file", "EXLOGARE_CA_FILE", "SSL_CERT_FILE"] {
        let dir = Dir::new();
        let ca_file = dir.create("ca.pem", &ca.ca_pem);
        let mut cmd = report(&dir, &front.url());
        if how == "--ca-file" {
            cmd.arg_pair("--ca-file", &ca_file);
        } else {
            cmd.env(how, &ca_file);
        }
        cmd.arg_strict()
            .ok()
            .assert_stderr_contains("HTTP 202 Accepted");
        assert!(spooled(&dir).is_empty(), "{how}");
    }
    let got = receiver.received();
    assert_eq!(got.len(), 3);
    assert_eq!(
        got[0].header("authorization"),
        Some(format!("Bearer {TOKEN}").as_str())
    );
}

#[test]
fn uploads_go_through_the_proxy_with_its_credentials_never_printed() {
    let proxy = Proxy::start();
    let receiver = Receiver::start();
    let password = "pr0xy-s3cret-pass";
    let dir = Dir::new();
    report(&dir, &receiver.url())
        .env("HTTP_PROXY", proxy.url_with_auth("ci", password))
        .arg_strict()
        .ok()
        .assert_stderr_contains("HTTP 202")
        .assert_never_printed(password);
    let seen = proxy.seen();
    assert_eq!(seen.len(), 1, "{seen:?}");
    assert_eq!(seen[0].method, "POST");
    assert_eq!(seen[0].target, format!("{}/api/ingest/log", receiver.url()));
    assert_eq!(
        seen[0].proxy_authorization.as_deref(),
        Some(format!("Basic {}", base64(&format!("ci:{password}"))).as_str())
    );
    assert_eq!(receiver.single().json()["log"], LOG);

    // HTTPS through the proxy (CONNECT), lowercase variable, the test CA trusted.
    let ca = TestCa::new();
    let front = TlsFront::start(receiver.addr(), &ca);
    let dir = Dir::new();
    let ca_file = dir.create("ca.pem", &ca.ca_pem);
    report(&dir, &front.url())
        .env("https_proxy", proxy.url_with_auth("ci", password))
        .arg_pair("--ca-file", &ca_file)
        .arg_strict()
        .ok()
        .assert_never_printed(password);
    let seen = proxy.seen();
    assert_eq!(seen.len(), 2, "{seen:?}");
    assert_eq!(seen[1].method, "CONNECT");
    assert_eq!(seen[1].target, front.url().trim_start_matches("https://"));
    assert!(seen[1].proxy_authorization.is_some());
    assert_eq!(receiver.received().len(), 2);

    // A dead proxy: the error does not show its password.
    let dir = Dir::new();
    let dead = dead_url();
    report(&dir, &receiver.url())
        .env(
            "HTTP_PROXY",
            format!(
                "http://ci:{password}@{}",
                dead.trim_start_matches("http://")
            ),
        )
        .args(["--deadline", "2"])
        .ok()
        .assert_stderr_contains("NOT sent")
        .assert_never_printed(password);
    for file in spooled(&dir) {
        let (meta, _) = read_spooled(&file);
        assert!(!meta.to_string().contains(password));
    }
}

#[test]
fn send_redelivers_a_spooled_payload_and_removes_it_only_once_accepted() {
    let dir = Dir::new();
    // Spooled after a 401 (a wrong token, say).
    let receiver = Receiver::with_replies(vec![Reply::status(401)]);
    let run = report(&dir, &receiver.url()).ok();
    let (meta, body) = one_spooled(&dir, &receiver.url(), &run);
    let file = spooled(&dir).remove(0);

    // Nothing listens at --url: kept, exit 5 with --strict.
    let run = send(&dir)
        .args(["--url", &dead_url(), "--deadline", "2", "--strict"])
        .expect_code(5);
    run.assert_stderr_contains(&format!("kept {}", file.display()))
        .assert_stderr_contains("NOT sent and still kept");
    assert!(file.exists(), "kept after a failed send");

    // The service errs: kept.
    let failing = Receiver::scripted(Vec::new(), Reply::status(500));
    let run = send(&dir)
        .args(["--url", &failing.url(), "--deadline", "2", "--strict"])
        .expect_code(6);
    run.assert_stderr_contains("answered HTTP 500");
    assert!(failing.received().len() > 1, "500 is retried by send too");
    assert!(file.exists());

    // To where it was meant to go, which now accepts it: sent with the same key, removed.
    let run = send(&dir).ok();
    run.assert_stderr_contains(&format!("sent {}", file.display()))
        .assert_stderr_contains("removed it")
        .assert_stderr_contains("1 payload sent and removed")
        .assert_never_printed(TOKEN);
    let got = receiver.received();
    assert_eq!(got.len(), 2);
    let resent = &got[1];
    assert_eq!(resent.body, body, "the spooled body, unchanged");
    assert_eq!(
        resent.header("idempotency-key"),
        meta["idempotency_key"].as_str()
    );
    assert_eq!(
        resent.header("authorization"),
        Some(format!("Bearer {TOKEN}").as_str())
    );
    assert!(!file.exists(), "removed once accepted");

    // An empty spool: nothing to do.
    send(&dir).ok().assert_stderr_contains("nothing to send");
}

#[test]
fn send_takes_files_and_refuses_what_is_not_a_spool_file() {
    let dir = Dir::new();
    let bogus = dir.create("not-a-payload.json.gz", "hello");
    let receiver = Receiver::start();
    let run = send(&dir)
        .arg_pair("--url", receiver.url())
        .arg_pair("", &bogus)
        .arg_strict()
        .expect_code(3);
    run.assert_stderr_contains("is not a readable exlogare spool file");
    assert!(receiver.received().is_empty());
    assert!(bogus.exists());
}

/// Small conveniences for these tests.
trait Args {
    fn arg_strict(&mut self) -> &mut Self;
    fn arg_pair(&mut self, flag: &str, value: impl AsRef<std::ffi::OsStr>) -> &mut Self;
}

impl Args for TestCommand {
    fn arg_strict(&mut self) -> &mut Self {
        self.args(["--strict"])
    }

    /// `flag value`, or just `value` when `flag` is empty.
    fn arg_pair(&mut self, flag: &str, value: impl AsRef<std::ffi::OsStr>) -> &mut Self {
        if !flag.is_empty() {
            self.args([flag]);
        }
        self.args([value.as_ref()])
    }
}

#[test]
fn the_spool_directory_is_configurable_and_send_reads_it() {
    let dir = Dir::new();
    let spool = dir.path().join("kept/payloads");
    let url = dead_url();
    let run = report(&dir, &url)
        .arg_pair("--spool-dir", &spool)
        .args(["--deadline", "1"])
        .ok();
    run.assert_stderr_contains("kept/payloads/exlogare-");
    assert!(spooled(&dir).is_empty(), "not in the default spool");
    let files: Vec<_> = std::fs::read_dir(&spool)
        .expect("the spool dir was made")
        .filter_map(Result::ok)
        .map(|e| e.path())
        .collect();
    assert_eq!(files.len(), 1);
    read_spooled(&files[0]);

    let receiver = Receiver::start();
    send(&dir)
        .env("EXLOGARE_SPOOL_DIR", &spool)
        .arg_pair("--url", receiver.url())
        .ok()
        .assert_stderr_contains("1 payload sent and removed");
    assert_eq!(receiver.single().json()["log"], LOG);
    assert!(!files[0].exists());
}
