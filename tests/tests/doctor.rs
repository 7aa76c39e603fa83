//! `exlogare doctor` through the built binary, against a real receiver: what it shows (the
//! provider, CI variables, settings with their sources), what it hides (every secret-looking
//! value), and that its connectivity check sends no log and no token.

use exlogare_tests::{Dir, Receiver, TOKEN, gitlab_failed_job};

fn doctor(dir: &Dir, url: &str) -> exlogare_tests::TestCommand {
    let mut cmd = dir.command();
    cmd.args(["doctor"])
        .envs(gitlab_failed_job())
        .env("EXLOGARE_TOKEN", TOKEN)
        .env("EXLOGARE_URL", url);
    cmd
}

#[test]
fn the_connectivity_check_sends_no_log_and_no_token() {
    let dir = Dir::new();
    dir.create("build.log", "a log that must not be sent\n");
    let receiver = Receiver::start();
    let run = doctor(&dir, &receiver.url()).ok();
    let out = run.stdout();
    for line in [
        "dns: ok",
        "tcp: ok",
        "http: ok: HTTP 202",
        "doctor: all checks passed",
    ] {
        assert!(out.contains(line), "missing {line:?}\n{}", run.report());
    }
    let got = receiver.single();
    assert_eq!(got.method, "HEAD");
    assert_eq!(got.path, "/api/ingest/log");
    assert!(got.body.is_empty(), "doctor sent a body");
    assert!(
        got.header("authorization").is_none(),
        "doctor sent the token"
    );
    assert!(!got.everything().contains(TOKEN));
    assert!(!got.everything().contains("must not be sent"));
}

#[test]
fn it_shows_the_provider_variables_and_settings_with_sources() {
    let dir = Dir::new();
    let receiver = Receiver::start();
    let run = doctor(&dir, &receiver.url())
        .env("EXLOGARE_WHEN", "failed,canceled")
        .args(["--offline", "--min-secret-length", "12"])
        .ok();
    let out = run.stdout();
    for line in [
        "provider: gitlab_ci",
        "job status: failed — report would send: yes",
        "CI_PROJECT_PATH=acme/payments/api",
        "CI_JOB_NAME=unit tests",
        "when = failed,canceled — environment variable EXLOGARE_WHEN",
        "min-secret-length = 12 — flag --min-secret-length",
        "log = build.log — default",
        &format!(
            "url = {} — environment variable EXLOGARE_URL",
            receiver.url()
        ),
        "connectivity: skipped (--offline)",
    ] {
        assert!(out.contains(line), "missing {line:?}\n{}", run.report());
    }
    assert!(receiver.received().is_empty(), "--offline sends nothing");
}

#[test]
fn secret_looking_values_are_never_printed() {
    let dir = Dir::new();
    let receiver = Receiver::start();
    let secrets = [
        ("DB_PASSWORD", "Sup3r-S3cret-DB-pass!"),
        (
            "AWS_SECRET_ACCESS_KEY",
            "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
        ),
        ("NPM_TOKEN", "npm_abcdefghijklmnopqrstuvwxyz0123456789"),
    ];
    let run = doctor(&dir, &receiver.url()).envs(secrets).ok();
    let out = run.all_output();
    for (name, value) in secrets {
        assert!(
            out.contains(&format!("{name}=[hidden, {} bytes]", value.len())),
            "{name} not listed\n{}",
            run.report()
        );
        run.assert_never_printed(value);
    }
    run.assert_never_printed(TOKEN);
    run.assert_never_printed("glcbt-64_jobtokenvalue0123456789abcdef");
    assert!(out.contains("CI_JOB_TOKEN=[hidden"), "{}", run.report());
    assert!(out.contains("token: set ([hidden"), "{}", run.report());
    assert!(
        out.contains("CI_REPOSITORY_URL=https://gitlab.example.com/acme/payments/api.git"),
        "URLs are shown without their userinfo\n{}",
        run.report()
    );
}

#[test]
fn a_failed_check_names_the_step_and_exits_1() {
    let dir = Dir::new();
    // A port nothing listens on.
    let closed = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        l.local_addr().expect("addr").port()
    };
    let run = doctor(&dir, &format!("http://127.0.0.1:{closed}")).expect_code(1);
    assert!(run.stdout().contains("tcp: FAILED"), "{}", run.report());
    assert!(
        run.stdout().contains("doctor: a check FAILED"),
        "{}",
        run.report()
    );
    let run = doctor(&dir, "not a url").expect_code(1);
    assert!(run.stdout().contains("url: FAILED"), "{}", run.report());
    let run = doctor(&dir, "http://example.com").expect_code(1);
    assert!(run.stdout().contains("plain http://"), "{}", run.report());
    let run = doctor(&dir, "https://no-such-host.invalid").expect_code(1);
    assert!(run.stdout().contains("dns: FAILED"), "{}", run.report());
}
