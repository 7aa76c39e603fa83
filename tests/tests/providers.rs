//! Every CI provider through the built binary: its job status gate and the fields and metadata
//! its variables become, as they arrive at a real receiver. Plus: a missing variable, or an
//! empty environment, is never a crash.

use exlogare_tests::{Dir, Receiver, TOKEN, gitlab_failed_job};
use serde_json::Value;

/// `exlogare report` with exactly `vars` (plus the token and the receiver's URL) and a log.
fn report(vars: &[(&str, &str)]) -> (exlogare_tests::Run, Receiver) {
    let dir = Dir::new();
    dir.create("build.log", "error: boom\n");
    let receiver = Receiver::start();
    let run = dir
        .command()
        .args(["report"])
        .envs(vars.iter().copied())
        .env("EXLOGARE_TOKEN", TOKEN)
        .env("EXLOGARE_URL", receiver.url())
        .ok();
    (run, receiver)
}

/// The one payload that arrived.
fn sent(vars: &[(&str, &str)]) -> Value {
    let (run, receiver) = report(vars);
    let all = receiver.received();
    assert_eq!(all.len(), 1, "expected one payload\n{}", run.report());
    all[0].json()
}

/// Asserts that nothing was sent and the run said why.
fn not_sent(vars: &[(&str, &str)], why: &str) {
    let (run, receiver) = report(vars);
    assert!(
        receiver.received().is_empty(),
        "sent for {vars:?}\n{}",
        run.report()
    );
    run.assert_stderr_contains("skipped")
        .assert_stderr_contains(why);
}

fn fields(body: &Value) -> Vec<(&'static str, String)> {
    [
        "provider",
        "project",
        "pipeline_id",
        "job_id",
        "job_name",
        "status",
        "branch",
        "commit_sha",
        "pipeline_url",
    ]
    .into_iter()
    .map(|k| {
        (
            k,
            body[k]
                .as_str()
                .unwrap_or_else(|| panic!("{k} is a string: {body}"))
                .to_string(),
        )
    })
    .collect()
}

fn expect_fields(body: &Value, want: [&str; 9]) {
    let names = [
        "provider",
        "project",
        "pipeline_id",
        "job_id",
        "job_name",
        "status",
        "branch",
        "commit_sha",
        "pipeline_url",
    ];
    let want: Vec<(&str, String)> = names.into_iter().zip(want.map(String::from)).collect();
    assert_eq!(fields(body), want, "{body:#}");
}

