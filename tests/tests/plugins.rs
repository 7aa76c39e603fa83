//! Redaction plugins end to end: the example plugin (`examples/plugin-acme`) and hostile ones
//! (`tests/plugins/`), built from source by `tests/build.rs`, run by the built binary against a
//! real HTTP receiver on 127.0.0.1. Each hostile plugin must be stopped within its limits,
//! named in the summary with the reason, and nothing may reach the receiver: exit 0 by
//! default, 7 with --strict.

use exlogare_tests::{Dir, Receiver, Run, TOKEN, base64, gitlab_failed_job};

/// A secret-named variable planted in the environment and in the log.
const SECRET_NAME: &str = "DEPLOY_PASSWORD";
const SECRET: &str = "hunter2-correct-horse-battery-staple";

const ACME: &str = env!("PLUGIN_ACME");
const ENDLESS_LOOP: &str = env!("PLUGIN_ENDLESS_LOOP");
const MEMORY_BOMB: &str = env!("PLUGIN_MEMORY_BOMB");
const HUGE_OUTPUT: &str = env!("PLUGIN_HUGE_OUTPUT");
const PANICS: &str = env!("PLUGIN_PANICS");
const READS_FILES: &str = env!("PLUGIN_READS_FILES");
const OPENS_SOCKETS: &str = env!("PLUGIN_OPENS_SOCKETS");
const LEAKS_SECRET: &str = env!("PLUGIN_LEAKS_SECRET");
const FUTURE_WIT: &str = env!("PLUGIN_FUTURE_WIT");

/// A valid ACME token (`acme_` + 28 chars + the first 4 hex digits of their CRC-32).
fn acme_token(first28: &str) -> String {
    assert_eq!(first28.len(), 28);
    let sum = format!("{:08x}", crc32fast::hash(first28.as_bytes()));
    format!("acme_{first28}{}", &sum[..4])
}

/// A failed GitLab job with a secret variable, pointing at `receiver`.
fn report(dir: &Dir, receiver: &Receiver) -> exlogare_tests::TestCommand {
    let mut cmd = dir.command();
    cmd.args(["report"])
        .envs(gitlab_failed_job())
        .env("EXLOGARE_TOKEN", TOKEN)
        .env(SECRET_NAME, SECRET)
        .env("EXLOGARE_URL", receiver.url());
    cmd
}

/// A log holding the secret, the token and an ACME token.
fn log_with_secrets(dir: &Dir) -> String {
    let acme = acme_token("k3y0f4cm3c0rp0r4t10n00000000");
    dir.create(
        "build.log",
        format!("step 1 ok\npassword is {SECRET}\ntoken {TOKEN}\nacme {acme}\nerror: failed\n"),
    );
    acme
}

/// Asserts that no secret, in clear or base64, was printed or received.
fn assert_nothing_leaked(run: &Run, receiver: &Receiver) {
    for secret in [SECRET, TOKEN] {
        run.assert_never_printed(secret);
        run.assert_never_printed(&base64(secret));
    }
    assert!(
        receiver.received().is_empty(),
        "a failing plugin must stop the upload\n{}",
        run.report()
    );
}

/// Runs `report` with a hostile plugin, default and --strict, and checks both runs: exit 0
/// then 7, the plugin and `reason` named, nothing sent, nothing leaked.
fn assert_hostile_stopped(plugin: &str, extra: &[&str], reason: &str) -> Run {
    let mut last = None;
    for (strict, code) in [(false, 0), (true, 7)] {
        let dir = Dir::new();
        log_with_secrets(&dir);
        // Compile (and cache) first, so a short deadline is spent on running, not compiling.
        dir.command().args(["plugin", "inspect", plugin]).output();
        let receiver = Receiver::start();
        let mut cmd = report(&dir, &receiver);
        cmd.args(["--plugin", plugin]).args(extra);
        if strict {
            cmd.args(["--strict"]);
        }
        let run = cmd.expect_code(code);
        let file = std::path::Path::new(plugin)
            .file_name()
            .unwrap()
            .to_string_lossy()
            .into_owned();
        run.assert_stderr_contains(&format!("plugin {file}"))
            .assert_stderr_contains(reason)
            .assert_stderr_contains("nothing was sent");
        assert_nothing_leaked(&run, &receiver);
        last = Some(run);
    }
    last.expect("two runs")
}

#[test]
fn acme_plugin_redacts_acme_tokens_in_report() {
    let dir = Dir::new();
    let acme = log_with_secrets(&dir);
    let receiver = Receiver::start();
    let run = report(&dir, &receiver).args(["--plugin", ACME]).ok();
    run.assert_stderr_contains("sent")
        .assert_stderr_contains("acme-token×1");
    let body = receiver.single().json();
    let log = body["log"].as_str().expect("log is a string");
    assert!(log.contains("acme acme_[REDACTED:acme-token]\n"), "{log}");
    assert!(
        !log.contains(&acme) && !log.contains(SECRET) && !log.contains(TOKEN),
        "{log}"
    );
    assert!(
        log.contains("error: failed\n"),
        "the rest of the log is kept: {log}"
    );
    let redactors = &body["metadata"]["redactors"];
    assert_eq!(redactors[1], "plugin-acme@0.1.0", "{redactors}");
    assert!(
        redactors[0]
            .as_str()
            .is_some_and(|r| r.starts_with("exlogare-default@")),
        "{redactors}"
    );
    assert_nothing_printed(&run, &acme);
}

