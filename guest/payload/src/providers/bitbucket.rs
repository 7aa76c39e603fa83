//! Bitbucket Pipelines.
//!
//! The status comes from `BITBUCKET_EXIT_CODE`, set for `after-script`: `0` is `success`,
//! anything else `failed`. The pipeline is identified by its build number, which is also what
//! Bitbucket's result URL uses; its UUID goes to `metadata.pipeline.uuid`. Bitbucket exposes no
//! step name: `job_name` is empty unless `EXLOGARE_JOB_NAME` is set.

use crate::env::Env;
use crate::job::{Job, put, text};
use crate::status;

/// Every variable this module reads.
pub(crate) const VARS: &[&str] = &[
    "BITBUCKET_BUILD_NUMBER",
    "BITBUCKET_EXIT_CODE",
    "BITBUCKET_REPO_FULL_NAME",
    "BITBUCKET_REPO_UUID",
    "BITBUCKET_GIT_HTTP_ORIGIN",
    "BITBUCKET_PIPELINE_UUID",
    "BITBUCKET_STEP_UUID",
    "BITBUCKET_BRANCH",
    "BITBUCKET_COMMIT",
    "BITBUCKET_TAG",
    "BITBUCKET_PR_ID",
    "BITBUCKET_PR_DESTINATION_BRANCH",
    "BITBUCKET_PARALLEL_STEP",
    "BITBUCKET_PARALLEL_STEP_COUNT",
    "BITBUCKET_DEPLOYMENT_ENVIRONMENT",
];

/// Bitbucket sets `BITBUCKET_BUILD_NUMBER` in every step.
pub(crate) fn detected(env: &Env) -> bool {
    env.get("BITBUCKET_BUILD_NUMBER").is_some()
}

/// From the step's exit code.
pub(crate) fn status(env: &Env) -> Option<String> {
    env.get("BITBUCKET_EXIT_CODE")
        .and_then(status::from_exit_code)
}

/// Fills the fields and metadata.
pub(crate) fn read(env: &Env, job: &mut Job) {
    let repo = env.get("BITBUCKET_REPO_FULL_NAME");
    let build = env.get("BITBUCKET_BUILD_NUMBER");
    let step = env.get("BITBUCKET_STEP_UUID");
    let results_url = match (repo, build) {
        (Some(repo), Some(build)) => Some(format!(
            "https://bitbucket.org/{repo}/pipelines/results/{build}"
        )),
        _ => None,
    };

    let f = &mut job.fields;
    f.project = text(repo);
    f.pipeline_id = text(build);
    f.job_id = text(step);
    f.branch = text(env.get("BITBUCKET_BRANCH"));
    f.commit_sha = text(env.get("BITBUCKET_COMMIT"));
    f.pipeline_url = results_url.clone().unwrap_or_default();

    let g = &mut job.groups;
    if let (Some(results), Some(step)) = (&results_url, step) {
        put(&mut g.job, "url", Some(format!("{results}/steps/{step}")));
    }
    put(&mut g.job, "node_index", env.get("BITBUCKET_PARALLEL_STEP"));
    put(
        &mut g.job,
        "node_total",
        env.get("BITBUCKET_PARALLEL_STEP_COUNT"),
    );
    put(
        &mut g.job,
        "environment",
        env.get("BITBUCKET_DEPLOYMENT_ENVIRONMENT"),
    );
    put(&mut g.pipeline, "uuid", env.get("BITBUCKET_PIPELINE_UUID"));

    let pr = env.get("BITBUCKET_PR_ID");
    if pr.is_some() {
        put(&mut g.merge_request, "id", pr);
        put(
            &mut g.merge_request,
            "source_branch",
            env.get("BITBUCKET_BRANCH"),
        );
        put(
            &mut g.merge_request,
            "target_branch",
            env.get("BITBUCKET_PR_DESTINATION_BRANCH"),
        );
        if let Some(repo) = repo {
            put(
                &mut g.merge_request,
                "url",
                pr.map(|id| format!("https://bitbucket.org/{repo}/pull-requests/{id}")),
            );
        }
    }

    put(&mut g.commit, "sha", env.get("BITBUCKET_COMMIT"));
    put(&mut g.commit, "tag", env.get("BITBUCKET_TAG"));
    put(&mut g.project, "id", env.get("BITBUCKET_REPO_UUID"));
    if let Some(repo) = repo {
        put(
            &mut g.project,
            "url",
            Some(format!("https://bitbucket.org/{repo}")),
        );
    }
    put(
        &mut g.project,
        "repository_url",
        env.get("BITBUCKET_GIT_HTTP_ORIGIN"),
    );
}
