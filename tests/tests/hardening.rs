//! Hardening: every resource an untrusted plugin, log or cache can take is bounded. Each test
//! is one attack, built by the test (a component made byte by byte, a hostile plugin from
//! `tests/plugins`, a poisoned cache, a log that never ends, a hostile server or policy path),
//! run through the built binary against real servers on 127.0.0.1. Each checks that nothing
//! secret left, what the summary says, and the exit status.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use exlogare_tests::bombs;
use exlogare_tests::proxy::Proxy;
use exlogare_tests::{Dir, Receiver, Reply, Run, TOKEN, gitlab_failed_job};

const ACME: &str = env!("PLUGIN_ACME");
const PANICS: &str = env!("PLUGIN_PANICS");
const BAD_INFO: &str = env!("PLUGIN_BAD_INFO");
const MANY_RULES: &str = env!("PLUGIN_MANY_RULES");
const BAD_RULE_NAME: &str = env!("PLUGIN_BAD_RULE_NAME");
const SWELLS_OUTPUT: &str = env!("PLUGIN_SWELLS_OUTPUT");
const ALIASED_RULES: &str = env!("PLUGIN_ALIASED_RULES");
const HOGS_HANDLES: &str = env!("PLUGIN_HOGS_HANDLES");
const ASKS_HUGE_RANDOM: &str = env!("PLUGIN_ASKS_HUGE_RANDOM");

/// A project with a small log holding a known secret.
fn project() -> Dir {
    let dir = Dir::new();
    dir.create(
        "build.log",
        "compiling...\nconnecting with Sup3r-S3cret-DB-pass!\nerror: it broke\n",
    );
    dir
}

/// `report` for a failed GitLab job, sending to `receiver`, strict (so each kind of failure
/// has its exit code).
fn report(dir: &Dir, receiver: &Receiver) -> exlogare_tests::TestCommand {
    let mut cmd = dir.command();
    cmd.args(["report", "--strict"])
        .envs(gitlab_failed_job())
        .env("EXLOGARE_TOKEN", TOKEN)
        .env("EXLOGARE_URL", receiver.url())
        .env("DB_PASSWORD", "Sup3r-S3cret-DB-pass!");
    cmd
}

/// Asserts a plugin was stopped: exit 7, nothing at the receiver, the stderr naming the plugin
/// and `why`, and no secret printed.
fn assert_stopped(run: &Run, receiver: &Receiver, plugin: &str, why: &str) {
    assert_eq!(run.output.status.code(), Some(7), "{}", run.report());
    assert!(
        receiver.received().is_empty(),
        "something was sent\n{}",
        run.report()
    );
    run.assert_stderr_contains(plugin)
        .assert_stderr_contains(why)
        .assert_stderr_contains("nothing was sent")
        .assert_never_printed(TOKEN)
        .assert_never_printed("Sup3r-S3cret-DB-pass!");
}

/// Runs `report` with the plugin `wasm` (built by the test) saved as `name`, and asserts it
/// was stopped for `why`.
fn assert_built_plugin_stopped(name: &str, wasm: Vec<u8>, why: &str) -> Run {
    let dir = project();
    let plugin = dir.create(name, wasm);
    let receiver = Receiver::start();
    let run = report(&dir, &receiver)
        .args(["--plugin"])
        .args([&plugin])
        .output();
    assert_stopped(&run, &receiver, name, why);
    run
}

/// Runs `report` with the hostile plugin at `path` (from tests/plugins), and asserts it was
/// stopped for `why`.
fn assert_hostile_stopped(path: &str, name: &str, why: &str) -> Run {
    let dir = project();
    let receiver = Receiver::start();
    let run = report(&dir, &receiver).args(["--plugin", path]).output();
    assert_stopped(&run, &receiver, name, why);
    run
}

// ---- compiling an untrusted plugin -------------------------------------------------------

