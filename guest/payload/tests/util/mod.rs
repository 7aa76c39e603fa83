//! Shared test helpers: realistic CI environments for every provider, building a body, and
//! the JSON Schema validator.

#![allow(dead_code)]

use exlogare_payload::{
    FailureExcerpt, JobInput, KeptRange, LogInfo, Manifest, Neutralised, PayloadWriter,
};
use serde_json::Value;

/// A named set of CI variables.
pub struct Fixture {
    pub provider: &'static str,
    pub vars: Vec<(&'static str, &'static str)>,
}

impl Fixture {
    /// The variables as the host passes them.
    pub fn env(&self) -> Vec<(String, String)> {
        pairs(&self.vars)
    }
}

/// Owned pairs.
pub fn pairs(vars: &[(&str, &str)]) -> Vec<(String, String)> {
    vars.iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// The GitLab job token planted in fixtures: it must never reach a payload.
pub const JOB_TOKEN: &str = "glcbt-64_fixtureJobTokenValue123";

/// A merged-results merge-request pipeline on GitLab, with the token in the places it lives.
pub fn gitlab() -> Fixture {
    Fixture {
        provider: "gitlab_ci",
        vars: vec![
            ("GITLAB_CI", "true"),
            ("CI", "true"),
            ("CI_JOB_STATUS", "failed"),
            ("CI_PROJECT_PATH", "group/sub/app"),
            ("CI_PROJECT_ID", "4242"),
            ("CI_PROJECT_URL", "https://gitlab.example.com/group/sub/app"),
            ("CI_PROJECT_NAMESPACE", "group/sub"),
            ("CI_DEFAULT_BRANCH", "main"),
            ("CI_PIPELINE_ID", "987654"),
            ("CI_PIPELINE_IID", "321"),
            ("CI_PIPELINE_SOURCE", "merge_request_event"),
            (
                "CI_PIPELINE_URL",
                "https://gitlab.example.com/group/sub/app/-/pipelines/987654",
            ),
            ("CI_PIPELINE_CREATED_AT", "2025-01-02T03:04:05Z"),
            ("CI_JOB_ID", "123456789"),
            ("CI_JOB_NAME", "test: [linux, 1/2]"),
            ("CI_JOB_STAGE", "test"),
            (
                "CI_JOB_URL",
                "https://gitlab.example.com/group/sub/app/-/jobs/123456789",
            ),
            ("CI_JOB_STARTED_AT", "2025-01-02T03:05:00Z"),
            ("CI_JOB_IMAGE", "rust:1.95"),
            ("CI_NODE_INDEX", "1"),
            ("CI_NODE_TOTAL", "2"),
            ("CI_COMMIT_REF_NAME", "feature/login"),
            ("CI_COMMIT_SHA", "1111111111111111111111111111111111111111"),
            (
                "CI_COMMIT_TITLE",
                "Merge branch 'feature/login' into 'main'",
            ),
            ("CI_COMMIT_AUTHOR", "Ada Lovelace <ada@example.com>"),
            ("CI_COMMIT_TIMESTAMP", "2025-01-02T03:00:00+00:00"),
            ("CI_MERGE_REQUEST_IID", "17"),
            (
                "CI_MERGE_REQUEST_TITLE",
                "Login: fix the \"remember me\" box ✓",
            ),
            (
                "CI_MERGE_REQUEST_PROJECT_URL",
                "https://gitlab.example.com/group/sub/app",
            ),
            ("CI_MERGE_REQUEST_EVENT_TYPE", "merged_result"),
            ("CI_MERGE_REQUEST_SOURCE_BRANCH_NAME", "feature/login"),
            ("CI_MERGE_REQUEST_TARGET_BRANCH_NAME", "main"),
            (
                "CI_MERGE_REQUEST_SOURCE_BRANCH_SHA",
                "2222222222222222222222222222222222222222",
            ),
            (
                "CI_MERGE_REQUEST_TARGET_BRANCH_SHA",
                "3333333333333333333333333333333333333333",
            ),
            ("CI_SERVER_URL", "https://gitlab.example.com"),
            ("CI_SERVER_VERSION", "17.5.1"),
            ("CI_RUNNER_ID", "12"),
            ("CI_RUNNER_DESCRIPTION", "shared runner #1"),
            ("CI_RUNNER_TAGS", "[\"docker\", \"linux\"]"),
            ("CI_RUNNER_VERSION", "17.5.0"),
            (
                "CI_REPOSITORY_URL",
                "https://gitlab-ci-token:glcbt-64_fixtureJobTokenValue123@gitlab.example.com/group/sub/app.git",
            ),
            ("CI_JOB_TOKEN", JOB_TOKEN),
            ("CI_JOB_JWT_V2", "eyJhbGciOiJSUzI1NiJ9.fixture.jwt"),
            ("DEPLOY_PASSWORD", "hunter2-fixture-password"),
        ],
    }
}

/// A pull-request run on GitHub Actions.
pub fn github() -> Fixture {
    Fixture {
        provider: "github_actions",
        vars: vec![
            ("GITHUB_ACTIONS", "true"),
            ("EXLOGARE_JOB_STATUS", "failure"),
            ("GITHUB_REPOSITORY", "octo-org/octo-repo"),
            ("GITHUB_REPOSITORY_ID", "55"),
            ("GITHUB_RUN_ID", "1658821493"),
            ("GITHUB_RUN_NUMBER", "42"),
            ("GITHUB_RUN_ATTEMPT", "2"),
            ("GITHUB_JOB", "build"),
            ("GITHUB_WORKFLOW", "CI"),
            ("GITHUB_HEAD_REF", "feature-branch-1"),
            ("GITHUB_BASE_REF", "main"),
            ("GITHUB_REF", "refs/pull/7/merge"),
            ("GITHUB_REF_NAME", "7/merge"),
            ("GITHUB_REF_TYPE", "branch"),
            ("GITHUB_SHA", "ffac537e6cbbf934b08745a378932722df287a53"),
            ("GITHUB_SERVER_URL", "https://github.com"),
            ("GITHUB_EVENT_NAME", "pull_request"),
            ("GITHUB_TOKEN", "ghs_fixtureTokenValueThatMustNotLeak"),
            ("RUNNER_NAME", "GitHub Actions 2"),
            ("RUNNER_OS", "Linux"),
            ("RUNNER_ARCH", "X64"),
            ("RUNNER_ENVIRONMENT", "github-hosted"),
        ],
    }
}

/// A Buildkite post-command hook after a failed command.
pub fn buildkite() -> Fixture {
    Fixture {
        provider: "buildkite",
        vars: vec![
            ("BUILDKITE", "true"),
            ("BUILDKITE_COMMAND_EXIT_STATUS", "2"),
            ("BUILDKITE_ORGANIZATION_SLUG", "acme"),
            ("BUILDKITE_PIPELINE_SLUG", "web"),
            ("BUILDKITE_PIPELINE_NAME", "Web"),
            ("BUILDKITE_BUILD_ID", "0190f1f0-0000-4000-8000-000000000001"),
            ("BUILDKITE_BUILD_NUMBER", "1514"),
            (
                "BUILDKITE_BUILD_URL",
                "https://buildkite.com/acme/web/builds/1514",
            ),
            ("BUILDKITE_JOB_ID", "0190f1f0-0000-4000-8000-000000000002"),
            ("BUILDKITE_LABEL", ":rust: test"),
            ("BUILDKITE_BRANCH", "fix/flaky"),
            (
                "BUILDKITE_COMMIT",
                "abcdefabcdefabcdefabcdefabcdefabcdefabcd",
            ),
            ("BUILDKITE_MESSAGE", "Fix the flaky test\n\nLong body"),
            ("BUILDKITE_BUILD_AUTHOR", "Grace Hopper"),
            ("BUILDKITE_BUILD_AUTHOR_EMAIL", "grace@example.com"),
            ("BUILDKITE_PULL_REQUEST", "false"),
            ("BUILDKITE_REPO", "git@github.com:acme/web.git"),
            ("BUILDKITE_AGENT_ID", "agent-1"),
            ("BUILDKITE_AGENT_NAME", "ci-agent-1"),
            (
                "BUILDKITE_AGENT_ACCESS_TOKEN",
                "bkua_fixtureAgentTokenValue",
            ),
        ],
    }
}

/// A CircleCI job.
pub fn circleci() -> Fixture {
    Fixture {
        provider: "circleci",
        vars: vec![
            ("CIRCLECI", "true"),
            ("EXLOGARE_JOB_STATUS", "failed"),
            ("CIRCLE_PROJECT_USERNAME", "acme"),
            ("CIRCLE_PROJECT_REPONAME", "api"),
            ("CIRCLE_WORKFLOW_ID", "6fe2b4a8-0000-4000-8000-000000000003"),
            ("CIRCLE_BUILD_NUM", "881"),
            ("CIRCLE_BUILD_URL", "https://circleci.com/gh/acme/api/881"),
            ("CIRCLE_JOB", "unit-tests"),
            ("CIRCLE_BRANCH", "main"),
            ("CIRCLE_SHA1", "0123456789abcdef0123456789abcdef01234567"),
            ("CIRCLE_PULL_REQUEST", "https://github.com/acme/api/pull/99"),
            ("CIRCLE_NODE_INDEX", "0"),
            ("CIRCLE_NODE_TOTAL", "4"),
            ("CIRCLE_REPOSITORY_URL", "git@github.com:acme/api.git"),
        ],
    }
}

/// A Jenkins multibranch pull-request build.
pub fn jenkins() -> Fixture {
    Fixture {
        provider: "jenkins",
        vars: vec![
            ("JENKINS_URL", "https://jenkins.example.com/"),
            ("BUILD_ID", "57"),
            ("BUILD_NUMBER", "57"),
            (
                "BUILD_URL",
                "https://jenkins.example.com/job/acme/job/app/job/PR-12/57/",
            ),
            ("BUILD_RESULT", "FAILURE"),
            ("JOB_NAME", "acme/app/PR-12"),
            ("JOB_BASE_NAME", "PR-12"),
            ("BRANCH_NAME", "PR-12"),
            ("CHANGE_ID", "12"),
            ("CHANGE_BRANCH", "feature/x"),
            ("CHANGE_TARGET", "main"),
            ("CHANGE_TITLE", "Add X"),
            ("CHANGE_URL", "https://github.com/acme/app/pull/12"),
            ("GIT_COMMIT", "89abcdef0123456789abcdef0123456789abcdef"),
            (
                "GIT_URL",
                "https://user:pat-fixture@github.com/acme/app.git",
            ),
            ("NODE_NAME", "linux-agent-3"),
            ("NODE_LABELS", "linux docker"),
        ],
    }
}

/// An Azure Pipelines pull-request build.
pub fn azure() -> Fixture {
    Fixture {
        provider: "azure_pipelines",
        vars: vec![
            ("TF_BUILD", "True"),
            ("AGENT_JOBSTATUS", "Failed"),
            ("BUILD_REPOSITORY_NAME", "Fabrikam/web"),
            (
                "BUILD_REPOSITORY_URI",
                "https://fabrikam@dev.azure.com/fabrikam/Web%20App/_git/web",
            ),
            ("BUILD_BUILDID", "2024"),
            ("BUILD_BUILDNUMBER", "20250102.3"),
            ("BUILD_DEFINITIONNAME", "web-ci"),
            ("BUILD_REASON", "PullRequest"),
            ("BUILD_SOURCEBRANCH", "refs/pull/5/merge"),
            (
                "BUILD_SOURCEVERSION",
                "fedcba9876543210fedcba9876543210fedcba98",
            ),
            ("BUILD_SOURCEVERSIONMESSAGE", "Merge PR 5: make it work"),
            ("SYSTEM_TEAMPROJECT", "Web App"),
            ("SYSTEM_COLLECTIONURI", "https://dev.azure.com/fabrikam/"),
            ("SYSTEM_JOBID", "12f1170f-54f2-53f3-20dd-22fc7dff55f9"),
            ("SYSTEM_JOBDISPLAYNAME", "Build and test"),
            ("SYSTEM_JOBATTEMPT", "1"),
            ("SYSTEM_STAGEDISPLAYNAME", "Build"),
            ("SYSTEM_PULLREQUEST_PULLREQUESTID", "5"),
            ("SYSTEM_PULLREQUEST_SOURCEBRANCH", "refs/heads/feature/fast"),
            ("SYSTEM_PULLREQUEST_TARGETBRANCH", "refs/heads/main"),
            ("AGENT_NAME", "Hosted Agent"),
            ("AGENT_OS", "Linux"),
            ("SYSTEM_ACCESSTOKEN", "azure-fixture-access-token"),
        ],
    }
}

/// A Bitbucket Pipelines after-script.
pub fn bitbucket() -> Fixture {
    Fixture {
        provider: "bitbucket_pipelines",
        vars: vec![
            ("BITBUCKET_BUILD_NUMBER", "310"),
            ("BITBUCKET_EXIT_CODE", "1"),
            ("BITBUCKET_REPO_FULL_NAME", "team/service"),
            ("BITBUCKET_REPO_UUID", "{7c1a-fixture}"),
            ("BITBUCKET_PIPELINE_UUID", "{a1b2-fixture}"),
            ("BITBUCKET_STEP_UUID", "{c3d4-fixture}"),
            ("BITBUCKET_BRANCH", "bugfix/nil"),
            (
                "BITBUCKET_COMMIT",
                "aaaabbbbccccddddeeeeffff0000111122223333",
            ),
            ("BITBUCKET_PR_ID", "8"),
            ("BITBUCKET_PR_DESTINATION_BRANCH", "main"),
            (
                "BITBUCKET_GIT_HTTP_ORIGIN",
                "http://bitbucket.org/team/service",
            ),
        ],
    }
}

/// No CI at all: the generic mode with overrides.
pub fn generic() -> Fixture {
    Fixture {
        provider: "generic",
        vars: vec![
            ("EXLOGARE_PROJECT", "local/tool"),
            ("EXLOGARE_PIPELINE_ID", "p1"),
            ("EXLOGARE_JOB_ID", "j1"),
            ("EXLOGARE_JOB_NAME", "make check"),
            ("EXLOGARE_JOB_STATUS", "failed"),
            ("EXLOGARE_BRANCH", "dev"),
            ("EXLOGARE_COMMIT_SHA", "deadbeef"),
            ("EXLOGARE_PIPELINE_URL", "https://ci.example.com/p1"),
        ],
    }
}

/// Every fixture.
pub fn all() -> Vec<Fixture> {
    vec![
        gitlab(),
        github(),
        buildkite(),
        circleci(),
        jenkins(),
        azure(),
        bitbucket(),
        generic(),
    ]
}

/// A typical log description.
pub fn log_info() -> LogInfo {
    LogInfo {
        bytes_read: 5_000_000,
        bytes_omitted: 1_000_000,
        invalid_utf8_bytes: 3,
        nul_bytes: 1,
        redactions: vec![
            ("gitlab-pat".to_string(), 2),
            ("known-secret".to_string(), 1),
            ("gitlab-pat".to_string(), 1),
        ],
        redactors: vec!["exlogare-default@0.1.0".to_string()],
        selection: Some(manifest(8 << 20)),
        excerpt: Some(FailureExcerpt {
            text: "[… exlogare: 9 lines omitted (lines 1-9, 400 bytes) …]\nerror: boom\n"
                .to_string(),
            manifest: manifest(8 << 10),
        }),
        neutralised: Neutralised {
            bidi: 1,
            zero_width: 2,
            control: 0,
        },
    }
}

/// A manifest of a selection at `budget`.
pub fn manifest(budget: u64) -> Manifest {
    Manifest {
        budget,
        total_lines: 10,
        total_bytes: 450,
        omitted_bytes: 400,
        omitted_lines: 9,
        ranges: vec![KeptRange {
            first: 10,
            last: 10,
            reason: "error".to_string(),
            collapsed_lines: 0,
            cut_bytes: 0,
        }],
        ranges_left_out: 0,
    }
}

/// Builds the whole body with the log given in `pieces`.
pub fn body(input: JobInput, pieces: &[&[u8]]) -> Vec<u8> {
    let mut writer = PayloadWriter::new(input).expect("payload writer");
    let mut body = writer.open();
    for piece in pieces {
        body.extend(writer.log(piece));
    }
    body.extend(writer.close());
    body
}

/// Builds and parses the body for `env` with a small log.
pub fn json_for(env: Vec<(String, String)>) -> Value {
    let input = JobInput {
        env,
        extra: vec![("team".to_string(), "payments".to_string())],
        host_version: "0.1.0-test".to_string(),
        log: log_info(),
    };
    let body = body(input, &[b"line 1\n", b"line 2\n"]);
    serde_json::from_slice(&body).expect("the body is JSON")
}

/// The schema file, parsed.
pub fn schema() -> Value {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../schema/payload.schema.json"
    );
    let text = std::fs::read_to_string(path).expect("schema/payload.schema.json");
    serde_json::from_str(&text).expect("the schema is JSON")
}

/// A validator for the schema.
pub fn validator() -> jsonschema::Validator {
    jsonschema::validator_for(&schema()).expect("the schema compiles")
}

/// Panics with every schema error when `payload` does not validate.
pub fn assert_valid(validator: &jsonschema::Validator, payload: &Value) {
    let errors: Vec<String> = validator
        .iter_errors(payload)
        .map(|e| format!("{e} at {}", e.instance_path()))
        .collect();
    assert!(
        errors.is_empty(),
        "payload does not match the schema:\n{}\n{}",
        errors.join("\n"),
        serde_json::to_string_pretty(payload).unwrap_or_default()
    );
}