fn assert_nothing_printed(run: &Run, acme: &str) {
    run.assert_never_printed(acme)
        .assert_never_printed(SECRET)
        .assert_never_printed(TOKEN);
}

#[test]
fn acme_plugin_redacts_in_redact_and_keeps_bad_checksums() {
    let dir = Dir::new();
    let good = acme_token("0123456789abcdefghijklmnopqr");
    // The same shape with a wrong checksum is not an ACME token.
    let last = good.chars().last().unwrap();
    let bad = format!(
        "{}{}",
        &good[..good.len() - 1],
        if last == '0' { '1' } else { '0' }
    );
    dir.create("in.log", format!("a {good} b\nc {bad} d\ne {good}x f\n"));
    let run = dir
        .command()
        .args(["redact", "--report", "--plugin", ACME, "in.log"])
        .ok();
    assert_eq!(
        run.stdout(),
        format!("a acme_[REDACTED:acme-token] b\nc {bad} d\ne {good}x f\n"),
        "{}",
        run.report()
    );
    run.assert_stderr_contains("acme-token: 1");
}

#[test]
fn plugins_come_from_the_environment_and_the_project_config_in_order() {
    let dir = Dir::new();
    let good = acme_token("zzzzzzzzzzzzzzzzzzzzzzzzzzzz");
    dir.create("in.log", format!("x {good}\n"));
    // EXLOGARE_PLUGINS, two entries (the same plugin twice: the second finds nothing left).
    let run = dir
        .command()
        .args(["redact", "--report", "in.log"])
        .env("EXLOGARE_PLUGINS", format!("{ACME}:{ACME}"))
        .ok();
    assert_eq!(
        run.stdout(),
        "x acme_[REDACTED:acme-token]\n",
        "{}",
        run.report()
    );
    // exlogare.toml
    dir.create("exlogare.toml", format!("plugins = [{ACME:?}]\n"));
    let run = dir.command().args(["redact", "in.log"]).ok();
    assert_eq!(
        run.stdout(),
        "x acme_[REDACTED:acme-token]\n",
        "{}",
        run.report()
    );
    // In report, the payload lists them in the order they ran.
    dir.create("build.log", format!("x {good}\n"));
    let receiver = Receiver::start();
    let run = report(&dir, &receiver)
        .env("EXLOGARE_PLUGINS", format!("{ACME},{ACME}"))
        .ok();
    run.assert_stderr_contains("sent ");
    let body = receiver.single().json();
    assert_eq!(body["log"], "x acme_[REDACTED:acme-token]\n");
    let redactors = body["metadata"]["redactors"]
        .as_array()
        .expect("redactors")
        .clone();
    assert_eq!(redactors.len(), 3, "{redactors:?}");
    assert_eq!(redactors[1], "plugin-acme@0.1.0");
    assert_eq!(redactors[2], "plugin-acme@0.1.0");
}

#[test]
fn an_endless_loop_is_stopped_by_the_deadline() {
    // The per-call limit is 10 s; the job deadline cuts it shorter.
    assert_hostile_stopped(
        ENDLESS_LOOP,
        &["--deadline", "3s"],
        "ran past its time limit",
    );
}

#[test]
fn an_endless_loop_is_stopped_by_the_per_call_limit() {
    // `redact` has no job deadline: the per-call epoch deadline (10 s) stops the plugin.
    let dir = Dir::new();
    log_with_secrets(&dir);
    let started = std::time::Instant::now();
    let run = dir
        .command()
        .env(SECRET_NAME, SECRET)
        .args(["redact", "--plugin", ENDLESS_LOOP, "build.log"])
        .expect_code(7);
    run.assert_stderr_contains(
        "endless_loop.wasm (endless-loop@0.1.0) ran past its time limit (10s) in `redactor.push`",
    )
    .assert_never_printed(SECRET);
    assert!(
        started.elapsed() < std::time::Duration::from_secs(60),
        "{}",
        run.report()
    );
    assert_eq!(
        run.stdout(),
        "",
        "nothing of the log is printed when a plugin fails"
    );
}

#[test]
fn a_memory_bomb_is_stopped_at_the_memory_cap() {
    assert_hostile_stopped(MEMORY_BOMB, &[], "more than its memory limit (256 MiB)");
}

#[test]
fn a_huge_output_is_stopped_at_the_output_cap() {
    assert_hostile_stopped(HUGE_OUTPUT, &[], "over its output limit");
}

#[test]
fn a_panic_is_reported_with_its_stderr_scrubbed_of_secrets() {
    let run = assert_hostile_stopped(PANICS, &[], "crashed in `redactor.push`");
    run.assert_stderr_contains("this plugin always panics")
        .assert_stderr_contains("[REDACTED:");
}