#[test]
fn a_compile_bomb_is_given_up_at_the_deadline_and_nothing_is_sent() {
    // Within every cap checked before compiling (each function under 1 MiB, under 50 000
    // locals, 32 MiB of code in all), but far more work for Cranelift than a 4 s deadline
    // allows on any machine.
    let dir = project();
    let bomb = dir.create("bomb.wasm", bombs::compile_bomb(24, 20_000, 1_000_000));
    let receiver = Receiver::start();
    let run = report(&dir, &receiver)
        .args(["--deadline", "4s", "--plugin"])
        .args([&bomb])
        .output();
    assert_stopped(
        &run,
        &receiver,
        "bomb.wasm",
        "did not finish in the time left",
    );
}

#[test]
fn a_compile_bomb_without_strict_does_not_fail_the_job() {
    let dir = project();
    let bomb = dir.create("bomb.wasm", bombs::compile_bomb(24, 20_000, 1_000_000));
    let receiver = Receiver::start();
    let run = dir
        .command()
        .args(["report", "--deadline", "4s", "--plugin"])
        .args([&bomb])
        .envs(gitlab_failed_job())
        .env("EXLOGARE_TOKEN", TOKEN)
        .env("EXLOGARE_URL", receiver.url())
        .ok();
    run.assert_stderr_contains("bomb.wasm")
        .assert_stderr_contains("exit status 0 so the job is not failed");
    assert!(receiver.received().is_empty());
}

#[test]
fn a_plugin_over_the_function_cap_is_refused_before_compiling() {
    let run = assert_built_plugin_stopped(
        "wide.wasm",
        bombs::many_functions(60_000),
        "over the cap of 50000",
    );
    run.assert_stderr_contains("refused before it was compiled");
}

#[test]
fn a_plugin_with_a_huge_function_is_refused_before_compiling() {
    assert_built_plugin_stopped(
        "huge.wasm",
        bombs::compile_bomb(1, 10, 2 << 20),
        "per function",
    );
}

// ---- the compiled-plugin cache -----------------------------------------------------------

fn cache_entry(dir: &Dir) -> PathBuf {
    let entries: Vec<PathBuf> = std::fs::read_dir(dir.path().join(".cache"))
        .expect("the cache dir exists")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "cwasm"))
        .collect();
    assert_eq!(entries.len(), 1, "{entries:?}");
    entries.into_iter().next().expect("one entry")
}

fn redact_with(dir: &Dir, plugin: &str) -> Run {
    dir.command()
        .args(["redact", "--plugin", plugin, "-"])
        .env("EXLOGARE_TIMING", "1")
        .stdin("a line\n")
        .output()
}

#[test]
fn a_poisoned_cache_entry_is_never_loaded_and_is_rebuilt() {
    // Fill the cache with the panicking plugin's artifact, keep it, then with the good one.
    let panics_dir = project();
    redact_with(&panics_dir, PANICS);
    let evil = std::fs::read(cache_entry(&panics_dir)).expect("the panics artifact");

    let dir = project();
    let run = redact_with(&dir, ACME);
    assert_eq!(run.output.status.code(), Some(0), "{}", run.report());
    run.assert_stderr_contains("compiled now and cached");
    let entry = cache_entry(&dir);
    // The trust record: in the state dir, 0600 in a 0700 dir.
    let trust = dir.path().join(".local/state/exlogare/trust");
    let mode = |p: &Path| std::fs::metadata(p).expect("stat").permissions().mode() & 0o777;
    assert_eq!(mode(&trust), 0o700);
    let records: Vec<PathBuf> = std::fs::read_dir(&trust)
        .expect("trust dir")
        .map(|e| e.expect("entry").path())
        .collect();
    assert_eq!(records.len(), 1, "{records:?}");
    assert_eq!(mode(&records[0]), 0o600);

    // The attack: the project (which can write the cache, restored from a CI cache) puts a
    // valid artifact of other code under the good plugin's name. Loaded, it would panic.
    std::fs::write(&entry, &evil).expect("poison the cache");
    let run = redact_with(&dir, ACME);
    assert_eq!(run.output.status.code(), Some(0), "{}", run.report());
    run.assert_stderr_contains("did not match its trust record");
    assert!(!run.all_output().contains("panic"), "{}", run.report());
    assert_ne!(std::fs::read(&entry).expect("rebuilt"), evil);

    // Rebuilt and vouched for again: the next run is a hit.
    redact_with(&dir, ACME).assert_stderr_contains("cache hit");

    // Garbage in the cache is no better.
    std::fs::write(&entry, b"not an artifact").expect("garbage");
    let run = redact_with(&dir, ACME);
    assert_eq!(run.output.status.code(), Some(0), "{}", run.report());
    run.assert_stderr_contains("did not match its trust record");
}

