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
    assert!(
        run.stderr().is_empty(),
        "quiet without --report: {}",
        run.report()
    );
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

#[test]
fn user_rules_in_gitleaks_format_are_applied_and_counted() {
    let dir = Dir::new();
    dir.create(
        "rules.toml",
        r#"
[[rules]]
id = "acme-internal-key"
description = "ACME internal API keys"
regex = '''acmekey_([a-z0-9]{24})'''
secretGroup = 1
keywords = ["acmekey_"]

[[rules.allowlists]]
stopwords = ["exampleexampleexample"]
"#,
    );
    let input = "k1 acmekey_abcdefghijklmnopqrstuvwx\nk2 acmekey_exampleexampleexample000\n";
    for via_env in [false, true] {
        let mut cmd = dir.command();
        cmd.args(["redact", "--report", "-"]).stdin(input);
        if via_env {
            cmd.env("EXLOGARE_RULES", "rules.toml");
        } else {
            cmd.args(["--rules", "rules.toml"]);
        }
        let run = cmd.ok();
        let out = run.stdout();
        assert!(!out.contains("abcdefghijklmnopqrstuvwx"), "{out}");
        assert!(out.contains("[REDACTED:acme-internal-key]"), "{out}");
        assert!(
            out.contains("acmekey_exampleexampleexample000"),
            "allowlisted: {out}"
        );
        run.assert_stderr_contains("acme-internal-key: 1");
    }
}

#[test]
fn a_bad_rule_file_names_the_rule() {
    let dir = Dir::new();
    dir.create(
        "rules.toml",
        "[[rules]]\nid = \"lookaround\"\nregex = '''(?<=x)secret'''\n",
    );
    let run = dir
        .command()
        .args(["redact", "--rules", "rules.toml", "-"])
        .stdin("x\n")
        .expect_code(2);
    run.assert_stderr_contains("lookaround");
}

#[test]
fn hashes_and_ids_are_kept() {
    let dir = Dir::new();
    let keep = "commit 3f786850e387550fdab836ed7e6dc881de23001b\n\
                image sha256:4bf0e5b3a0c3a8e6b2d1f0e9c8b7a6d5e4f3c2b1a09f8e7d6c5b4a3928170615\n\
                request 7d444840-9dc0-11d1-b245-5ffdce74fad2\n\
                integrity sha512-XI5MPzVNApjAyhQzphX8BkmKsKUxD4LdyK24iZeQbVeFz0bYlJ6R3dDm1OqBz5wRtXJY5Pvz3yvOeRcGTe6lNw==\n\
                md5 d41d8cd98f00b204e9800998ecf8427e version 1.2.3-rc.4+build.5\n";
    let run = dir.command().args(["redact", "-"]).stdin(keep).ok();
    assert_eq!(run.stdout(), keep);
}
