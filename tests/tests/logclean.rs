//! The log clean-up (in the guest, before redaction) through the built binary: ANSI colour
//! codes removed, GitLab section markers turned into readable headers, carriage-return
//! progress bars collapsed to their last state, and `--keep-ansi` to opt out; checked both in
//! what `redact` prints and in what `report` sends.

use exlogare_tests::{Dir, Receiver, TOKEN, gitlab_failed_job};

/// A GitLab job log as gitlab-runner and common tools write it.
const RAW: &str = "\u{1b}[0Ksection_start:1700000000:install_deps[collapsed=true]\r\u{1b}[0K\u{1b}[36;1mInstalling dependencies\u{1b}[0;m\n\
npm install\n\
downloading  10%\rdownloading  55%\rdownloading 100%\n\
\u{1b}[0Ksection_end:1700000000:install_deps\r\u{1b}[0K\n\
\u{1b}[31;1merror\u{1b}[0m: \u{1b}[1mtest failed\u{1b}[0m\n";

/// What the clean-up makes of it.
const CLEAN: &str = "--- section install_deps ---\n\
Installing dependencies\n\
npm install\n\
downloading 100%\n\
--- end install_deps ---\n\
error: test failed\n";

#[test]
fn redact_prints_the_cleaned_log() {
    let dir = Dir::new();
    dir.create("build.log", RAW);
    let run = dir.command().args(["redact", "build.log"]).ok();
    assert_eq!(run.stdout(), CLEAN, "{}", run.report());
}

#[test]
fn report_sends_the_cleaned_log() {
    let dir = Dir::new();
    dir.create("build.log", RAW);
    let receiver = Receiver::start();
    dir.command()
        .args(["report"])
        .envs(gitlab_failed_job())
        .env("EXLOGARE_TOKEN", TOKEN)
        .env("EXLOGARE_URL", receiver.url())
        .ok();
    assert_eq!(receiver.single().json()["log"], CLEAN);
}

#[test]
fn keep_ansi_keeps_the_escape_codes_and_the_progress_states() {
    let dir = Dir::new();
    dir.create("build.log", RAW);
    let receiver = Receiver::start();
    dir.command()
        .args(["report", "--keep-ansi"])
        .envs(gitlab_failed_job())
        .env("EXLOGARE_TOKEN", TOKEN)
        .env("EXLOGARE_URL", receiver.url())
        .ok();
    let log = receiver.single().json()["log"]
        .as_str()
        .expect("log")
        .to_string();
    assert!(log.contains("\u{1b}[31;1merror\u{1b}[0m"), "{log:?}");
    assert!(
        log.contains("downloading  10%\rdownloading  55%\rdownloading 100%"),
        "{log:?}"
    );
    let run = dir
        .command()
        .env("EXLOGARE_KEEP_ANSI", "true")
        .args(["redact", "build.log"])
        .ok();
    assert!(
        run.stdout().contains("\u{1b}[1mtest failed"),
        "{}",
        run.report()
    );
}

#[test]
fn secrets_split_by_escape_codes_are_still_redacted() {
    // Clean-up runs before redaction, so colour codes cannot hide a secret.
    let dir = Dir::new();
    dir.create(
        "build.log",
        "password: \u{1b}[1mhunter2-Sup3r-Secret\u{1b}[0m\n",
    );
    let run = dir
        .command()
        .env("DB_PASSWORD", "hunter2-Sup3r-Secret")
        .args(["redact", "build.log"])
        .ok();
    run.assert_never_printed("hunter2-Sup3r-Secret");
    assert!(
        run.stdout().contains("[REDACTED:DB_PASSWORD]"),
        "{}",
        run.report()
    );
}