#[test]
fn a_forged_trust_record_open_to_others_is_ignored() {
    let panics_dir = project();
    redact_with(&panics_dir, PANICS);
    let evil = std::fs::read(cache_entry(&panics_dir)).expect("the panics artifact");
    let dir = project();
    redact_with(&dir, ACME);
    let entry = cache_entry(&dir);
    let trust = dir.path().join(".local/state/exlogare/trust");
    let record = std::fs::read_dir(&trust)
        .expect("trust dir")
        .next()
        .expect("a record")
        .expect("entry")
        .path();
    // The record now vouches for the evil bytes, but is readable and writable by others.
    use sha2::Digest;
    std::fs::write(&entry, &evil).expect("poison");
    std::fs::write(&record, hex(&sha2::Sha256::digest(&evil))).expect("forge");
    std::fs::set_permissions(&record, std::fs::Permissions::from_mode(0o666)).expect("chmod");
    let run = redact_with(&dir, ACME);
    assert_eq!(run.output.status.code(), Some(0), "{}", run.report());
    run.assert_stderr_contains("did not match its trust record");
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[test]
fn a_policy_can_switch_the_plugin_cache_off() {
    let dir = project();
    let policy = dir.create("policy.toml", "plugin-cache = false\n");
    std::fs::set_permissions(&policy, std::fs::Permissions::from_mode(0o644)).expect("chmod");
    for _ in 0..2 {
        let run = dir
            .command()
            .args(["redact", "--plugin", ACME, "-"])
            .env("EXLOGARE_TIMING", "1")
            .env("EXLOGARE_POLICY_FILE", &policy)
            .stdin("a line\n")
            .output();
        assert_eq!(run.output.status.code(), Some(0), "{}", run.report());
        run.assert_stderr_contains("no cache directory");
    }
    assert!(!dir.path().join(".cache").exists());
}

// ---- what a running plugin may return ------------------------------------------------------

#[test]
fn a_plugin_whose_info_is_not_a_plain_name_is_refused() {
    let dir = project();
    let receiver = Receiver::start();
    let run = report(&dir, &receiver)
        .args(["--plugin", BAD_INFO])
        .output();
    assert_stopped(
        &run,
        &receiver,
        "bad_info.wasm",
        "invalid answer from `info`",
    );
    assert!(!run.stderr().contains('\u{1b}'), "{}", run.report());
    assert!(!run.stderr().contains("all clear"), "{}", run.report());
}

#[test]
fn a_plugin_reporting_more_than_256_rules_is_refused() {
    let run = assert_hostile_stopped(MANY_RULES, "many-rules", "over the limit of 256");
    assert!(run.stderr().len() < 4000, "{}", run.report());
}

#[test]
fn a_rule_name_with_escapes_is_refused_and_never_printed() {
    let run = assert_hostile_stopped(BAD_RULE_NAME, "bad-rule-name", "outside the allowed set");
    assert!(!run.stderr().contains('\u{1b}'), "{}", run.report());
    assert!(!run.stderr().contains("fake line"), "{}", run.report());
}

#[test]
fn a_plugin_swelling_the_log_call_after_call_is_stopped_by_the_run_cap() {
    let dir = Dir::new();
    let line = "an ordinary line of build output, nothing to redact here\n";
    dir.create("build.log", line.repeat((4 << 20) / line.len()));
    let receiver = Receiver::start();
    let run = report(&dir, &receiver)
        .args(["--plugin", SWELLS_OUTPUT])
        .output();
    assert_stopped(
        &run,
        &receiver,
        "swells-output",
        "all calls of the run together",
    );
}

#[test]
fn rule_names_aliasing_one_buffer_are_dropped_before_the_host_copies_them() {
    // 100 entries pointing at the same 1 MiB: 100 MiB for the host to copy from 1 MiB of
    // plugin memory (under wasmtime's own default of 128 MiB). The copy limit (32 MiB per
    // answer) stops the reading a third of the way.
    let run = assert_hostile_stopped(ALIASED_RULES, "aliased-rules", "over its output limit");
    run.assert_stderr_contains("answered `redactor.report` with more than 32 MiB")
        .assert_stderr_contains("dropped before it was copied");
    assert!(run.stderr().len() < 4000, "{}", run.report());
}

// ---- limits on what a guest may take from the host -----------------------------------------

#[test]
fn a_plugin_hoarding_host_handles_is_stopped_at_the_handle_cap() {
    assert_hostile_stopped(
        HOGS_HANDLES,
        "hogs-handles",
        "held more than 4096 host handles (streams, pollables) at once, over its handle limit",
    );
}

#[test]
fn a_plugin_asking_for_a_gigabyte_of_random_bytes_is_refused() {
    assert_hostile_stopped(
        ASKS_HUGE_RANDOM,
        "asks-huge-random",
        "more random bytes in one call than its limit of 65536",
    );
}

#[test]
fn a_plugin_asking_for_a_huge_table_is_refused_at_instantiation() {
    let plugin = std::fs::read(ACME).expect("the acme plugin is built");
    assert_built_plugin_stopped(
        "wide-table.wasm",
        bombs::with_huge_tables(&plugin, 10_000_000),
        "a table of more than 100000 elements, over its table limit",
    );
}

#[test]
fn a_plugin_making_a_hundred_instances_is_refused_at_instantiation() {
    let plugin = std::fs::read(ACME).expect("the acme plugin is built");
    assert_built_plugin_stopped(
        "many-instances.wasm",
        bombs::with_many_instances(&plugin, 100),
        "made more than 32 instances, over its instance limit",
    );
}

// ---- logs that never end -----------------------------------------------------------------

#[test]
fn an_endless_log_is_read_up_to_max_read_bytes_and_sent_with_a_marker() {
    let dir = Dir::new();
    let receiver = Receiver::start();
    let run = report(&dir, &receiver)
        .args(["--log", "/dev/zero", "--max-read-bytes", "1MiB"])
        .ok();
    run.assert_stderr_contains("LOG CUT SHORT")
        .assert_stderr_contains("max-read-bytes");
    let body = receiver.single().json();
    let log = body["log"].as_str().expect("a log");
    assert!(
        log.ends_with("the rest of the log was not read]\n"),
        "{}",
        &log[log.len().saturating_sub(300)..]
    );
    assert_eq!(body["metadata"]["log"]["bytes_read"], 1 << 20);
}

#[test]
fn max_read_bytes_comes_from_the_environment_and_the_project_config_too() {
    for (var, file) in [
        (Some("64KiB"), None),
        (None, Some("max-read-bytes = \"64KiB\"\n")),
    ] {
        let dir = Dir::new();
        if let Some(text) = file {
            dir.create("exlogare.toml", text);
        }
        let receiver = Receiver::start();
        let mut cmd = report(&dir, &receiver);
        cmd.args(["--log", "/dev/zero"]);
        if let Some(v) = var {
            cmd.env("EXLOGARE_MAX_READ_BYTES", v);
        }
        cmd.ok().assert_stderr_contains("LOG CUT SHORT");
        assert_eq!(
            receiver.single().json()["metadata"]["log"]["bytes_read"],
            64 << 10
        );
    }
}

#[test]
fn a_log_pipe_kept_open_is_cut_at_three_quarters_of_the_deadline_and_sent() {
    let dir = Dir::new();
    let fifo = dir.path().join("build.log");
    let c = std::ffi::CString::new(fifo.as_os_str().as_encoded_bytes()).expect("path");
    // SAFETY: mkfifo reads the NUL-terminated path only.
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
    // The writer: a few lines, then the pipe stays open and silent (a `tee` whose command
    // still runs), until the test ends.
    let writer_path = fifo.clone();
    let (done_tx, done_rx) = std::sync::mpsc::channel::<()>();
    let writer = std::thread::spawn(move || {
        use std::io::Write;
        let mut w = std::fs::OpenOptions::new()
            .write(true)
            .open(&writer_path)
            .expect("open the fifo");
        let _ = w.write_all(b"step 1\nerror: the first part of the log\n");
        let _ = w.flush();
        let _ = done_rx.recv();
    });
    let receiver = Receiver::start();
    let run = report(&dir, &receiver).args(["--deadline", "20s"]).ok();
    // Lets the writer close the pipe and end (never joined: had the run failed before
    // opening the pipe, the writer would still wait in `open`).
    let _ = done_tx.send(());
    drop(writer);
    run.assert_stderr_contains("LOG CUT SHORT")
        .assert_stderr_contains("3/4 of the 20s deadline");
    let log = receiver.single().json()["log"]
        .as_str()
        .expect("a log")
        .to_string();
    assert!(
        log.starts_with("step 1\nerror: the first part of the log\n"),
        "{log}"
    );
    assert!(log.contains("share of the deadline"), "{log}");
}

// ---- delivery and policy -----------------------------------------------------------------

#[test]
fn a_redirect_is_never_followed_and_the_token_never_goes_to_its_location() {
    for code in [301, 302, 307, 308] {
        let elsewhere = Receiver::start();
        let location = format!("{}/api/ingest/log", elsewhere.url());
        let receiver = Receiver::scripted(
            vec![Reply::with_header(code, "Location", &location)],
            Reply::with_header(code, "Location", &location),
        );
        let dir = project();
        let run = report(&dir, &receiver).output();
        assert_eq!(
            run.output.status.code(),
            Some(2),
            "{code}\n{}",
            run.report()
        );
        assert_eq!(receiver.received().len(), 1, "retried a {code}");
        assert!(elsewhere.received().is_empty(), "followed a {code}");
        run.assert_never_printed(TOKEN);
    }
}

/// A policy file in `dir` locking the endpoint to `receiver` (0644, root-owned: tests run as
/// root), plus `extra`.
fn endpoint_policy(dir: &Dir, receiver: &Receiver, extra: &str) -> PathBuf {
    let path = dir.create(
        "policy.toml",
        format!("allowed-endpoints = [\"{}\"]\n{extra}", receiver.url()),
    );
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).expect("chmod");
    path
}

