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
    /// How the sent log was chosen when it did not fit its budget (`metadata.log.selection`).
    pub selection: Option<Manifest>,
    /// The small failure excerpt sent beside the log (`metadata.failure_excerpt`).
    pub excerpt: Option<FailureExcerpt>,
    /// Characters neutralised in the sent text (`metadata.log.neutralised`).
    pub neutralised: Neutralised,
}

/// Kept lines `first..=last` of the cleaned, redacted log, and why they were kept.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct KeptRange {
    /// First line (1-based).
    pub first: u64,
    /// Last line.
    pub last: u64,
    /// Why (`error`, `stack-trace`, `tail`, ...).
    pub reason: String,
    /// Lines of the range shown only as a repeat (`[×N]`).
    pub collapsed_lines: u64,
    /// Bytes cut from the middle of long lines in the range.
    pub cut_bytes: u64,
}

/// What a selection of the log kept and left out.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct Manifest {
    /// The budget it was chosen for, in bytes.
    pub budget: u64,
    /// Lines of the whole (cleaned, redacted) log.
    pub total_lines: u64,
    /// Bytes of the whole log.
    pub total_bytes: u64,
    /// Bytes outside every kept range.
    pub omitted_bytes: u64,
    /// Lines outside every kept range.
    pub omitted_lines: u64,
    /// The kept ranges, in log order (at most [`MAX_RANGES`]; see `ranges_left_out`).
    pub ranges: Vec<KeptRange>,
    /// Ranges not listed because there were more than [`MAX_RANGES`].
    #[serde(skip_serializing_if = "is_zero")]
    pub ranges_left_out: u64,
}

/// The most ranges listed in one manifest; the metadata must stay small.
pub const MAX_RANGES: usize = 2000;

fn is_zero(n: &u64) -> bool {
    *n == 0
}

impl Manifest {
    /// Keeps at most [`MAX_RANGES`] ranges (the last ones, where failures are), counting the rest.
    pub fn capped(mut self) -> Manifest {
        if self.ranges.len() > MAX_RANGES {
            let drop = self.ranges.len() - MAX_RANGES;
            self.ranges.drain(..drop);
            self.ranges_left_out += drop as u64;
        }
        self
    }
}

/// The failure excerpt: a few KiB of the log that explain the failure, and their manifest.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FailureExcerpt {
    /// The kept lines with markers where lines were left out.
    pub text: String,
    /// What was kept and why.
    pub manifest: Manifest,
}

/// Characters replaced by a visible `<U+XXXX>` marker in the sent text.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct Neutralised {
    /// Bidi controls.
    pub bidi: u64,
    /// Zero-width and invisible characters.
    pub zero_width: u64,
    /// Other control characters.
    pub control: u64,
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