#[test]
fn gitlab_in_full() {
    let mut vars = gitlab_failed_job();
    vars.extend([
        ("CI_PIPELINE_SOURCE", "merge_request_event"),
        ("CI_MERGE_REQUEST_IID", "42"),
        ("CI_MERGE_REQUEST_TITLE", "Login: handle expired sessions"),
        (
            "CI_MERGE_REQUEST_PROJECT_URL",
            "https://gitlab.example.com/acme/payments/api",
        ),
        ("CI_MERGE_REQUEST_EVENT_TYPE", "merged_result"),
        ("CI_MERGE_REQUEST_SOURCE_BRANCH_NAME", "feature/login"),
        ("CI_MERGE_REQUEST_TARGET_BRANCH_NAME", "main"),
        (
            "CI_MERGE_REQUEST_SOURCE_BRANCH_SHA",
            "aaaabbbbccccddddeeeeffff0000111122223333",
        ),
        (
            "CI_MERGE_REQUEST_TARGET_BRANCH_SHA",
            "1111222233334444555566667777888899990000",
        ),
        (
            "CI_COMMIT_TITLE",
            "Merge branch 'feature/login' into 'main'",
        ),
        ("CI_COMMIT_AUTHOR", "Ada Lovelace <ada@example.com>"),
        ("CI_COMMIT_TIMESTAMP", "2026-11-27T06:00:00+00:00"),
        ("CI_SERVER_VERSION", "17.6.1"),
        ("CI_RUNNER_ID", "77"),
        ("CI_RUNNER_TAGS", "[\"docker\", \"linux\"]"),
        ("CI_JOB_STARTED_AT", "2026-11-27T06:01:02Z"),
        ("CI_NODE_INDEX", "2"),
        ("CI_NODE_TOTAL", "4"),
        (
            "CI_JOB_JWT_V2",
            "eyJhbGciOiJSUzI1NiJ9.jwtpayloadvalue.signaturevalue",
        ),
    ]);
    let (run, receiver) = report(&vars);
    let got = receiver.single();
    let body = got.json();
    expect_fields(
        &body,
        [
            "gitlab_ci",
            "acme/payments/api",
            "987654",
            "123456789",
            "unit tests",
            "failed",
            "feature/login",
            "3f786850e387550fdab836ed7e6dc881de23001b",
            "https://gitlab.example.com/acme/payments/api/-/pipelines/987654",
        ],
    );
    let m = &body["metadata"];
    assert_eq!(
        m["job"]["url"],
        "https://gitlab.example.com/acme/payments/api/-/jobs/123456789"
    );
    assert_eq!(m["job"]["stage"], "test");
    assert_eq!(m["job"]["started_at"], "2026-11-27T06:01:02Z");
    assert_eq!(m["job"]["node_index"], "2");
    assert_eq!(m["job"]["node_total"], "4");
    assert_eq!(m["pipeline"]["source"], "merge_request_event");
    assert_eq!(m["merge_request"]["id"], "42");
    assert_eq!(
        m["merge_request"]["title"],
        "Login: handle expired sessions"
    );
    assert_eq!(
        m["merge_request"]["url"],
        "https://gitlab.example.com/acme/payments/api/-/merge_requests/42"
    );
    assert_eq!(m["merge_request"]["event_type"], "merged_result");
    assert_eq!(m["merge_request"]["source_branch"], "feature/login");
    assert_eq!(m["merge_request"]["target_branch"], "main");
    // Merged results: the built commit is a temporary merge; the author's commit is here.
    assert_eq!(
        m["merge_request"]["source_sha"],
        "aaaabbbbccccddddeeeeffff0000111122223333"
    );
    assert_eq!(
        m["commit"]["title"],
        "Merge branch 'feature/login' into 'main'"
    );
    assert_eq!(m["commit"]["author"], "Ada Lovelace <ada@example.com>");
    assert_eq!(m["commit"]["timestamp"], "2026-11-27T06:00:00+00:00");
    assert_eq!(m["server"]["url"], "https://gitlab.example.com");
    assert_eq!(m["server"]["version"], "17.6.1");
    assert_eq!(m["runner"]["id"], "77");
    assert_eq!(m["runner"]["tags"], "[\"docker\", \"linux\"]");
    assert_eq!(
        m["project"]["repository_url"], "https://gitlab.example.com/acme/payments/api.git",
        "CI_REPOSITORY_URL without its gitlab-ci-token userinfo"
    );
    let everything = got.everything();
    for secret in [
        "glcbt-64_jobtokenvalue0123456789abcdef",
        "jwtpayloadvalue",
        "gitlab-ci-token",
    ] {
        assert!(
            !everything.contains(secret),
            "{secret} was sent:\n{everything}"
        );
        run.assert_never_printed(secret);
    }
}

#[test]
fn gitlab_merge_request_pipelines_fall_back_for_branch_and_commit_title() {
    let body = sent(&[
        ("GITLAB_CI", "true"),
        ("CI_JOB_STATUS", "failed"),
        ("CI_MERGE_REQUEST_SOURCE_BRANCH_NAME", "feature/mr-only"),
        ("CI_COMMIT_MESSAGE", "Fix the login\n\nLonger explanation."),
    ]);
    assert_eq!(body["branch"], "feature/mr-only");
    assert_eq!(body["metadata"]["commit"]["title"], "Fix the login");
}

