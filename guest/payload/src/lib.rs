//! The body of the Exlogare ingest API request, built from CI variables.
//!
//! The body is one JSON object: the documented fields (`provider`, `project`, `pipeline_id`,
//! `job_id`, `job_name`, `status`, `branch`, `commit_sha`, `pipeline_url`), all strings and
//! always present; then one `metadata` object for everything else; then `log`, last, because it
//! is streamed. `schema/payload.schema.json` describes it and `docs/payload.md` says which
//! variable fills what for each CI provider.
//!
//! This crate is plain Rust with no I/O: the wasm guest wraps it, and the host gives it the CI
//! variables it asks for ([`wanted_env`]). The modules:
//! - `env`: safe variable lookup (blank is missing; secret-looking names are never read);
//! - `providers`: detection and one module per CI system;
//! - `job`: the shape every provider fills; `status`, `url`: small normalisations;
//! - `json`, `writer`: the streamed body.
//!
//! ```
//! use exlogare_payload::{JobInput, PayloadWriter};
//! let env = vec![
//!     ("GITLAB_CI".to_string(), "true".to_string()),
//!     ("CI_PROJECT_PATH".to_string(), "group/app".to_string()),
//!     ("CI_JOB_STATUS".to_string(), "failed".to_string()),
//! ];
//! let mut writer = PayloadWriter::new(JobInput { env, ..JobInput::default() }).unwrap();
//! let mut body = writer.open();
//! body.extend(writer.log(b"error: \"boom\"\n"));
//! body.extend(writer.close());
//! let json: serde_json::Value = serde_json::from_slice(&body).unwrap();
//! assert_eq!(json["project"], "group/app");
//! assert_eq!(json["status"], "failed");
//! assert_eq!(json["log"], "error: \"boom\"\n");
//! ```

#![warn(missing_docs)]

mod env;
mod job;
mod json;
mod providers;
mod status;
mod url;
mod writer;

pub use env::looks_secret;
pub use providers::{all_wanted_env, wanted_env};
pub use writer::{Error, MAX_HEAD_BYTES, PayloadWriter};

/// The CI provider and job status read from the CI variables.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct JobInfo {
    /// `gitlab_ci`, `github_actions`, `buildkite`, `circleci`, `jenkins`, `azure_pipelines`,
    /// `bitbucket_pipelines` or `generic`.
    pub provider: String,
    /// `success`, `failed`, `canceled`, `timedout`, `skipped`, `unstable`,
    /// `succeeded_with_issues`, or another word in lower case; `None` when nothing says.
    pub status: Option<String>,
}

/// Detects the provider from CI variables and reads its job status (normalised to
/// failed/success/canceled/timedout/... where the provider gives one).
///
/// `EXLOGARE_PROVIDER` picks the provider; `EXLOGARE_JOB_STATUS` overrides any provider's
/// status. A missing variable is never an error.
pub fn detect(env: &[(String, String)]) -> JobInfo {
    let env = env::Env::new(env);
    let provider = providers::Provider::detect(&env);
    JobInfo {
        provider: provider.name().to_string(),
        status: provider.status(&env),
    }
}

/// What the host knows about the log it sends; goes to `metadata.log`, `metadata.redactions`
/// and `metadata.redactors`.
#[derive(Clone, Debug, Default)]
pub struct LogInfo {
    /// Bytes read from the log file.
    pub bytes_read: u64,
    /// Bytes of redacted text left out by the size budget (0 when all of it is sent).
    pub bytes_omitted: u64,
    /// Bytes of invalid UTF-8 replaced by U+FFFD.
    pub invalid_utf8_bytes: u64,
    /// NUL bytes removed.
    pub nul_bytes: u64,
    /// Redactions by rule name, from every redactor (a rule listed twice is added up).
    pub redactions: Vec<(String, u64)>,
    /// The redactors that ran, in order (`name@version`).
    pub redactors: Vec<String>,
}

/// Everything the payload is built from.
#[derive(Clone, Debug, Default)]
pub struct JobInput {
    /// CI variables the host lets through (see [`wanted_env`]); others are ignored.
    pub env: Vec<(String, String)>,
    /// `--meta key=value` pairs, sent as `metadata.extra` (keys that look secret are dropped).
    pub extra: Vec<(String, String)>,
    /// The host's version, sent as `metadata.exlogare_version`.
    pub host_version: String,
    /// What the host measured about the log.
    pub log: LogInfo,
}
