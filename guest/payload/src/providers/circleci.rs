//! CircleCI.
//!
//! CircleCI gives no job status to a step (it runs `when: on_fail` steps instead): users pass
//! `EXLOGARE_JOB_STATUS`. The pipeline is the workflow (`CIRCLE_WORKFLOW_ID`), the job its
//! build number (`CIRCLE_BUILD_NUM`, the number in job URLs).

use crate::env::Env;
use crate::job::{Job, put, text};

/// Every variable this module reads.
pub(crate) const VARS: &[&str] = &[
    "CIRCLECI",
    "CIRCLE_PROJECT_USERNAME",
    "CIRCLE_PROJECT_REPONAME",
    "CIRCLE_WORKFLOW_ID",
    "CIRCLE_BUILD_NUM",
    "CIRCLE_BUILD_URL",
    "CIRCLE_JOB",
    "CIRCLE_BRANCH",
    "CIRCLE_SHA1",
    "CIRCLE_TAG",
    "CIRCLE_PULL_REQUEST",
    "CIRCLE_PR_NUMBER",
    "CIRCLE_NODE_INDEX",
    "CIRCLE_NODE_TOTAL",
    "CIRCLE_REPOSITORY_URL",
];

/// CircleCI sets `CIRCLECI=true`.
pub(crate) fn detected(env: &Env) -> bool {
    env.is_true("CIRCLECI")
}

/// Fills the fields and metadata.
pub(crate) fn read(env: &Env, job: &mut Job) {
    let workflow = env.get("CIRCLE_WORKFLOW_ID");
    let f = &mut job.fields;
    f.project = match (
        env.get("CIRCLE_PROJECT_USERNAME"),
        env.get("CIRCLE_PROJECT_REPONAME"),
    ) {
        (Some(owner), Some(repo)) => format!("{owner}/{repo}"),
        (owner, repo) => text(repo.or(owner)),
    };
    f.pipeline_id = text(workflow);
    f.job_id = text(env.get("CIRCLE_BUILD_NUM"));
    f.job_name = text(env.get("CIRCLE_JOB"));
    f.branch = text(env.get("CIRCLE_BRANCH"));
    f.commit_sha = text(env.get("CIRCLE_SHA1"));
    if let Some(workflow) = workflow {
        f.pipeline_url = format!("https://app.circleci.com/pipelines/workflows/{workflow}");
    }

    let g = &mut job.groups;
    put(&mut g.job, "url", env.get("CIRCLE_BUILD_URL"));
    put(&mut g.job, "node_index", env.get("CIRCLE_NODE_INDEX"));
    put(&mut g.job, "node_total", env.get("CIRCLE_NODE_TOTAL"));

    let pr_url = env.get("CIRCLE_PULL_REQUEST");
    let pr_number = env
        .get("CIRCLE_PR_NUMBER")
        .or_else(|| pr_url.and_then(|u| u.rsplit('/').next()));
    put(&mut g.merge_request, "id", pr_number);
    put(&mut g.merge_request, "url", pr_url);
    if pr_url.is_some() {
        put(
            &mut g.merge_request,
            "source_branch",
            env.get("CIRCLE_BRANCH"),
        );
    }

    put(&mut g.commit, "sha", env.get("CIRCLE_SHA1"));
    put(&mut g.commit, "tag", env.get("CIRCLE_TAG"));
    put(
        &mut g.project,
        "repository_url",
        env.get("CIRCLE_REPOSITORY_URL"),
    );
}