#[test]
fn gitlab_status_gate() {
    not_sent(
        &[("GITLAB_CI", "true"), ("CI_JOB_STATUS", "success")],
        "success",
    );
    not_sent(
        &[("GITLAB_CI", "true"), ("CI_JOB_STATUS", "canceled")],
        "canceled",
    );
    assert_eq!(
        sent(&[("GITLAB_CI", "true"), ("CI_JOB_STATUS", "failed")])["status"],
        "failed"
    );
}

#[test]
fn github_actions() {
    let vars = [
        ("GITHUB_ACTIONS", "true"),
        ("GITHUB_REPOSITORY", "octo/shop"),
        ("GITHUB_RUN_ID", "9001"),
        ("GITHUB_RUN_ATTEMPT", "2"),
        ("GITHUB_JOB", "build"),
        ("GITHUB_WORKFLOW", "CI"),
        ("GITHUB_HEAD_REF", "feature/pay"),
        ("GITHUB_BASE_REF", "main"),
        ("GITHUB_REF", "refs/pull/17/merge"),
        ("GITHUB_SHA", "0123456789abcdef0123456789abcdef01234567"),
        ("GITHUB_SERVER_URL", "https://github.com"),
        ("GITHUB_EVENT_NAME", "pull_request"),
        ("RUNNER_OS", "Linux"),
        ("GITHUB_TOKEN", "ghs_notsentnotsentnotsentnotsent0000"),
        ("EXLOGARE_JOB_STATUS", "failure"),
    ];
    let body = sent(&vars);
    expect_fields(
        &body,
        [
            "github_actions",
            "octo/shop",
            "9001",
            "build/2",
            "CI / build",
            "failed",
            "feature/pay",
            "0123456789abcdef0123456789abcdef01234567",
            "https://github.com/octo/shop/actions/runs/9001",
        ],
    );
    assert_eq!(body["metadata"]["merge_request"]["id"], "17");
    assert_eq!(body["metadata"]["merge_request"]["target_branch"], "main");
    assert_eq!(body["metadata"]["runner"]["os"], "Linux");
    assert!(!body.to_string().contains("ghs_notsent"));
    // GitHub gives a step no status: without EXLOGARE_JOB_STATUS nothing is sent.
    not_sent(&vars[..vars.len() - 1], "unknown");
    let mut success = vars;
    success[vars.len() - 1] = ("EXLOGARE_JOB_STATUS", "success");
    not_sent(&success, "success");
}

#[test]
fn buildkite() {
    let vars = [
        ("BUILDKITE", "true"),
        ("BUILDKITE_COMMAND_EXIT_STATUS", "2"),
        ("BUILDKITE_ORGANIZATION_SLUG", "acme"),
        ("BUILDKITE_PIPELINE_SLUG", "shop"),
        ("BUILDKITE_BUILD_ID", "0190-build-uuid"),
        ("BUILDKITE_BUILD_NUMBER", "314"),
        (
            "BUILDKITE_BUILD_URL",
            "https://buildkite.com/acme/shop/builds/314",
        ),
        ("BUILDKITE_JOB_ID", "0190-job-uuid"),
        ("BUILDKITE_LABEL", ":rust: test"),
        ("BUILDKITE_BRANCH", "main"),
        (
            "BUILDKITE_COMMIT",
            "89abcdef0123456789abcdef0123456789abcdef",
        ),
        ("BUILDKITE_MESSAGE", "Speed up checkout\n\ndetails"),
        ("BUILDKITE_AGENT_NAME", "agent-7"),
        ("BUILDKITE_PULL_REQUEST", "false"),
    ];
    let body = sent(&vars);
    expect_fields(
        &body,
        [
            "buildkite",
            "acme/shop",
            "0190-build-uuid",
            "0190-job-uuid",
            ":rust: test",
            "failed",
            "main",
            "89abcdef0123456789abcdef0123456789abcdef",
            "https://buildkite.com/acme/shop/builds/314",
        ],
    );
    assert_eq!(
        body["metadata"]["job"]["url"],
        "https://buildkite.com/acme/shop/builds/314#0190-job-uuid"
    );
    assert_eq!(body["metadata"]["commit"]["title"], "Speed up checkout");
    assert_eq!(body["metadata"]["runner"]["name"], "agent-7");
    assert!(
        body["metadata"].get("merge_request").is_none(),
        "`false` is no pull request"
    );
    let mut ok = vars;
    ok[1] = ("BUILDKITE_COMMAND_EXIT_STATUS", "0");
    not_sent(&ok, "success");
}

