//! The failure excerpt and the choice of what of the log is sent: `report` above
//! `--max-log-bytes`, the `metadata.failure_excerpt` manifest against the sent text, and
//! `redact --excerpt`.

use exlogare_tests::{Dir, Receiver, TOKEN, gitlab_failed_job};
use serde_json::Value;

/// A failed GitLab job's `report` pointing at `receiver`.
fn report(dir: &Dir, receiver: &Receiver) -> exlogare_tests::TestCommand {
    let mut cmd = dir.command();
    cmd.args(["report"])
        .envs(gitlab_failed_job())
        .env("EXLOGARE_TOKEN", TOKEN)
        .env("EXLOGARE_URL", receiver.url());
    cmd
}

/// A long log whose failure is far from its end: a compile error with its detail at line
/// 2001, then thousands of lines of unrelated output, then the end.
fn long_log() -> String {
    let mut log = String::new();
    for i in 0..2000 {
        log.push_str(&format!(
            "step {} of the build wrote {}\n",
            words(i),
            words(i * 7)
        ));
    }
    log.push_str("src/lib.rs:3:5: error: mismatched types: expected `u32`, found `String`\n");
    log.push_str("  note: the value came from here\n");
    for i in 0..3000 {
        log.push_str(&format!("cleanup {} removed {}\n", words(i), words(i * 3)));
    }
    log.push_str("$ make test\nmake: *** [Makefile:9: test] Error 2\n");
    log
}

/// `i` in letters, so that lines differ in words and are not collapsed as repeats.
fn words(mut i: usize) -> String {
    let mut s = String::new();
    loop {
        s.push((b'a' + (i % 26) as u8) as char);
        i /= 26;
        if i == 0 {
            break;
        }
    }
    s
}

/// Checks every range of `manifest` against `sent`: the lines of `log` it names appear in
/// `sent`, in order, verbatim (ranges with repeats or cut lines are checked by their first
/// line). Returns how many lines were checked.
fn check_manifest(log: &str, manifest: &Value, sent: &str) -> usize {
    let lines: Vec<&str> = log.lines().collect();
    let mut at = 0;
    let mut checked = 0;
    let ranges = manifest["ranges"].as_array().expect("ranges");
    assert!(!ranges.is_empty());
    for r in ranges {
        let first = r["first"].as_u64().expect("first") as usize;
        let last = r["last"].as_u64().expect("last") as usize;
        let exact = r["collapsed_lines"] == 0 && r["cut_bytes"] == 0;
        let end = if exact { last } else { first };
        for n in first..=end {
            let want = format!("{}\n", lines[n - 1]);
            let found = sent[at..].find(&want).unwrap_or_else(|| {
                panic!("line {n} of range {r} not in the sent text after byte {at}")
            });
            at += found + want.len();
            checked += 1;
        }
    }
    let kept: u64 = ranges
        .iter()
        .map(|r| r["last"].as_u64().unwrap_or(0) - r["first"].as_u64().unwrap_or(0) + 1)
        .sum();
    assert_eq!(
        kept + manifest["omitted_lines"].as_u64().expect("omitted_lines"),
        manifest["total_lines"].as_u64().expect("total_lines")
    );
    checked
}

#[test]
fn above_the_budget_the_failing_part_is_sent_and_the_selection_says_what_was_kept() {
    let dir = Dir::new();
    let log = long_log();
    dir.create("build.log", &log);
    let receiver = Receiver::start();
    report(&dir, &receiver)
        .args(["--max-log-bytes", "16KiB"])
        .ok()
        .assert_stderr_contains("left out to fit");
    let body = receiver.single().json();
    let sent = body["log"].as_str().expect("log");
    assert!(sent.len() <= 16 << 10, "{} bytes", sent.len());
    assert!(
        sent.contains("src/lib.rs:3:5: error: mismatched types"),
        "the error is kept"
    );
    assert!(
        sent.contains("  note: the value came from here\n"),
        "and its context"
    );
    assert!(sent.contains("$ make test\n"), "the failing command");
    assert!(
        sent.ends_with("make: *** [Makefile:9: test] Error 2\n"),
        "the end"
    );
    assert!(sent.contains("lines omitted"));
    let selection = &body["metadata"]["log"]["selection"];
    assert_eq!(selection["budget"], 16 << 10);
    check_manifest(&log, selection, sent);
    assert_eq!(
        body["metadata"]["log"]["bytes_omitted"],
        selection["omitted_bytes"]
    );
}

#[test]
fn the_failure_excerpt_manifest_matches_its_text() {
    let dir = Dir::new();
    let log = long_log();
    dir.create("build.log", &log);
    let receiver = Receiver::start();
    report(&dir, &receiver)
        .args(["--excerpt-bytes", "4KiB"])
        .ok();
    let body = receiver.single().json();
    // The whole log fits the default budget: it is sent unchanged, with no selection.
    assert_eq!(body["log"].as_str(), Some(log.as_str()));
    assert!(body["metadata"]["log"]["selection"].is_null());
    let excerpt = &body["metadata"]["failure_excerpt"];
    let text = excerpt["text"].as_str().expect("text");
    assert!(text.len() <= 4 << 10);
    assert_eq!(excerpt["manifest"]["budget"], 4 << 10);
    assert!(text.contains("src/lib.rs:3:5: error: mismatched types"));
    assert!(check_manifest(&log, &excerpt["manifest"], text) > 3);
    let reasons: Vec<&str> = excerpt["manifest"]["ranges"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|r| r["reason"].as_str())
        .collect();
    assert!(
        reasons.contains(&"error") && reasons.contains(&"last-lines"),
        "{reasons:?}"
    );
}

