//! Jenkins.
//!
//! Jenkins has no status variable: users pass `EXLOGARE_JOB_STATUS` (e.g. from
//! `currentBuild.currentResult`: `SUCCESS`, `UNSTABLE`, `FAILURE`, `NOT_BUILT`, `ABORTED`), or
//! set `BUILD_RESULT`, which is read as a fallback. A Jenkins build is one job, so
//! `pipeline_id` is the build number and `job_id` the build id (the same number in current
//! Jenkins). `project` is the full job name (`folder/job`, or `org/repo/branch` in multibranch
//! pipelines).

use crate::env::Env;
use crate::job::{Job, put, text};
use crate::status;

/// Every variable this module reads.
pub(crate) const VARS: &[&str] = &[
    "JENKINS_URL",
    "BUILD_ID",
    "BUILD_NUMBER",
    "BUILD_URL",
    "BUILD_RESULT",
    "JOB_NAME",
    "JOB_BASE_NAME",
    "STAGE_NAME",
    "BRANCH_NAME",
    "GIT_BRANCH",
    "GIT_COMMIT",
    "GIT_URL",
    "TAG_NAME",
    "CHANGE_ID",
    "CHANGE_TITLE",
    "CHANGE_URL",
    "CHANGE_BRANCH",
    "CHANGE_TARGET",
    "NODE_NAME",
    "NODE_LABELS",
];

/// Jenkins sets `JENKINS_URL` (when configured), and always `BUILD_ID` with `JOB_NAME`.
pub(crate) fn detected(env: &Env) -> bool {
    env.get("JENKINS_URL").is_some()
        || (env.get("BUILD_ID").is_some() && env.get("JOB_NAME").is_some())
}

/// From `BUILD_RESULT`, when the pipeline sets it.
pub(crate) fn status(env: &Env) -> Option<String> {
    env.get("BUILD_RESULT").and_then(status::normalize)
}

/// Fills the fields and metadata.
pub(crate) fn read(env: &Env, job: &mut Job) {
    let f = &mut job.fields;
    f.project = text(env.get("JOB_NAME"));
    f.pipeline_id = text(env.first(&["BUILD_NUMBER", "BUILD_ID"]));
    f.job_id = text(env.first(&["BUILD_ID", "BUILD_NUMBER"]));
    f.job_name = text(env.first(&["STAGE_NAME", "JOB_BASE_NAME", "JOB_NAME"]));
    // `GIT_BRANCH` is `origin/main` with the git plugin; `BRANCH_NAME` is `PR-12` for pull
    // requests, whose real branch is `CHANGE_BRANCH`.
    let git_branch = env
        .get("GIT_BRANCH")
        .map(|b| b.strip_prefix("origin/").unwrap_or(b));
    f.branch = text(env.first(&["CHANGE_BRANCH", "BRANCH_NAME"]).or(git_branch));
    f.commit_sha = text(env.get("GIT_COMMIT"));
    f.pipeline_url = text(env.get("BUILD_URL"));

    let g = &mut job.groups;
    put(&mut g.job, "url", env.get("BUILD_URL"));
    put(&mut g.job, "stage", env.get("STAGE_NAME"));
    put(&mut g.pipeline, "name", env.get("JOB_NAME"));
    put(&mut g.pipeline, "number", env.get("BUILD_NUMBER"));

    put(&mut g.merge_request, "id", env.get("CHANGE_ID"));
    put(&mut g.merge_request, "title", env.get("CHANGE_TITLE"));
    put(&mut g.merge_request, "url", env.get("CHANGE_URL"));
    put(
        &mut g.merge_request,
        "source_branch",
        env.get("CHANGE_BRANCH"),
    );
    put(
        &mut g.merge_request,
        "target_branch",
        env.get("CHANGE_TARGET"),
    );

    put(&mut g.commit, "sha", env.get("GIT_COMMIT"));
    put(&mut g.commit, "tag", env.get("TAG_NAME"));

    put(&mut g.server, "url", env.get("JENKINS_URL"));
    put(&mut g.runner, "name", env.get("NODE_NAME"));
    put(&mut g.runner, "tags", env.get("NODE_LABELS"));
    put(&mut g.project, "repository_url", env.get("GIT_URL"));
}