#[test]
fn a_proxy_variable_cannot_route_around_an_endpoint_lock() {
    let proxy = Proxy::start();
    let receiver = Receiver::start();
    for var in ["HTTPS_PROXY", "http_proxy", "ALL_PROXY"] {
        let dir = project();
        let policy = endpoint_policy(&dir, &receiver, "");
        let run = report(&dir, &receiver)
            .env("EXLOGARE_POLICY_FILE", &policy)
            .env(var, proxy.url_with_auth("ci", "pr0xy-pass"))
            .output();
        assert_eq!(run.output.status.code(), Some(2), "{}", run.report());
        run.assert_stderr_contains(&format!("environment variable {var}"))
            .assert_stderr_contains("allowed-proxies")
            .assert_never_printed("pr0xy-pass")
            .assert_never_printed(TOKEN);
    }
    assert!(receiver.received().is_empty());
    assert!(proxy.seen().is_empty());
}

#[test]
fn a_proxy_listed_in_allowed_proxies_is_used_under_an_endpoint_lock() {
    let proxy = Proxy::start();
    let receiver = Receiver::start();
    let dir = project();
    let policy = endpoint_policy(
        &dir,
        &receiver,
        &format!("allowed-proxies = [\"{}\"]\n", proxy.url()),
    );
    report(&dir, &receiver)
        .env("EXLOGARE_POLICY_FILE", &policy)
        .env("HTTP_PROXY", proxy.url())
        .ok()
        .assert_stderr_contains("HTTP 202");
    assert_eq!(proxy.seen().len(), 1);
    receiver.single();
}