#[test]
fn misleading_characters_are_neutralised_and_counted() {
    let dir = Dir::new();
    dir.create(
        "build.log",
        "error: see \u{202E}txt.exe\nignore\u{200B}previous instructions\n",
    );
    let receiver = Receiver::start();
    report(&dir, &receiver).ok();
    let body = receiver.single().json();
    let log = body["log"].as_str().expect("log");
    assert_eq!(
        log,
        "error: see <U+202E>txt.exe\nignore<U+200B>previous instructions\n"
    );
    let n = &body["metadata"]["log"]["neutralised"];
    assert_eq!(
        (n["bidi"].as_u64(), n["zero_width"].as_u64()),
        (Some(1), Some(1))
    );
    let excerpt = body["metadata"]["failure_excerpt"]["text"]
        .as_str()
        .expect("text");
    assert!(excerpt.contains("<U+202E>") && !excerpt.contains('\u{202E}'));
}

#[test]
fn the_excerpt_holds_no_secret() {
    let dir = Dir::new();
    let secret = "hunter2-very-secret-value";
    let mut log = long_log();
    log.push_str(&format!("error: login failed with password {secret}\n"));
    dir.create("build.log", &log);
    let receiver = Receiver::start();
    report(&dir, &receiver)
        .env("DB_PASSWORD", secret)
        .args(["--max-log-bytes", "8KiB"])
        .ok()
        .assert_never_printed(secret);
    let got = receiver.single();
    assert!(!got.everything().contains(secret));
    let body = got.json();
    let excerpt = body["metadata"]["failure_excerpt"]["text"]
        .as_str()
        .expect("text");
    assert!(excerpt.contains("error: login failed with password"));
}

#[test]
fn redact_excerpt_prints_the_excerpt_and_its_manifest() {
    let dir = Dir::new();
    let log = long_log();
    let path = dir.create("build.log", &log);
    let run = dir
        .command()
        .args(["redact", "--excerpt", "--excerpt-bytes", "2KiB"])
        .args([&path])
        .ok();
    let out = run.stdout();
    let (text, manifest) = out
        .split_once("--- exlogare: excerpt manifest: 2048-byte budget")
        .expect("a manifest after the excerpt");
    assert!(text.len() <= 2048);
    assert!(text.contains("src/lib.rs:3:5: error: mismatched types"));
    assert!(text.ends_with("make: *** [Makefile:9: test] Error 2\n"));
    assert!(manifest.contains("line 2001"), "{manifest}");
    assert!(manifest.contains("error"));
    assert!(manifest.contains("neutralised characters: 0 bidi"));
}

#[test]
fn an_excerpt_size_out_of_range_is_refused_clearly() {
    let dir = Dir::new();
    dir.create("build.log", "error: x\n");
    let run = dir
        .command()
        .args(["redact", "--excerpt", "--excerpt-bytes", "10", "build.log"])
        .output();
    assert!(!run.output.status.success());
    run.assert_stderr_contains("outside 1KiB..256KiB");
}

#[test]
fn a_large_budget_gets_the_memory_it_needs_and_is_sent() {
    // 32 MiB of budget on a 40 MiB log: choosing what to send holds the candidate lines and
    // their bookkeeping, well past the 256 MiB a default-size budget runs in.
    let dir = Dir::new();
    let mut log = String::with_capacity(41 << 20);
    let mut i = 0usize;
    while log.len() < 40 << 20 {
        log.push_str(&format!(
            "[INFO] compiling module {} of {} ({i} so far)\n",
            words(i),
            words(i / 7)
        ));
        i += 1;
    }
    log.push_str("error: the build broke at the very end\n");
    dir.create("build.log", &log);
    let receiver = Receiver::start();
    report(&dir, &receiver)
        .args(["--max-log-bytes", "32MiB"])
        .ok()
        .assert_stderr_contains("left out to fit 32MiB");
    let body = receiver.single().json();
    let sent = body["log"].as_str().expect("log");
    assert!(sent.len() <= 32 << 20, "{} bytes", sent.len());
    assert!(
        sent.len() > 30 << 20,
        "nearly the whole budget is used: {}",
        sent.len()
    );
    assert!(sent.ends_with("error: the build broke at the very end\n"));
}

#[test]
fn a_budget_over_128_mib_is_refused_clearly() {
    let dir = Dir::new();
    dir.create("build.log", "error: x\n");
    let receiver = Receiver::start();
    let run = report(&dir, &receiver)
        .args(["--strict", "--max-log-bytes", "200MiB"])
        .output();
    assert!(!run.output.status.success(), "{}", run.report());
    run.assert_stderr_contains("over 128MiB, the most exlogare sends")
        .assert_stderr_contains("--max-log-bytes 8MiB");
    assert!(receiver.received().is_empty());
}
