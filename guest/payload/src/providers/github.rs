//! GitHub Actions.
//!
//! GitHub gives no job status to a step: users pass `EXLOGARE_JOB_STATUS: ${{ job.status }}`
//! (`success`, `failure`, `cancelled`). `GITHUB_JOB` is the job's key in the workflow, shared by
//! every attempt and matrix leg, so `job_id` adds the run attempt (`build/2`). `job_name` is
//! `workflow / job`, as GitHub names checks.

use crate::env::Env;
use crate::job::{Job, put, text};
use crate::url;

/// Every variable this module reads.
pub(crate) const VARS: &[&str] = &[
    "GITHUB_ACTIONS",
    "GITHUB_REPOSITORY",
    "GITHUB_REPOSITORY_ID",
    "GITHUB_RUN_ID",
    "GITHUB_RUN_NUMBER",
    "GITHUB_RUN_ATTEMPT",
    "GITHUB_JOB",
    "GITHUB_WORKFLOW",
    "GITHUB_HEAD_REF",
    "GITHUB_BASE_REF",
    "GITHUB_REF",
    "GITHUB_REF_NAME",
    "GITHUB_REF_TYPE",
    "GITHUB_SHA",
    "GITHUB_SERVER_URL",
    "GITHUB_EVENT_NAME",
    "RUNNER_NAME",
    "RUNNER_OS",
    "RUNNER_ARCH",
    "RUNNER_ENVIRONMENT",
];

/// Used when `GITHUB_SERVER_URL` is missing.
const DEFAULT_SERVER: &str = "https://github.com";

/// GitHub sets `GITHUB_ACTIONS=true` in every step.
pub(crate) fn detected(env: &Env) -> bool {
    env.is_true("GITHUB_ACTIONS")
}

/// Fills the fields and metadata.
pub(crate) fn read(env: &Env, job: &mut Job) {
    let repo = env.get("GITHUB_REPOSITORY");
    let run = env.get("GITHUB_RUN_ID");
    let attempt = env.get("GITHUB_RUN_ATTEMPT");
    let server = env.get("GITHUB_SERVER_URL").unwrap_or(DEFAULT_SERVER);
    let job_key = env.get("GITHUB_JOB");
    let workflow = env.get("GITHUB_WORKFLOW");

    let f = &mut job.fields;
    f.project = text(repo);
    f.pipeline_id = text(run);
    f.job_id = match (job_key, attempt) {
        (Some(key), Some(attempt)) => format!("{key}/{attempt}"),
        (key, _) => text(key),
    };
    f.job_name = match (workflow, job_key) {
        (Some(workflow), Some(key)) => format!("{workflow} / {key}"),
        (workflow, key) => text(key.or(workflow)),
    };
    f.branch = text(env.first(&["GITHUB_HEAD_REF", "GITHUB_REF_NAME"]));
    f.commit_sha = text(env.get("GITHUB_SHA"));
    if let (Some(repo), Some(run)) = (repo, run) {
        f.pipeline_url = url::join(server, &format!("{repo}/actions/runs/{run}"));
    }

    let g = &mut job.groups;
    put(&mut g.job, "attempt", attempt);
    put(&mut g.pipeline, "source", env.get("GITHUB_EVENT_NAME"));
    put(&mut g.pipeline, "name", workflow);
    put(&mut g.pipeline, "number", env.get("GITHUB_RUN_NUMBER"));

    // Pull-request runs check out `refs/pull/<number>/merge`.
    let pr_number = env
        .get("GITHUB_REF")
        .and_then(|r| r.strip_prefix("refs/pull/"))
        .and_then(|r| r.split('/').next());
    put(&mut g.merge_request, "id", pr_number);
    if let (Some(repo), Some(number)) = (repo, pr_number) {
        put(
            &mut g.merge_request,
            "url",
            Some(url::join(server, &format!("{repo}/pull/{number}"))),
        );
    }
    put(
        &mut g.merge_request,
        "source_branch",
        env.get("GITHUB_HEAD_REF"),
    );
    put(
        &mut g.merge_request,
        "target_branch",
        env.get("GITHUB_BASE_REF"),
    );

    put(&mut g.commit, "sha", env.get("GITHUB_SHA"));
    if env.get("GITHUB_REF_TYPE") == Some("tag") {
        put(&mut g.commit, "tag", env.get("GITHUB_REF_NAME"));
    }

    put(&mut g.server, "url", Some(server));
    put(&mut g.runner, "name", env.get("RUNNER_NAME"));
    put(&mut g.runner, "os", env.get("RUNNER_OS"));
    put(&mut g.runner, "arch", env.get("RUNNER_ARCH"));
    put(&mut g.runner, "description", env.get("RUNNER_ENVIRONMENT"));
    put(&mut g.project, "id", env.get("GITHUB_REPOSITORY_ID"));
    if let Some(repo) = repo {
        let project_url = url::join(server, repo);
        put(
            &mut g.project,
            "repository_url",
            Some(format!("{project_url}.git")),
        );
        put(&mut g.project, "url", Some(project_url));
    }
}
