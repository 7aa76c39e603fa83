//! GitLab CI: the provider the product was made for, read in full.
//!
//! Choices worth knowing:
//! - `branch` is `CI_COMMIT_REF_NAME` (the branch, the tag, or in merge-request pipelines the
//!   source branch), else `CI_COMMIT_BRANCH`, else `CI_MERGE_REQUEST_SOURCE_BRANCH_NAME`.
//! - `commit_sha` is `CI_COMMIT_SHA`, the commit that was built. In a merged-results pipeline
//!   that is a temporary merge commit; the author's commit is
//!   `CI_MERGE_REQUEST_SOURCE_BRANCH_SHA`, sent as `metadata.merge_request.source_sha` (with
//!   `metadata.commit.sha` repeating the built one and `merge_request.event_type` telling which
//!   kind of pipeline it was).
//! - `CI_REPOSITORY_URL` embeds `gitlab-ci-token:<job token>@`: it is sent without it.

use crate::env::Env;
use crate::job::{Job, first_line, put, text};
use crate::status;
use crate::url;

/// Every variable this module reads.
pub(crate) const VARS: &[&str] = &[
    "GITLAB_CI",
    "CI_JOB_STATUS",
    "CI_PROJECT_PATH",
    "CI_PIPELINE_ID",
    "CI_JOB_ID",
    "CI_JOB_NAME",
    "CI_COMMIT_REF_NAME",
    "CI_COMMIT_BRANCH",
    "CI_MERGE_REQUEST_SOURCE_BRANCH_NAME",
    "CI_COMMIT_SHA",
    "CI_PIPELINE_URL",
    "CI_JOB_URL",
    "CI_JOB_STAGE",
    "CI_JOB_STARTED_AT",
    "CI_JOB_IMAGE",
    "CI_NODE_INDEX",
    "CI_NODE_TOTAL",
    "CI_ENVIRONMENT_NAME",
    "CI_PIPELINE_SOURCE",
    "CI_PIPELINE_NAME",
    "CI_PIPELINE_IID",
    "CI_PIPELINE_CREATED_AT",
    "CI_MERGE_REQUEST_IID",
    "CI_MERGE_REQUEST_TITLE",
    "CI_MERGE_REQUEST_PROJECT_URL",
    "CI_MERGE_REQUEST_EVENT_TYPE",
    "CI_MERGE_REQUEST_TARGET_BRANCH_NAME",
    "CI_MERGE_REQUEST_SOURCE_BRANCH_SHA",
    "CI_MERGE_REQUEST_TARGET_BRANCH_SHA",
    "CI_COMMIT_TITLE",
    "CI_COMMIT_MESSAGE",
    "CI_COMMIT_AUTHOR",
    "CI_COMMIT_TIMESTAMP",
    "CI_COMMIT_TAG",
    "CI_SERVER_URL",
    "CI_SERVER_VERSION",
    "CI_RUNNER_ID",
    "CI_RUNNER_DESCRIPTION",
    "CI_RUNNER_TAGS",
    "CI_RUNNER_VERSION",
    "CI_PROJECT_ID",
    "CI_PROJECT_URL",
    "CI_PROJECT_NAMESPACE",
    "CI_DEFAULT_BRANCH",
    "CI_REPOSITORY_URL",
];

/// GitLab sets `GITLAB_CI=true` in every job. gitlab-ci-local (a real local runner of
/// `.gitlab-ci.yml`) sets `GITLAB_CI=false` but the rest of GitLab's variables: a `GITLAB_CI`
/// of any value together with `CI_JOB_ID` and `CI_PROJECT_PATH` is GitLab's job model too.
pub(crate) fn detected(env: &Env) -> bool {
    env.is_true("GITLAB_CI")
        || (env.get("GITLAB_CI").is_some()
            && env.get("CI_JOB_ID").is_some()
            && env.get("CI_PROJECT_PATH").is_some())
}

/// `CI_JOB_STATUS`: `success`, `failed`, `canceled` (the runner may say `timedout`).
pub(crate) fn status(env: &Env) -> Option<String> {
    env.get("CI_JOB_STATUS").and_then(status::normalize)
}