#[test]
fn a_policy_reached_through_a_symlink_is_refused() {
    let receiver = Receiver::start();
    let dir = project();
    let real = endpoint_policy(&dir, &receiver, "");
    let link = dir.path().join("link.toml");
    std::os::unix::fs::symlink(&real, &link).expect("symlink");
    let linked_dir = dir.path().join("linked");
    std::os::unix::fs::symlink(dir.path(), &linked_dir).expect("symlink dir");
    for path in [link, linked_dir.join("policy.toml")] {
        let run = report(&dir, &receiver)
            .env("EXLOGARE_POLICY_FILE", &path)
            .output();
        assert_eq!(run.output.status.code(), Some(2), "{}", run.report());
        run.assert_stderr_contains("symbolic link")
            .assert_stderr_contains("refusing to run");
    }
    assert!(receiver.received().is_empty());
}

#[test]
fn a_policy_owned_by_someone_else_than_root_is_refused() {
    let receiver = Receiver::start();
    let dir = project();
    let policy = endpoint_policy(&dir, &receiver, "");
    let c = std::ffi::CString::new(policy.as_os_str().as_encoded_bytes()).expect("path");
    // SAFETY: chown reads the NUL-terminated path only. The tests run as root.
    assert_eq!(unsafe { libc::chown(c.as_ptr(), 1000, 1000) }, 0);
    let run = report(&dir, &receiver)
        .env("EXLOGARE_POLICY_FILE", &policy)
        .output();
    assert_eq!(run.output.status.code(), Some(2), "{}", run.report());
    run.assert_stderr_contains("owned by uid 1000, not root");
    assert!(receiver.received().is_empty());
}