#[test]
fn circleci() {
    let vars = [
        ("CIRCLECI", "true"),
        ("CIRCLE_PROJECT_USERNAME", "acme"),
        ("CIRCLE_PROJECT_REPONAME", "shop"),
        ("CIRCLE_WORKFLOW_ID", "wf-1234"),
        ("CIRCLE_BUILD_NUM", "88"),
        ("CIRCLE_BUILD_URL", "https://circleci.com/gh/acme/shop/88"),
        ("CIRCLE_JOB", "test"),
        ("CIRCLE_BRANCH", "feature/x"),
        ("CIRCLE_SHA1", "fedcba9876543210fedcba9876543210fedcba98"),
        ("CIRCLE_PULL_REQUEST", "https://github.com/acme/shop/pull/5"),
        ("CIRCLE_NODE_INDEX", "0"),
        ("CIRCLE_NODE_TOTAL", "3"),
        ("EXLOGARE_JOB_STATUS", "failed"),
    ];
    let body = sent(&vars);
    expect_fields(
        &body,
        [
            "circleci",
            "acme/shop",
            "wf-1234",
            "88",
            "test",
            "failed",
            "feature/x",
            "fedcba9876543210fedcba9876543210fedcba98",
            "https://app.circleci.com/pipelines/workflows/wf-1234",
        ],
    );
    assert_eq!(
        body["metadata"]["job"]["url"],
        "https://circleci.com/gh/acme/shop/88"
    );
    assert_eq!(body["metadata"]["merge_request"]["id"], "5");
    assert_eq!(body["metadata"]["job"]["node_total"], "3");
    not_sent(&vars[..vars.len() - 1], "unknown");
}

#[test]
fn jenkins() {
    let vars = [
        ("JENKINS_URL", "https://jenkins.example.com/"),
        ("BUILD_ID", "51"),
        ("BUILD_NUMBER", "51"),
        (
            "BUILD_URL",
            "https://jenkins.example.com/job/shop/job/PR-9/51/",
        ),
        ("JOB_NAME", "shop/PR-9"),
        ("JOB_BASE_NAME", "PR-9"),
        ("BRANCH_NAME", "PR-9"),
        ("CHANGE_ID", "9"),
        ("CHANGE_BRANCH", "feature/y"),
        ("CHANGE_TARGET", "main"),
        ("GIT_COMMIT", "00112233445566778899aabbccddeeff00112233"),
        ("NODE_NAME", "linux-3"),
        ("BUILD_RESULT", "FAILURE"),
    ];
    let body = sent(&vars);
    expect_fields(
        &body,
        [
            "jenkins",
            "shop/PR-9",
            "51",
            "51",
            "PR-9",
            "failed",
            "feature/y",
            "00112233445566778899aabbccddeeff00112233",
            "https://jenkins.example.com/job/shop/job/PR-9/51/",
        ],
    );
    assert_eq!(body["metadata"]["merge_request"]["target_branch"], "main");
    assert_eq!(body["metadata"]["runner"]["name"], "linux-3");
    let mut unstable = vars;
    unstable[12] = ("BUILD_RESULT", "UNSTABLE");
    not_sent(&unstable, "unstable");
    // EXLOGARE_JOB_STATUS wins over BUILD_RESULT.
    let mut overridden = vars.to_vec();
    overridden.push(("EXLOGARE_JOB_STATUS", "ABORTED"));
    not_sent(&overridden, "canceled");
}

