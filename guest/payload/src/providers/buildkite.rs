//! Buildkite.
//!
//! The status comes from `BUILDKITE_COMMAND_EXIT_STATUS`, which the agent sets for
//! `post-command` hooks: `0` is `success`, anything else `failed`. `project` is
//! `organization/pipeline`, the path in Buildkite URLs.

use crate::env::Env;
use crate::job::{Job, first_line, put, text};
use crate::status;

/// Every variable this module reads.
pub(crate) const VARS: &[&str] = &[
    "BUILDKITE",
    "BUILDKITE_COMMAND_EXIT_STATUS",
    "BUILDKITE_ORGANIZATION_SLUG",
    "BUILDKITE_PIPELINE_SLUG",
    "BUILDKITE_PIPELINE_NAME",
    "BUILDKITE_PIPELINE_ID",
    "BUILDKITE_PIPELINE_DEFAULT_BRANCH",
    "BUILDKITE_BUILD_ID",
    "BUILDKITE_BUILD_NUMBER",
    "BUILDKITE_BUILD_URL",
    "BUILDKITE_BUILD_AUTHOR",
    "BUILDKITE_BUILD_AUTHOR_EMAIL",
    "BUILDKITE_JOB_ID",
    "BUILDKITE_LABEL",
    "BUILDKITE_RETRY_COUNT",
    "BUILDKITE_PARALLEL_JOB",
    "BUILDKITE_PARALLEL_JOB_COUNT",
    "BUILDKITE_SOURCE",
    "BUILDKITE_BRANCH",
    "BUILDKITE_COMMIT",
    "BUILDKITE_MESSAGE",
    "BUILDKITE_TAG",
    "BUILDKITE_PULL_REQUEST",
    "BUILDKITE_PULL_REQUEST_BASE_BRANCH",
    "BUILDKITE_REPO",
    "BUILDKITE_AGENT_ID",
    "BUILDKITE_AGENT_NAME",
];

/// The agent sets `BUILDKITE=true`.
pub(crate) fn detected(env: &Env) -> bool {
    env.is_true("BUILDKITE")
}

/// From the command's exit status.
pub(crate) fn status(env: &Env) -> Option<String> {
    env.get("BUILDKITE_COMMAND_EXIT_STATUS")
        .and_then(status::from_exit_code)
}

/// Fills the fields and metadata.
pub(crate) fn read(env: &Env, job: &mut Job) {
    let build_url = env.get("BUILDKITE_BUILD_URL");
    let job_id = env.get("BUILDKITE_JOB_ID");
    let f = &mut job.fields;
    f.project = match (
        env.get("BUILDKITE_ORGANIZATION_SLUG"),
        env.get("BUILDKITE_PIPELINE_SLUG"),
    ) {
        (Some(org), Some(pipeline)) => format!("{org}/{pipeline}"),
        (org, pipeline) => text(pipeline.or(org)),
    };
    f.pipeline_id = text(env.get("BUILDKITE_BUILD_ID"));
    f.job_id = text(job_id);
    f.job_name = text(env.get("BUILDKITE_LABEL"));
    f.branch = text(env.get("BUILDKITE_BRANCH"));
    f.commit_sha = text(env.get("BUILDKITE_COMMIT"));
    f.pipeline_url = text(build_url);

    let g = &mut job.groups;
    if let (Some(build_url), Some(job_id)) = (build_url, job_id) {
        put(&mut g.job, "url", Some(format!("{build_url}#{job_id}")));
    }
    put(&mut g.job, "attempt", env.get("BUILDKITE_RETRY_COUNT"));
    put(&mut g.job, "node_index", env.get("BUILDKITE_PARALLEL_JOB"));
    put(
        &mut g.job,
        "node_total",
        env.get("BUILDKITE_PARALLEL_JOB_COUNT"),
    );
    put(&mut g.pipeline, "source", env.get("BUILDKITE_SOURCE"));
    put(&mut g.pipeline, "name", env.get("BUILDKITE_PIPELINE_NAME"));
    put(&mut g.pipeline, "number", env.get("BUILDKITE_BUILD_NUMBER"));

    // `BUILDKITE_PULL_REQUEST` is the number, or `false` outside pull requests.
    let pr = env
        .get("BUILDKITE_PULL_REQUEST")
        .filter(|v| !v.eq_ignore_ascii_case("false"));
    if pr.is_some() {
        put(&mut g.merge_request, "id", pr);
        put(
            &mut g.merge_request,
            "source_branch",
            env.get("BUILDKITE_BRANCH"),
        );
        put(
            &mut g.merge_request,
            "target_branch",
            env.get("BUILDKITE_PULL_REQUEST_BASE_BRANCH"),
        );
    }

    put(&mut g.commit, "sha", env.get("BUILDKITE_COMMIT"));
    put(
        &mut g.commit,
        "title",
        env.get("BUILDKITE_MESSAGE").map(first_line),
    );
    let author = match (
        env.get("BUILDKITE_BUILD_AUTHOR"),
        env.get("BUILDKITE_BUILD_AUTHOR_EMAIL"),
    ) {
        (Some(name), Some(email)) => Some(format!("{name} <{email}>")),
        (name, email) => name.or(email).map(str::to_string),
    };
    put(&mut g.commit, "author", author);
    put(&mut g.commit, "tag", env.get("BUILDKITE_TAG"));

    put(&mut g.runner, "id", env.get("BUILDKITE_AGENT_ID"));
    put(&mut g.runner, "name", env.get("BUILDKITE_AGENT_NAME"));
    put(&mut g.project, "id", env.get("BUILDKITE_PIPELINE_ID"));
    put(
        &mut g.project,
        "default_branch",
        env.get("BUILDKITE_PIPELINE_DEFAULT_BRANCH"),
    );
    put(&mut g.project, "repository_url", env.get("BUILDKITE_REPO"));
}
