//! `exlogare redact`: the preview of what leaves, with the same secrets and rules as `report`.

use exlogare_tests::{Dir, TOKEN};

#[test]
fn prints_the_log_as_it_would_be_sent() {
    let dir = Dir::new();
    dir.create(
        "build.log",
        "\u{1b}[32mok\u{1b}[0m\nexport API_KEY=abcd1234efgh5678\npassword is Sup3r-S3cret-DB-pass!\n",
    );
    let run = dir
        .command()
        .args(["redact", "build.log", "--report"])
        .env("DB_PASSWORD", "Sup3r-S3cret-DB-pass!")
        .env("EXLOGARE_TOKEN", TOKEN)
        .ok();
    let out = run.stdout();
    assert!(out.starts_with("ok\n"), "ANSI codes are removed: {out}");
    assert!(out.contains("[REDACTED:DB_PASSWORD]"), "{out}");
    assert!(!out.contains("Sup3r-S3cret-DB-pass!"));
    assert!(!out.contains("abcd1234efgh5678"), "{out}");
    run.assert_stderr_contains("known:DB_PASSWORD");
}

#[test]
fn reads_standard_input() {
    let dir = Dir::new();
    let run = dir
        .command()
        .args(["redact", "-"])
        .env("MY_SECRET", "a-very-secret-value")
        .stdin("x a-very-secret-value y\n")
        .ok();
    assert_eq!(run.stdout(), "x [REDACTED:MY_SECRET] y\n");
    assert!(run.stderr().is_empty(), "quiet without --report: {}", run.report());
}

#[test]
fn keep_ansi_keeps_escape_codes() {
    let dir = Dir::new();
    let run = dir
        .command()
        .args(["redact", "--keep-ansi", "-"])
        .stdin("\u{1b}[31mred\u{1b}[0m\n")
        .ok();
    assert_eq!(run.stdout(), "\u{1b}[31mred\u{1b}[0m\n");
}

#[test]
fn a_missing_file_is_an_error() {
    let dir = Dir::new();
    dir.command()
        .args(["redact", "nope.log"])
        .expect_code(3)
        .assert_stderr_contains("cannot read nope.log");
}