#[test]
fn azure_pipelines() {
    let vars = [
        ("TF_BUILD", "True"),
        ("AGENT_JOBSTATUS", "Failed"),
        ("BUILD_REPOSITORY_NAME", "shop"),
        ("BUILD_BUILDID", "1234"),
        ("SYSTEM_JOBID", "job-guid"),
        ("SYSTEM_JOBDISPLAYNAME", "Unit tests"),
        ("BUILD_SOURCEBRANCH", "refs/heads/feature/z"),
        (
            "BUILD_SOURCEVERSION",
            "abcdefabcdefabcdefabcdefabcdefabcdefabcd",
        ),
        ("SYSTEM_COLLECTIONURI", "https://dev.azure.com/fabrikam/"),
        ("SYSTEM_TEAMPROJECT", "My Project"),
        (
            "BUILD_REPOSITORY_URI",
            "https://fabrikam@dev.azure.com/fabrikam/My%20Project/_git/shop",
        ),
        ("SYSTEM_STAGEDISPLAYNAME", "Test"),
    ];
    let body = sent(&vars);
    expect_fields(
        &body,
        [
            "azure_pipelines",
            "shop",
            "1234",
            "job-guid",
            "Unit tests",
            "failed",
            "feature/z",
            "abcdefabcdefabcdefabcdefabcdefabcdefabcd",
            "https://dev.azure.com/fabrikam/My%20Project/_build/results?buildId=1234",
        ],
    );
    assert_eq!(body["metadata"]["job"]["stage"], "Test");
    assert_eq!(
        body["metadata"]["project"]["repository_url"],
        "https://dev.azure.com/fabrikam/My%20Project/_git/shop"
    );
    let mut ok = vars;
    ok[1] = ("AGENT_JOBSTATUS", "SucceededWithIssues");
    not_sent(&ok, "succeeded_with_issues");
}

#[test]
fn bitbucket_pipelines() {
    let vars = [
        ("BITBUCKET_BUILD_NUMBER", "77"),
        ("BITBUCKET_EXIT_CODE", "1"),
        ("BITBUCKET_REPO_FULL_NAME", "acme/shop"),
        ("BITBUCKET_STEP_UUID", "{step-uuid}"),
        ("BITBUCKET_BRANCH", "feature/w"),
        (
            "BITBUCKET_COMMIT",
            "1234567890abcdef1234567890abcdef12345678",
        ),
        ("BITBUCKET_PR_ID", "3"),
        ("BITBUCKET_PR_DESTINATION_BRANCH", "main"),
        ("EXLOGARE_JOB_NAME", "test step"),
    ];
    let body = sent(&vars);
    expect_fields(
        &body,
        [
            "bitbucket_pipelines",
            "acme/shop",
            "77",
            "{step-uuid}",
            "test step",
            "failed",
            "feature/w",
            "1234567890abcdef1234567890abcdef12345678",
            "https://bitbucket.org/acme/shop/pipelines/results/77",
        ],
    );
    assert_eq!(
        body["metadata"]["merge_request"]["url"],
        "https://bitbucket.org/acme/shop/pull-requests/3"
    );
    let mut ok = vars;
    ok[1] = ("BITBUCKET_EXIT_CODE", "0");
    not_sent(&ok, "success");
}

