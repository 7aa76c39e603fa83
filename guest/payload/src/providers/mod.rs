//! CI providers: which one runs this job, and what its variables say.
//!
//! One module per provider, each with the list of variables it reads (`VARS`), how it is
//! detected, where its job status comes from, and how its variables fill the documented fields
//! and the metadata groups. This module picks the provider and applies the `EXLOGARE_*`
//! overrides, which work the same for every provider (and are all the generic mode has).

mod azure;
mod bitbucket;
mod buildkite;
mod circleci;
mod github;
mod gitlab;
mod jenkins;

use crate::env::{Env, looks_secret};
use crate::job::{Job, text};
use crate::status;
use crate::url;

/// The CI systems the payload knows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Provider {
    GitlabCi,
    GithubActions,
    Buildkite,
    Circleci,
    Jenkins,
    AzurePipelines,
    BitbucketPipelines,
    Generic,
}

/// Variables that override what a provider says, for every provider (`generic` reads only
/// these). `EXLOGARE_PROVIDER` picks the provider instead of detecting it.
const OVERRIDES: &[&str] = &[
    "EXLOGARE_PROVIDER",
    "EXLOGARE_PROJECT",
    "EXLOGARE_PIPELINE_ID",
    "EXLOGARE_JOB_ID",
    "EXLOGARE_JOB_NAME",
    "EXLOGARE_JOB_STATUS",
    "EXLOGARE_BRANCH",
    "EXLOGARE_COMMIT_SHA",
    "EXLOGARE_PIPELINE_URL",
];

impl Provider {
    /// Every provider, in detection order (Jenkins last: its variables are the most generic).
    const DETECTION_ORDER: [Provider; 7] = [
        Provider::GitlabCi,
        Provider::GithubActions,
        Provider::Buildkite,
        Provider::Circleci,
        Provider::AzurePipelines,
        Provider::BitbucketPipelines,
        Provider::Jenkins,
    ];

    /// The name sent in the `provider` field.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Provider::GitlabCi => "gitlab_ci",
            Provider::GithubActions => "github_actions",
            Provider::Buildkite => "buildkite",
            Provider::Circleci => "circleci",
            Provider::Jenkins => "jenkins",
            Provider::AzurePipelines => "azure_pipelines",
            Provider::BitbucketPipelines => "bitbucket_pipelines",
            Provider::Generic => "generic",
        }
    }

    /// `EXLOGARE_PROVIDER` when set (an unknown name means generic), else the first provider
    /// whose marker variables are present, else generic.
    pub(crate) fn detect(env: &Env) -> Provider {
        if let Some(name) = env.get("EXLOGARE_PROVIDER") {
            let name = name.trim();
            return Self::DETECTION_ORDER
                .into_iter()
                .find(|p| p.name().eq_ignore_ascii_case(name))
                .unwrap_or(Provider::Generic);
        }
        Self::DETECTION_ORDER
            .into_iter()
            .find(|p| p.detected(env))
            .unwrap_or(Provider::Generic)
    }

    /// Whether this provider's marker variables are present.
    fn detected(self, env: &Env) -> bool {
        match self {
            Provider::GitlabCi => gitlab::detected(env),
            Provider::GithubActions => github::detected(env),
            Provider::Buildkite => buildkite::detected(env),
            Provider::Circleci => circleci::detected(env),
            Provider::Jenkins => jenkins::detected(env),
            Provider::AzurePipelines => azure::detected(env),
            Provider::BitbucketPipelines => bitbucket::detected(env),
            Provider::Generic => false,
        }
    }

    /// The job status: `EXLOGARE_JOB_STATUS` when set, else the provider's own, if any.
    pub(crate) fn status(self, env: &Env) -> Option<String> {
        if let Some(status) = env.get("EXLOGARE_JOB_STATUS").and_then(status::normalize) {
            return Some(status);
        }
        match self {
            Provider::GitlabCi => gitlab::status(env),
            Provider::Buildkite => buildkite::status(env),
            Provider::Jenkins => jenkins::status(env),
            Provider::AzurePipelines => azure::status(env),
            Provider::BitbucketPipelines => bitbucket::status(env),
            Provider::GithubActions | Provider::Circleci | Provider::Generic => None,
        }
    }

    /// Reads everything the payload needs from the variables.
    pub(crate) fn read(self, env: &Env) -> Job {
        let mut job = Job::default();
        match self {
            Provider::GitlabCi => gitlab::read(env, &mut job),
            Provider::GithubActions => github::read(env, &mut job),
            Provider::Buildkite => buildkite::read(env, &mut job),
            Provider::Circleci => circleci::read(env, &mut job),
            Provider::Jenkins => jenkins::read(env, &mut job),
            Provider::AzurePipelines => azure::read(env, &mut job),
            Provider::BitbucketPipelines => bitbucket::read(env, &mut job),
            Provider::Generic => {}
        }
        job.fields.status = self.status(env);
        apply_overrides(env, &mut job);
        job.fields.pipeline_url = url::strip_userinfo(&job.fields.pipeline_url);
        job
    }
}

/// `EXLOGARE_<FIELD>` wins over what the provider said.
fn apply_overrides(env: &Env, job: &mut Job) {
    let f = &mut job.fields;
    for (name, field) in [
        ("EXLOGARE_PROJECT", &mut f.project),
        ("EXLOGARE_PIPELINE_ID", &mut f.pipeline_id),
        ("EXLOGARE_JOB_ID", &mut f.job_id),
        ("EXLOGARE_JOB_NAME", &mut f.job_name),
        ("EXLOGARE_BRANCH", &mut f.branch),
        ("EXLOGARE_COMMIT_SHA", &mut f.commit_sha),
        ("EXLOGARE_PIPELINE_URL", &mut f.pipeline_url),
    ] {
        if let Some(value) = env.get(name) {
            *field = text(Some(value));
        }
    }
}

/// Whether the payload reads the variable `name`: the host passes only these (and never one
/// whose name looks secret, which this also refuses).
pub fn wanted_env(name: &str) -> bool {
    !looks_secret(name)
        && [
            OVERRIDES,
            gitlab::VARS,
            github::VARS,
            buildkite::VARS,
            circleci::VARS,
            jenkins::VARS,
            azure::VARS,
            bitbucket::VARS,
        ]
        .iter()
        .any(|vars| vars.contains(&name))
}

/// Every variable any provider reads (for tests and documentation).
pub fn all_wanted_env() -> Vec<&'static str> {
    [
        OVERRIDES,
        gitlab::VARS,
        github::VARS,
        buildkite::VARS,
        circleci::VARS,
        jenkins::VARS,
        azure::VARS,
        bitbucket::VARS,
    ]
    .concat()
}