#[test]
fn a_plugin_importing_the_filesystem_is_refused_before_it_runs() {
    assert_hostile_stopped(READS_FILES, &[], "imports `wasi:filesystem/");
}

#[test]
fn a_plugin_importing_sockets_is_refused_naming_the_import() {
    assert_hostile_stopped(OPENS_SOCKETS, &[], "`wasi:sockets/");
}

#[test]
fn a_plugin_copying_a_known_secret_is_blocked_and_named() {
    let run = assert_hostile_stopped(LEAKS_SECRET, &[], "held the value of");
    run.assert_stderr_contains("leaks-secret@0.1.0");
}

#[test]
fn a_plugin_for_an_unsupported_wit_version_is_refused() {
    let run = assert_hostile_stopped(FUTURE_WIT, &[], "exlogare:ingest/redaction@9.0.0");
    run.assert_stderr_contains("0.1.x");
}

#[test]
fn redact_fails_closed_on_a_hostile_plugin() {
    let dir = Dir::new();
    log_with_secrets(&dir);
    let run = dir
        .command()
        .env(SECRET_NAME, SECRET)
        .args(["redact", "--plugin", LEAKS_SECRET, "build.log"])
        .expect_code(7);
    run.assert_stderr_contains("leaks_secret.wasm")
        .assert_never_printed(SECRET);
}

#[test]
fn a_missing_plugin_file_is_a_clear_config_error() {
    let dir = Dir::new();
    log_with_secrets(&dir);
    let receiver = Receiver::start();
    let run = report(&dir, &receiver).args(["--plugin", "nope.wasm"]).ok();
    run.assert_stderr_contains("cannot use the plugin nope.wasm");
    assert!(receiver.received().is_empty());
}

#[test]
fn inspect_shows_world_imports_metadata_and_verdict() {
    let dir = Dir::new();
    let run = dir.command().args(["plugin", "inspect", ACME]).ok();
    let out = run.stdout();
    let bytes = std::fs::read(ACME).expect("the acme plugin");
    for want in [
        format!("size:      {} bytes", bytes.len()),
        "world:     exlogare:ingest/redactor-plugin@0.1.0".to_string(),
        "exlogare:ingest/redaction@0.1.0".to_string(),
        "name:      plugin-acme".to_string(),
        "version:   0.1.0".to_string(),
        "import check: passed".to_string(),
        "verdict:   ok".to_string(),
    ] {
        assert!(out.contains(&want), "missing {want:?}\n{}", run.report());
    }
    let sha = out
        .lines()
        .find_map(|l| l.strip_prefix("sha256:    "))
        .expect("a sha256 line");
    assert_eq!(sha.len(), 64, "{}", run.report());
    assert!(
        out.contains("wasi:cli/") && out.contains("allowed"),
        "{}",
        run.report()
    );
    assert!(!out.contains("REFUSED"), "{}", run.report());

    let run = dir
        .command()
        .args(["plugin", "inspect", READS_FILES])
        .expect_code(7);
    let out = run.stdout();
    assert!(
        out.contains("REFUSED") && out.contains("wasi:filesystem/"),
        "{}",
        run.report()
    );
    assert!(out.contains("import check: FAILED"), "{}", run.report());
}

#[test]
fn inspect_sha256_matches_sha256sum() {
    let Ok(out) = std::process::Command::new("sha256sum").arg(ACME).output() else {
        return; // no sha256sum here: the length check above stands
    };
    let want = String::from_utf8_lossy(&out.stdout)
        .split_whitespace()
        .next()
        .unwrap_or("")
        .to_string();
    let run = Dir::new().command().args(["plugin", "inspect", ACME]).ok();
    assert!(
        run.stdout().contains(&format!("sha256:    {want}")),
        "{}",
        run.report()
    );
}

#[test]
fn the_second_run_loads_the_compiled_plugin_from_the_cache() {
    let dir = Dir::new();
    let first = dir.command().args(["plugin", "inspect", ACME]).ok();
    assert!(
        first
            .stdout()
            .contains("compiled:  compiled now and cached"),
        "{}",
        first.report()
    );
    let second = dir.command().args(["plugin", "inspect", ACME]).ok();
    assert!(
        second.stdout().contains("compiled:  cache hit"),
        "{}",
        second.report()
    );
    // The same cache serves `report`, which says so under EXLOGARE_TIMING.
    log_with_secrets(&dir);
    let receiver = Receiver::start();
    let run = report(&dir, &receiver)
        .args(["--plugin", ACME])
        .env("EXLOGARE_TIMING", "1")
        .ok();
    run.assert_stderr_contains("timing: plugin plugin_acme.wasm: cache hit");
    // The cache holds private files only.
    let entries: Vec<_> = std::fs::read_dir(dir.path().join(".cache"))
        .expect("the cache dir")
        .filter_map(Result::ok)
        .collect();
    assert!(
        entries
            .iter()
            .any(|e| e.file_name().to_string_lossy().ends_with(".cwasm"))
    );
}