#[test]
fn generic_mode_with_overrides_and_meta() {
    let dir = Dir::new();
    dir.create("build.log", "make: *** [all] Error 2\n");
    let receiver = Receiver::start();
    dir.command()
        .args([
            "report",
            "--meta",
            "team=payments",
            "--meta",
            "region=eu-west-1",
            "--meta",
            "api_key=dropped",
        ])
        .env("EXLOGARE_TOKEN", TOKEN)
        .env("EXLOGARE_URL", receiver.url())
        .envs([
            ("EXLOGARE_JOB_STATUS", "failed"),
            ("EXLOGARE_PROJECT", "acme/firmware"),
            ("EXLOGARE_PIPELINE_ID", "p-1"),
            ("EXLOGARE_JOB_ID", "j-1"),
            ("EXLOGARE_JOB_NAME", "build"),
            ("EXLOGARE_BRANCH", "main"),
            (
                "EXLOGARE_COMMIT_SHA",
                "cafebabecafebabecafebabecafebabecafebabe",
            ),
            ("EXLOGARE_PIPELINE_URL", "https://ci.example.com/p/1"),
        ])
        .ok();
    let body = receiver.single().json();
    expect_fields(
        &body,
        [
            "generic",
            "acme/firmware",
            "p-1",
            "j-1",
            "build",
            "failed",
            "main",
            "cafebabecafebabecafebabecafebabecafebabe",
            "https://ci.example.com/p/1",
        ],
    );
    assert_eq!(body["metadata"]["extra"]["team"], "payments");
    assert_eq!(body["metadata"]["extra"]["region"], "eu-west-1");
    assert!(
        body["metadata"]["extra"].get("api_key").is_none(),
        "secret-looking keys are dropped"
    );
    // A --meta that is not KEY=VALUE is a clear config error, fail-open.
    let run = dir
        .command()
        .args(["report", "--meta", "novalue"])
        .env("EXLOGARE_TOKEN", TOKEN)
        .env("EXLOGARE_URL", receiver.url())
        .env("EXLOGARE_JOB_STATUS", "failed")
        .ok();
    run.assert_stderr_contains("--meta `novalue` is not KEY=VALUE");
}

#[test]
fn exlogare_provider_picks_the_provider() {
    let body = sent(&[
        ("GITLAB_CI", "true"),
        ("EXLOGARE_PROVIDER", "circleci"),
        ("CIRCLE_JOB", "lint"),
        ("EXLOGARE_JOB_STATUS", "failed"),
    ]);
    assert_eq!(body["provider"], "circleci");
    assert_eq!(body["job_name"], "lint");
}

#[test]
fn missing_variables_are_never_a_crash() {
    // Each provider detected with nothing else set: a payload of empty strings, no crash.
    for (marker, value) in [
        ("GITLAB_CI", "true"),
        ("GITHUB_ACTIONS", "true"),
        ("BUILDKITE", "true"),
        ("CIRCLECI", "true"),
        ("TF_BUILD", "True"),
        ("BITBUCKET_BUILD_NUMBER", "1"),
        ("JENKINS_URL", "https://j.example.com"),
    ] {
        let body = sent(&[(marker, value), ("EXLOGARE_JOB_STATUS", "failed")]);
        assert_eq!(body["status"], "failed", "{marker}");
        assert_eq!(body["log"], "error: boom\n", "{marker}");
        // Every documented field is still a string (fields() checks), and nothing is made up.
        let made_up: Vec<_> = fields(&body)
            .into_iter()
            .filter(|(name, value)| {
                !value.is_empty()
                    && !["provider", "status", "pipeline_url", "pipeline_id"].contains(name)
            })
            .collect();
        assert!(made_up.is_empty(), "{marker}: {made_up:?} from nothing");
    }
}

#[test]
fn an_empty_environment_is_never_a_crash() {
    let dir = Dir::new();
    dir.create("build.log", "boom\n");
    let binary = exlogare_tests::binary();
    let run = |args: &[&str]| {
        std::process::Command::new(&binary)
            .current_dir(dir.path())
            .env_clear()
            .args(args)
            .output()
            .expect("run exlogare")
    };
    // Not even PATH or HOME.
    let out = run(&["report"]);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("skipped: the job status is unknown"),
        "{out:?}"
    );
    let out = run(&["report", "--when", "always", "--dry-run"]);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let body = exlogare_tests::json(String::from_utf8_lossy(&out.stdout).trim().as_bytes());
    assert_eq!(body["provider"], "generic");
    assert_eq!(
        body["status"], "",
        "an unknown status is sent as an empty string"
    );
    assert_eq!(body["log"], "boom\n");
    let out = run(&["doctor", "--offline"]);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("provider: generic"),
        "{out:?}"
    );
}