/// Fills the fields and metadata.
pub(crate) fn read(env: &Env, job: &mut Job) {
    let f = &mut job.fields;
    f.project = text(env.get("CI_PROJECT_PATH"));
    f.pipeline_id = text(env.get("CI_PIPELINE_ID"));
    f.job_id = text(env.get("CI_JOB_ID"));
    f.job_name = text(env.get("CI_JOB_NAME"));
    f.branch = text(env.first(&[
        "CI_COMMIT_REF_NAME",
        "CI_COMMIT_BRANCH",
        "CI_MERGE_REQUEST_SOURCE_BRANCH_NAME",
    ]));
    f.commit_sha = text(env.get("CI_COMMIT_SHA"));
    f.pipeline_url = text(env.get("CI_PIPELINE_URL"));

    let g = &mut job.groups;
    put(&mut g.job, "url", env.get("CI_JOB_URL"));
    put(&mut g.job, "stage", env.get("CI_JOB_STAGE"));
    put(&mut g.job, "started_at", env.get("CI_JOB_STARTED_AT"));
    put(&mut g.job, "image", env.get("CI_JOB_IMAGE"));
    put(&mut g.job, "node_index", env.get("CI_NODE_INDEX"));
    put(&mut g.job, "node_total", env.get("CI_NODE_TOTAL"));
    put(&mut g.job, "environment", env.get("CI_ENVIRONMENT_NAME"));

    put(&mut g.pipeline, "source", env.get("CI_PIPELINE_SOURCE"));
    put(&mut g.pipeline, "name", env.get("CI_PIPELINE_NAME"));
    put(&mut g.pipeline, "number", env.get("CI_PIPELINE_IID"));
    put(
        &mut g.pipeline,
        "created_at",
        env.get("CI_PIPELINE_CREATED_AT"),
    );

    let mr = &mut g.merge_request;
    let iid = env.get("CI_MERGE_REQUEST_IID");
    put(mr, "id", iid);
    put(mr, "title", env.get("CI_MERGE_REQUEST_TITLE"));
    if let (Some(project), Some(iid)) = (env.get("CI_MERGE_REQUEST_PROJECT_URL"), iid) {
        put(
            mr,
            "url",
            Some(url::join(project, &format!("-/merge_requests/{iid}"))),
        );
    }
    put(mr, "event_type", env.get("CI_MERGE_REQUEST_EVENT_TYPE"));
    put(
        mr,
        "source_branch",
        env.get("CI_MERGE_REQUEST_SOURCE_BRANCH_NAME"),
    );
    put(
        mr,
        "target_branch",
        env.get("CI_MERGE_REQUEST_TARGET_BRANCH_NAME"),
    );
    put(
        mr,
        "source_sha",
        env.get("CI_MERGE_REQUEST_SOURCE_BRANCH_SHA"),
    );
    put(
        mr,
        "target_sha",
        env.get("CI_MERGE_REQUEST_TARGET_BRANCH_SHA"),
    );

    put(&mut g.commit, "sha", env.get("CI_COMMIT_SHA"));
    let title = env
        .get("CI_COMMIT_TITLE")
        .or_else(|| env.get("CI_COMMIT_MESSAGE").map(first_line));
    put(&mut g.commit, "title", title);
    put(&mut g.commit, "author", env.get("CI_COMMIT_AUTHOR"));
    put(&mut g.commit, "timestamp", env.get("CI_COMMIT_TIMESTAMP"));
    put(&mut g.commit, "tag", env.get("CI_COMMIT_TAG"));

    put(&mut g.server, "url", env.get("CI_SERVER_URL"));
    put(&mut g.server, "version", env.get("CI_SERVER_VERSION"));

    put(&mut g.runner, "id", env.get("CI_RUNNER_ID"));
    put(
        &mut g.runner,
        "description",
        env.get("CI_RUNNER_DESCRIPTION"),
    );
    put(&mut g.runner, "tags", env.get("CI_RUNNER_TAGS"));
    put(&mut g.runner, "version", env.get("CI_RUNNER_VERSION"));

    put(&mut g.project, "id", env.get("CI_PROJECT_ID"));
    put(&mut g.project, "url", env.get("CI_PROJECT_URL"));
    put(&mut g.project, "namespace", env.get("CI_PROJECT_NAMESPACE"));
    put(
        &mut g.project,
        "default_branch",
        env.get("CI_DEFAULT_BRANCH"),
    );
    put(
        &mut g.project,
        "repository_url",
        env.get("CI_REPOSITORY_URL"),
    );
}
