//! `exlogare report` end to end: the built binary, the real default guest, a real HTTP
//! receiver on 127.0.0.1.

use exlogare_tests::{Dir, Receiver, TOKEN, base64, gitlab_failed_job, json};

/// A failed GitLab job's environment pointing at `receiver`, with the test token.
fn report(dir: &Dir, receiver: &Receiver) -> exlogare_tests::TestCommand {
    let mut cmd = dir.command();
    cmd.args(["report"])
        .envs(gitlab_failed_job())
        .env("EXLOGARE_TOKEN", TOKEN)
        .env("EXLOGARE_URL", receiver.url());
    cmd
}

#[test]
fn fields_equal_the_ci_variables_and_project_is_the_real_path() {
    let dir = Dir::new();
    dir.create(
        "build.log",
        "compiling...\nerror[E0425]: cannot find value `x`\n",
    );
    let receiver = Receiver::start();
    let run = report(&dir, &receiver).ok();
    run.assert_stderr_contains("sent");

    let got = receiver.single();
    assert_eq!(got.method, "POST");
    assert_eq!(got.path, "/api/ingest/log");
    assert_eq!(
        got.header("authorization"),
        Some(format!("Bearer {TOKEN}").as_str())
    );
    assert_eq!(got.header("content-type"), Some("application/json"));
    assert!(got.header("idempotency-key").is_some_and(|k| k.len() >= 16));
    let body = got.json();
    let env: std::collections::HashMap<_, _> = gitlab_failed_job().into_iter().collect();
    assert_eq!(body["provider"], "gitlab_ci");
    assert_eq!(body["project"], "acme/payments/api");
    assert_ne!(body["project"], "$CI_PROJECT_PATH");
    assert_eq!(body["pipeline_id"], env["CI_PIPELINE_ID"]);
    assert_eq!(body["job_id"], env["CI_JOB_ID"]);
    assert_eq!(body["job_name"], env["CI_JOB_NAME"]);
    assert_eq!(body["status"], "failed");
    assert_eq!(body["branch"], env["CI_COMMIT_REF_NAME"]);
    assert_eq!(body["commit_sha"], env["CI_COMMIT_SHA"]);
    assert_eq!(body["pipeline_url"], env["CI_PIPELINE_URL"]);
    assert_eq!(
        body["log"], "compiling...\nerror[E0425]: cannot find value `x`\n",
        "the log arrives exactly, trailing newline included"
    );
    for field in [
        "provider",
        "project",
        "pipeline_id",
        "job_id",
        "job_name",
        "status",
        "branch",
        "commit_sha",
        "pipeline_url",
        "log",
    ] {
        assert!(body[field].is_string(), "{field} must be a string: {body}");
    }
}

#[test]
fn the_payload_validates_against_the_json_schema() {
    let dir = Dir::new();
    dir.create(
        "build.log",
        "some output\n\u{1b}[31mred\u{1b}[0m and a tab\t\n",
    );
    let receiver = Receiver::start();
    report(&dir, &receiver)
        .args(["--meta", "team=payments"])
        .ok();
    let body = receiver.single().json();
    let schema_path = concat!(env!("CARGO_MANIFEST_DIR"), "/../schema/payload.schema.json");
    let schema = json(&std::fs::read(schema_path).expect("schema file"));
    let validator = jsonschema::validator_for(&schema).expect("a valid schema");
    let errors: Vec<String> = validator
        .iter_errors(&body)
        .map(|e| e.to_string())
        .collect();
    assert!(
        errors.is_empty(),
        "payload does not match the schema: {errors:?}\n{body}"
    );
    assert_eq!(body["metadata"]["extra"]["team"], "payments");
}

#[test]
fn a_five_mib_log_arrives_whole() {
    let dir = Dir::new();
    let mut log = String::new();
    let mut i = 0u64;
    while log.len() < 5 << 20 {
        log.push_str(&format!(
            "{i:08} test output line with some text to make it realistic ok\n"
        ));
        i += 1;
    }
    dir.create("build.log", &log);
    let receiver = Receiver::start();
    report(&dir, &receiver).ok();
    let body = receiver.single().json();
    assert_eq!(body["log"].as_str().map(str::len), Some(log.len()));
    assert_eq!(body["log"], log.as_str());
    assert_eq!(body["metadata"]["log"]["bytes_omitted"], 0);
}