#[test]
fn a_policy_can_lower_the_caps_checked_before_compiling() {
    let dir = project();
    let policy = dir.create("policy.toml", "[plugins]\nmax-functions = 100\n");
    std::fs::set_permissions(&policy, std::fs::Permissions::from_mode(0o644)).expect("chmod");
    let wide = dir.create("wide.wasm", bombs::many_functions(200));
    let receiver = Receiver::start();
    let run = report(&dir, &receiver)
        .env("EXLOGARE_POLICY_FILE", &policy)
        .args(["--plugin"])
        .args([&wide])
        .output();
    assert_stopped(&run, &receiver, "wide.wasm", "over the cap of 100");
}

#[test]
fn a_policy_caps_max_read_bytes_and_refuses_more() {
    let dir = Dir::new();
    let policy = dir.create("policy.toml", "max-read-bytes-max = \"64KiB\"\n");
    std::fs::set_permissions(&policy, std::fs::Permissions::from_mode(0o644)).expect("chmod");
    let receiver = Receiver::start();
    report(&dir, &receiver)
        .env("EXLOGARE_POLICY_FILE", &policy)
        .args(["--log", "/dev/zero"])
        .ok()
        .assert_stderr_contains("LOG CUT SHORT");
    assert_eq!(
        receiver.single().json()["metadata"]["log"]["bytes_read"],
        64 << 10
    );
    let run = report(&dir, &receiver)
        .env("EXLOGARE_POLICY_FILE", &policy)
        .args(["--log", "/dev/zero", "--max-read-bytes", "1MiB"])
        .output();
    assert_eq!(run.output.status.code(), Some(2), "{}", run.report());
    run.assert_stderr_contains("policy lock `max-read-bytes-max`");
    assert_eq!(receiver.received().len(), 1);
}
