//! Azure Pipelines.
//!
//! The status is `AGENT_JOBSTATUS` (`Succeeded`, `SucceededWithIssues`, `Failed`, `Canceled`,
//! `Skipped`). `project` is the repository name (`owner/repo` for GitHub repositories), and the
//! branch is the full `BUILD_SOURCEBRANCH` without `refs/heads/` (`BUILD_SOURCEBRANCHNAME` keeps
//! only its last segment, `feature/x` becoming `x`); for pull requests, the source branch.

use crate::env::Env;
use crate::job::{Job, first_line, put, short_ref, text};
use crate::status;
use crate::url;

/// Every variable this module reads.
pub(crate) const VARS: &[&str] = &[
    "TF_BUILD",
    "AGENT_JOBSTATUS",
    "BUILD_REPOSITORY_NAME",
    "BUILD_REPOSITORY_URI",
    "BUILD_REPOSITORY_ID",
    "BUILD_BUILDID",
    "BUILD_BUILDNUMBER",
    "BUILD_DEFINITIONNAME",
    "BUILD_REASON",
    "BUILD_SOURCEBRANCH",
    "BUILD_SOURCEVERSION",
    "BUILD_SOURCEVERSIONMESSAGE",
    "BUILD_SOURCEVERSIONAUTHOR",
    "SYSTEM_TEAMPROJECT",
    "SYSTEM_COLLECTIONURI",
    "SYSTEM_JOBID",
    "SYSTEM_JOBDISPLAYNAME",
    "SYSTEM_JOBNAME",
    "SYSTEM_JOBATTEMPT",
    "SYSTEM_STAGEDISPLAYNAME",
    "SYSTEM_JOBPOSITIONINPHASE",
    "SYSTEM_TOTALJOBSINPHASE",
    "SYSTEM_PULLREQUEST_PULLREQUESTID",
    "SYSTEM_PULLREQUEST_PULLREQUESTNUMBER",
    "SYSTEM_PULLREQUEST_SOURCEBRANCH",
    "SYSTEM_PULLREQUEST_TARGETBRANCH",
    "SYSTEM_PULLREQUEST_SOURCECOMMITID",
    "AGENT_ID",
    "AGENT_NAME",
    "AGENT_OS",
    "AGENT_OSARCHITECTURE",
    "AGENT_VERSION",
];

/// Azure Pipelines sets `TF_BUILD=True`.
pub(crate) fn detected(env: &Env) -> bool {
    env.is_true("TF_BUILD")
}

/// `AGENT_JOBSTATUS`.
pub(crate) fn status(env: &Env) -> Option<String> {
    env.get("AGENT_JOBSTATUS").and_then(status::normalize)
}

/// Fills the fields and metadata.
pub(crate) fn read(env: &Env, job: &mut Job) {
    let build_id = env.get("BUILD_BUILDID");
    let job_id = env.get("SYSTEM_JOBID");
    let source_branch = env.get("BUILD_SOURCEBRANCH");
    let pr_source = env.get("SYSTEM_PULLREQUEST_SOURCEBRANCH");
    let results_url = match (
        env.get("SYSTEM_COLLECTIONURI"),
        env.get("SYSTEM_TEAMPROJECT"),
        build_id,
    ) {
        (Some(collection), Some(project), Some(build)) => Some(url::join(
            collection,
            &format!(
                "{}/_build/results?buildId={build}",
                url::encode_segment(project)
            ),
        )),
        _ => None,
    };

    let f = &mut job.fields;
    f.project = text(env.first(&["BUILD_REPOSITORY_NAME", "SYSTEM_TEAMPROJECT"]));
    f.pipeline_id = text(build_id);
    f.job_id = text(job_id);
    f.job_name = text(env.first(&["SYSTEM_JOBDISPLAYNAME", "SYSTEM_JOBNAME"]));
    f.branch = text(pr_source.or(source_branch).map(short_ref));
    f.commit_sha = text(env.get("BUILD_SOURCEVERSION"));
    f.pipeline_url = results_url.clone().unwrap_or_default();

    let g = &mut job.groups;
    if let (Some(results), Some(job_id)) = (&results_url, job_id) {
        put(
            &mut g.job,
            "url",
            Some(format!("{results}&view=logs&j={job_id}")),
        );
    }
    put(&mut g.job, "stage", env.get("SYSTEM_STAGEDISPLAYNAME"));
    put(&mut g.job, "attempt", env.get("SYSTEM_JOBATTEMPT"));
    put(
        &mut g.job,
        "node_index",
        env.get("SYSTEM_JOBPOSITIONINPHASE"),
    );
    put(&mut g.job, "node_total", env.get("SYSTEM_TOTALJOBSINPHASE"));
    put(&mut g.pipeline, "source", env.get("BUILD_REASON"));
    put(&mut g.pipeline, "name", env.get("BUILD_DEFINITIONNAME"));
    put(&mut g.pipeline, "number", env.get("BUILD_BUILDNUMBER"));

    let mr = &mut g.merge_request;
    put(
        mr,
        "id",
        env.first(&[
            "SYSTEM_PULLREQUEST_PULLREQUESTNUMBER",
            "SYSTEM_PULLREQUEST_PULLREQUESTID",
        ]),
    );
    put(mr, "source_branch", pr_source.map(short_ref));
    put(
        mr,
        "target_branch",
        env.get("SYSTEM_PULLREQUEST_TARGETBRANCH").map(short_ref),
    );
    put(
        mr,
        "source_sha",
        env.get("SYSTEM_PULLREQUEST_SOURCECOMMITID"),
    );

    put(&mut g.commit, "sha", env.get("BUILD_SOURCEVERSION"));
    put(
        &mut g.commit,
        "title",
        env.get("BUILD_SOURCEVERSIONMESSAGE").map(first_line),
    );
    put(
        &mut g.commit,
        "author",
        env.get("BUILD_SOURCEVERSIONAUTHOR"),
    );
    put(
        &mut g.commit,
        "tag",
        source_branch.and_then(|b| b.strip_prefix("refs/tags/")),
    );

    put(&mut g.server, "url", env.get("SYSTEM_COLLECTIONURI"));
    put(&mut g.runner, "id", env.get("AGENT_ID"));
    put(&mut g.runner, "name", env.get("AGENT_NAME"));
    put(&mut g.runner, "os", env.get("AGENT_OS"));
    put(&mut g.runner, "arch", env.get("AGENT_OSARCHITECTURE"));
    put(&mut g.runner, "version", env.get("AGENT_VERSION"));
    put(&mut g.project, "id", env.get("BUILD_REPOSITORY_ID"));
    put(&mut g.project, "namespace", env.get("SYSTEM_TEAMPROJECT"));
    put(
        &mut g.project,
        "repository_url",
        env.get("BUILD_REPOSITORY_URI"),
    );
}