#[test]
fn above_the_budget_the_failure_and_the_end_are_kept_with_markers() {
    let dir = Dir::new();
    // Lines that differ in words, not only in numbers (those would collapse to one `[×N]`).
    let word = |i: usize| -> String {
        i.to_string()
            .bytes()
            .map(|d| (b'a' + d - b'0') as char)
            .collect()
    };
    let mut log = String::new();
    for i in 0..100_000 {
        log.push_str(&format!("line {} of the job\n", word(i)));
        if i == 20_000 {
            log.push_str("Error: the database migration failed\n");
        }
    }
    dir.create("build.log", &log);
    let receiver = Receiver::start();
    let run = report(&dir, &receiver)
        .args(["--max-log-bytes", "64KiB"])
        .ok();
    run.assert_stderr_contains("left out");
    let body = receiver.single().json();
    let sent = body["log"].as_str().expect("log string");
    assert!(sent.contains("Error: the database migration failed\n"));
    assert!(sent.ends_with(&format!("line {} of the job\n", word(99_999))));
    assert!(sent.contains("lines omitted"));
    assert!(sent.len() <= 64 << 10);
    let omitted = body["metadata"]["log"]["bytes_omitted"]
        .as_u64()
        .expect("omitted");
    assert!(omitted > 1_000_000 && omitted < log.len() as u64);
}

#[test]
fn secrets_in_the_log_and_in_secret_named_variables_never_leave() {
    let dir = Dir::new();
    let db_password = "Sup3r-S3cret-DB-pass!";
    let planted_pat = "glpat-AbCdEfGhIjKlMnOpQrSt";
    let log = format!(
        "connecting with password {db_password}\n\
         base64 form: {}\n\
         git clone https://oauth2:{planted_pat}@gitlab.example.com/x.git\n\
         token in the job: {TOKEN}\n\
         job token: glcbt-64_jobtokenvalue0123456789abcdef\n\
         commit 3f786850e387550fdab836ed7e6dc881de23001b is kept\n",
        base64(db_password)
    );
    dir.create("build.log", &log);
    let receiver = Receiver::start();
    let run = report(&dir, &receiver).env("DB_PASSWORD", db_password).ok();
    let got = receiver.single();
    let everything = got.everything();
    let body_text = String::from_utf8_lossy(&got.body).into_owned();
    for secret in [
        db_password,
        planted_pat,
        "glcbt-64_jobtokenvalue0123456789abcdef",
    ] {
        assert!(
            !everything.contains(secret),
            "{secret} reached the server:\n{everything}"
        );
        run.assert_never_printed(secret);
    }
    assert!(
        !body_text.contains(&base64(db_password)[..20]),
        "the base64 form leaked:\n{body_text}"
    );
    assert!(
        !body_text.contains(TOKEN),
        "the token is only in the Authorization header"
    );
    run.assert_never_printed(TOKEN);
    let body = got.json();
    let sent = body["log"].as_str().expect("log");
    assert!(sent.contains("[REDACTED:DB_PASSWORD]"), "{sent}");
    assert!(
        sent.contains("3f786850e387550fdab836ed7e6dc881de23001b"),
        "hashes are kept: {sent}"
    );
    // The summary names rules and counts, never values.
    run.assert_stderr_contains("known:DB_PASSWORD");
}

#[test]
fn a_successful_job_sends_nothing() {
    let dir = Dir::new();
    dir.create("build.log", "all good\n");
    let receiver = Receiver::start();
    let run = report(&dir, &receiver).env("CI_JOB_STATUS", "success").ok();
    run.assert_stderr_contains("skipped")
        .assert_stderr_contains("success");
    assert!(receiver.received().is_empty());
}

#[test]
fn when_canceled_sends_for_canceled_jobs() {
    let dir = Dir::new();
    dir.create("build.log", "stopped\n");
    let receiver = Receiver::start();
    report(&dir, &receiver)
        .env("CI_JOB_STATUS", "canceled")
        .args(["--when", "failed,canceled"])
        .ok();
    assert_eq!(receiver.single().json()["status"], "canceled");
}

#[test]
fn the_dry_run_prints_the_exact_payload_and_sends_nothing() {
    let dir = Dir::new();
    dir.create("build.log", "boom\n");
    let receiver = Receiver::start();
    let run = report(&dir, &receiver).args(["--dry-run"]).ok();
    assert!(receiver.received().is_empty(), "a dry run sent something");
    let printed = json(run.stdout().trim().as_bytes());
    assert_eq!(printed["log"], "boom\n");
    assert_eq!(printed["project"], "acme/payments/api");
    run.assert_stderr_contains("dry run")
        .assert_never_printed(TOKEN);
}

#[test]
fn the_dry_run_needs_no_token() {
    let dir = Dir::new();
    dir.create("build.log", "boom\n");
    let receiver = Receiver::start();
    let run = report(&dir, &receiver)
        .env_remove("EXLOGARE_TOKEN")
        .args(["--dry-run"])
        .ok();
    assert!(
        run.stdout().contains("\"log\":\"boom\\n\""),
        "{}",
        run.report()
    );
}

#[test]
fn a_missing_log_says_so_and_does_not_fail_the_job() {
    let dir = Dir::new();
    let receiver = Receiver::start();
    let run = report(&dir, &receiver).ok();
    run.assert_stderr_contains("cannot read the log build.log")
        .assert_stderr_contains("nothing was sent");
    assert_eq!(
        run.stderr().lines().count(),
        1,
        "one line: {}",
        run.report()
    );
    assert!(receiver.received().is_empty());
    report(&dir, &receiver).args(["--strict"]).expect_code(3);
}

#[test]
fn a_missing_token_says_so_and_does_not_fail_the_job() {
    let dir = Dir::new();
    dir.create("build.log", "boom\n");
    let receiver = Receiver::start();
    let run = report(&dir, &receiver).env_remove("EXLOGARE_TOKEN").ok();
    run.assert_stderr_contains("EXLOGARE_TOKEN is not set");
    assert!(receiver.received().is_empty());
    report(&dir, &receiver)
        .env_remove("EXLOGARE_TOKEN")
        .args(["--strict"])
        .expect_code(4);
}

#[test]
fn a_bad_url_says_so() {
    let dir = Dir::new();
    dir.create("build.log", "boom\n");
    let receiver = Receiver::start();
    let run = report(&dir, &receiver)
        .env("EXLOGARE_URL", "not a url")
        .ok();
    run.assert_stderr_contains("bad URL")
        .assert_stderr_contains("EXLOGARE_URL");
    report(&dir, &receiver)
        .env("EXLOGARE_URL", "http://example.com")
        .args(["--strict"])
        .expect_code(2)
        .assert_stderr_contains("plain http://");
}

#[test]
fn the_token_is_never_accepted_on_the_command_line() {
    let dir = Dir::new();
    let run = dir
        .command()
        .args(["report", "--token", TOKEN])
        .expect_code(2);
    run.assert_never_printed(TOKEN);
}

#[test]
fn invalid_utf8_and_nul_bytes_do_not_stop_the_upload() {
    let dir = Dir::new();
    let mut log = b"before \xff\xfe bad bytes\n".to_vec();
    log.extend_from_slice(b"nul\0byte\n\xc3");
    dir.create("build.log", &log);
    let receiver = Receiver::start();
    let run = report(&dir, &receiver).ok();
    run.assert_stderr_contains("invalid UTF-8");
    let body = receiver.single().json();
    assert_eq!(
        body["log"],
        "before \u{fffd}\u{fffd} bad bytes\nnulbyte\n\u{fffd}"
    );
    assert_eq!(body["metadata"]["log"]["invalid_utf8_bytes"], 3);
    assert_eq!(body["metadata"]["log"]["nul_bytes"], 1);
}

#[test]
fn the_log_can_come_from_stdin() {
    let dir = Dir::new();
    let receiver = Receiver::start();
    report(&dir, &receiver)
        .args(["--log", "-"])
        .stdin("from stdin\n")
        .ok();
    assert_eq!(receiver.single().json()["log"], "from stdin\n");
}

/// Metadata is scrubbed like the log: a known value in `--meta` and credentials in a CI URL
/// never reach the receiver, with or without user rules (the payload writer reuses the log
/// redactor's engine only when the configuration is the same).
#[test]
fn known_values_and_credentials_in_metadata_are_redacted() {
    for user_rules in [false, true] {
        let dir = Dir::new();
        dir.create("build.log", "step 1\nok\n");
        dir.create(
            "rules.toml",
            "[[rules]]\nid = \"acme-key\"\nregex = '''acme_[0-9a-f]{16}'''\nkeywords = [\"acme_\"]\n",
        );
        let receiver = Receiver::start();
        let mut cmd = report(&dir, &receiver);
        cmd.env("DB_PASSWORD", "Sup3r-S3cret-DB-pass!")
            .env(
                "CI_PIPELINE_URL",
                "https://deploy:hunter2hunter2@gitlab.example.com/acme/-/pipelines/1",
            )
            .args(["--meta", "note=pw Sup3r-S3cret-DB-pass! here"]);
        if user_rules {
            cmd.args(["--rules", "rules.toml"]);
        }
        cmd.ok();
        let got = receiver.single();
        let text = String::from_utf8_lossy(&got.body);
        assert!(!text.contains("Sup3r-S3cret-DB-pass!"), "{text}");
        assert!(!text.contains("hunter2hunter2"), "{text}");
        let body = got.json();
        let note = body["metadata"]["extra"]["note"]
            .as_str()
            .unwrap_or_default();
        assert_eq!(note, "pw [REDACTED:DB_PASSWORD] here", "{body}");
        assert_eq!(
            body["pipeline_url"], "https://gitlab.example.com/acme/-/pipelines/1",
            "credentials are dropped from URLs"
        );
    }
}
