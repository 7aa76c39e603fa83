//! exlogare's settings, resolved from layers, each value remembering where it came from.
//!
//! Order, lowest first: built-in defaults, the project config file (`exlogare.toml`),
//! `EXLOGARE_*` environment variables, command-line flags. `exlogare policy show` prints the
//! result with the source of each value, so "why does it do that?" has an answer.
//!
//! The system policy ([`policy`]) sits above them all, and does not win silently: it fills
//! what nobody set, and refuses, naming the lock, any layer that contradicts it.

mod layer;
pub mod policy;
mod size;

use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

pub use layer::{ENV_VARS, Layer, parse_duration};
pub use policy::{Policies, Policy, PolicyError};
pub use size::ByteSize;

/// Where a setting's value came from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Source {
    /// The built-in default.
    Default,
    /// The project config file.
    ProjectConfig(PathBuf),
    /// An environment variable.
    Env(String),
    /// A command-line flag.
    Flag(String),
    /// The system policy file.
    Policy(PathBuf),
    /// Another file that names a value, such as the endpoint recorded in a spooled payload.
    File(PathBuf),
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Source::Default => f.write_str("default"),
            Source::ProjectConfig(path) => write!(f, "project config {}", path.display()),
            Source::Env(name) => write!(f, "environment variable {name}"),
            Source::Flag(name) => write!(f, "flag {name}"),
            Source::Policy(path) => write!(f, "policy {}", path.display()),
            Source::File(path) => write!(f, "file {}", path.display()),
        }
    }
}

/// A value and its source.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Sourced<T> {
    /// The value.
    pub value: T,
    /// Where it came from.
    pub source: Source,
}

impl<T> Sourced<T> {
    fn default_value(value: T) -> Self {
        Sourced {
            value,
            source: Source::Default,
        }
    }
}

/// Which job statuses make `report` send.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum When {
    /// Send whatever the status.
    Always,
    /// Send when the status is one of these (`failed`, `canceled`, `timedout`, `success`...).
    Statuses(Vec<String>),
}

impl When {
    /// Parses `failed,canceled` or `always`.
    pub fn parse(text: &str) -> Result<When, Error> {
        let items: Vec<String> = text
            .split(',')
            .map(|s| s.trim().to_ascii_lowercase())
            .filter(|s| !s.is_empty())
            .collect();
        if items.is_empty() {
            return Err(Error::Invalid {
                setting: "when".into(),
                value: text.into(),
                expected: "a comma-separated list of job statuses, or `always`".into(),
            });
        }
        if items.iter().any(|s| s == "always") {
            return Ok(When::Always);
        }
        for item in &items {
            if !KNOWN_STATUSES.contains(&item.as_str()) {
                return Err(Error::Invalid {
                    setting: "when".into(),
                    value: text.into(),
                    expected: format!("statuses among {} or `always`", KNOWN_STATUSES.join(", ")),
                });
            }
        }
        Ok(When::Statuses(items))
    }

    /// Whether a job with `status` should be reported.
    pub fn allows(&self, status: &str) -> bool {
        match self {
            When::Always => true,
            When::Statuses(list) => list.iter().any(|s| s.eq_ignore_ascii_case(status)),
        }
    }
}

impl fmt::Display for When {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            When::Always => f.write_str("always"),
            When::Statuses(list) => f.write_str(&list.join(",")),
        }
    }
}

/// Job statuses the `when` setting accepts.
pub const KNOWN_STATUSES: &[&str] = &["failed", "canceled", "timedout", "success", "unknown"];

/// Payload compression.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Compress {
    /// Plain JSON.
    None,
    /// `Content-Encoding: gzip`.
    Gzip,
}

impl Compress {
    /// Parses `none` or `gzip`.
    pub fn parse(text: &str) -> Result<Compress, Error> {
        match text.trim().to_ascii_lowercase().as_str() {
            "" | "none" | "identity" => Ok(Compress::None),
            "gzip" => Ok(Compress::Gzip),
            _ => Err(Error::Invalid {
                setting: "compress".into(),
                value: text.into(),
                expected: "`none` or `gzip`".into(),
            }),
        }
    }
}

impl fmt::Display for Compress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Compress::None => "none",
            Compress::Gzip => "gzip",
        })
    }
}

/// The default ingest API base URL.
pub const DEFAULT_URL: &str = "https://api.exlogare.net";
/// The default size budget of the log part of a payload.
pub const DEFAULT_MAX_LOG_BYTES: u64 = 8 << 20;
/// The default cap on the bytes read from the log: far above any real job's log (a 1 GiB log
/// is read whole), low enough that a log that never ends (`/dev/zero`, a FIFO kept writing)
/// stops being read and what was read is sent.
pub const DEFAULT_MAX_READ_BYTES: u64 = 4 << 30;
/// Reading the log stops at this share of the deadline (numerator, denominator): 3/4 of the
/// default 120 s is 90 s, three times what a debug build takes for 1 GiB, and leaves 30 s to
/// build, send and if need be spool the payload.
pub const READ_SHARE_OF_DEADLINE: (u32, u32) = (3, 4);
/// The default size of the failure excerpt sent in the metadata.
pub const DEFAULT_EXCERPT_BYTES: u64 = 8 << 10;
/// The default time to establish a connection.
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// The default overall deadline: well under GitLab's 5-minute after_script timeout.
pub const DEFAULT_DEADLINE: Duration = Duration::from_secs(120);

/// The resolved settings.
#[derive(Clone, Debug)]
pub struct Settings {
    /// Base URL of the ingest API.
    pub url: Sourced<String>,
    /// The log file (`-` for standard input).
    pub log: Sourced<PathBuf>,
    /// Job statuses that make `report` send.
    pub when: Sourced<When>,
    /// Fail the job (non-zero exit) on any problem.
    pub strict: Sourced<bool>,
    /// Size budget of the log part of the payload.
    pub max_log_bytes: Sourced<ByteSize>,
    /// The most bytes read from the log; the rest is left unread, and said so.
    pub max_read_bytes: Sourced<ByteSize>,
    /// Size of the failure excerpt sent in the metadata.
    pub excerpt_bytes: Sourced<ByteSize>,
    /// Known values shorter than this are not redacted everywhere.
    pub min_secret_length: Sourced<u32>,
    /// More variable names whose values are secret.
    pub redact_vars: Sourced<Vec<String>>,
    /// A gitleaks-style rule file.
    pub rules: Sourced<Option<PathBuf>>,
    /// Redaction plugins, in order.
    pub plugins: Sourced<Vec<PathBuf>>,
    /// Keep ANSI escape codes in the log.
    pub keep_ansi: Sourced<bool>,
    /// The whole command's deadline.
    pub deadline: Sourced<Duration>,
    /// Time to establish a connection to the service (capped by the time left).
    pub connect_timeout: Sourced<Duration>,
    /// Where undelivered payloads are kept.
    pub spool_dir: Sourced<Option<PathBuf>>,
    /// Payload compression.
    pub compress: Sourced<Compress>,
    /// Extra CA certificates (PEM).
    pub ca_file: Sourced<Option<PathBuf>>,
    /// Allow plain `http://` to non-loopback hosts.
    pub allow_http: Sourced<bool>,
    /// The built-in redaction rules run. Only `true` is supported today: the key exists so a
    /// policy can lock it and a project that asks for `false` is told why not.
    pub default_rules: Sourced<bool>,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            url: Sourced::default_value(DEFAULT_URL.to_string()),
            log: Sourced::default_value(PathBuf::from("build.log")),
            when: Sourced::default_value(When::Statuses(vec!["failed".into()])),
            strict: Sourced::default_value(false),
            max_log_bytes: Sourced::default_value(ByteSize(DEFAULT_MAX_LOG_BYTES)),
            max_read_bytes: Sourced::default_value(ByteSize(DEFAULT_MAX_READ_BYTES)),
            excerpt_bytes: Sourced::default_value(ByteSize(DEFAULT_EXCERPT_BYTES)),
            min_secret_length: Sourced::default_value(8),
            redact_vars: Sourced::default_value(Vec::new()),
            rules: Sourced::default_value(None),
            plugins: Sourced::default_value(Vec::new()),
            keep_ansi: Sourced::default_value(false),
            deadline: Sourced::default_value(DEFAULT_DEADLINE),
            connect_timeout: Sourced::default_value(DEFAULT_CONNECT_TIMEOUT),
            spool_dir: Sourced::default_value(None),
            compress: Sourced::default_value(Compress::None),
            ca_file: Sourced::default_value(None),
            allow_http: Sourced::default_value(false),
            default_rules: Sourced::default_value(true),
        }
    }
}

/// A setting could not be read.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A value is not of the expected form.
    #[error("invalid {setting} `{value}`: expected {expected}")]
    Invalid {
        setting: String,
        value: String,
        expected: String,
    },
    /// The config file could not be read.
    #[error("cannot read config file {path}: {reason}")]
    Read { path: PathBuf, reason: String },
    /// The config file is not valid TOML for exlogare.
    #[error("config file {path} is not valid: {reason}")]
    Parse { path: PathBuf, reason: String },
}

/// Settings could not be resolved: a bad value, or a contradiction of the policy.
#[derive(Debug, thiserror::Error)]
pub enum ResolveError {
    /// A setting could not be read.
    #[error(transparent)]
    Setting(#[from] Error),
    /// A setting contradicts the policy.
    #[error(transparent)]
    Policy(#[from] PolicyError),
}

impl Settings {
    /// Applies `layer` on top of these settings, every value it sets taking `source`.
    pub fn apply(&mut self, layer: &Layer, source: impl Fn(&str) -> Source) {
        macro_rules! set {
            ($field:ident, $key:literal, $map:expr) => {
                if let Some(v) = &layer.$field {
                    self.$field = Sourced {
                        value: $map(v.clone()),
                        source: source($key),
                    };
                }
            };
        }
        set!(url, "url", |v: String| v);
        set!(log, "log", |v: PathBuf| v);
        set!(when, "when", |v: When| v);
        set!(strict, "strict", |v: bool| v);
        set!(max_log_bytes, "max-log-bytes", |v: ByteSize| v);
        set!(max_read_bytes, "max-read-bytes", |v: ByteSize| v);
        set!(excerpt_bytes, "excerpt-bytes", |v: ByteSize| v);
        set!(min_secret_length, "min-secret-length", |v: u32| v);
        set!(redact_vars, "redact-vars", |v: Vec<String>| v);
        set!(rules, "rules", |v: PathBuf| Some(v));
        set!(plugins, "plugins", |v: Vec<PathBuf>| v);
        set!(keep_ansi, "keep-ansi", |v: bool| v);
        set!(deadline, "deadline", |v: Duration| v);
        set!(connect_timeout, "connect-timeout", |v: Duration| v);
        set!(spool_dir, "spool-dir", |v: PathBuf| Some(v));
        set!(compress, "compress", |v: Compress| v);
        set!(ca_file, "ca-file", |v: PathBuf| Some(v));
        set!(allow_http, "allow-http", |v: bool| v);
        set!(default_rules, "default-rules", |v: bool| v);
    }

    /// Resolves defaults < project config < environment < flags.
    pub fn resolve(
        project_config: Option<&Path>,
        env: &[(String, String)],
        flags: &Layer,
    ) -> Result<Settings, Error> {
        let mut settings = Settings::default();
        if let Some(path) = project_config {
            let layer = Layer::from_file(path)?;
            settings.apply(&layer, |_| Source::ProjectConfig(path.to_path_buf()));
        }
        let (env_layer, names) = Layer::from_env(env)?;
        settings.apply(&env_layer, |key| {
            Source::Env(names.get(key).cloned().unwrap_or_else(|| key.to_string()))
        });
        // `plugins` is set by the repeatable `--plugin`.
        settings.apply(flags, |key| match key {
            "plugins" => Source::Flag("--plugin".into()),
            _ => Source::Flag(format!("--{key}")),
        });
        Ok(settings)
    }

    /// Resolves the layers as [`Settings::resolve`] does, then applies `policies`: unset
    /// settings take the policy's values, and a layer that contradicts a lock is refused.
    pub fn resolve_under(
        policies: &Policies,
        project_config: Option<&Path>,
        env: &[(String, String)],
        flags: &Layer,
    ) -> Result<Settings, ResolveError> {
        let mut settings = Settings::resolve(project_config, env, flags)?;
        policies.enforce(&mut settings)?;
        policies.check_proxies(env)?;
        Ok(settings)
    }

    /// Each setting as (name, value shown, source): for `policy show` and `doctor`.
    pub fn describe(&self) -> Vec<(&'static str, String, &Source)> {
        fn path(p: &Option<PathBuf>) -> String {
            p.as_ref()
                .map(|p| p.display().to_string())
                .unwrap_or_else(|| "(none)".into())
        }
        fn list<T: fmt::Display>(items: &[T]) -> String {
            if items.is_empty() {
                "(none)".into()
            } else {
                items
                    .iter()
                    .map(|i| i.to_string())
                    .collect::<Vec<_>>()
                    .join(",")
            }
        }
        vec![
            ("url", self.url.value.clone(), &self.url.source),
            (
                "log",
                self.log.value.display().to_string(),
                &self.log.source,
            ),
            ("when", self.when.value.to_string(), &self.when.source),
            ("strict", self.strict.value.to_string(), &self.strict.source),
            (
                "max-log-bytes",
                self.max_log_bytes.value.to_string(),
                &self.max_log_bytes.source,
            ),
            (
                "max-read-bytes",
                self.max_read_bytes.value.to_string(),
                &self.max_read_bytes.source,
            ),
            (
                "excerpt-bytes",
                self.excerpt_bytes.value.to_string(),
                &self.excerpt_bytes.source,
            ),
            (
                "min-secret-length",
                self.min_secret_length.value.to_string(),
                &self.min_secret_length.source,
            ),
            (
                "redact-vars",
                list(&self.redact_vars.value),
                &self.redact_vars.source,
            ),
            ("rules", path(&self.rules.value), &self.rules.source),
            (
                "plugins",
                list(
                    &self
                        .plugins
                        .value
                        .iter()
                        .map(|p| p.display())
                        .collect::<Vec<_>>(),
                ),
                &self.plugins.source,
            ),
            (
                "keep-ansi",
                self.keep_ansi.value.to_string(),
                &self.keep_ansi.source,
            ),
            (
                "deadline",
                format!("{}s", self.deadline.value.as_secs()),
                &self.deadline.source,
            ),
            (
                "connect-timeout",
                format!("{}s", self.connect_timeout.value.as_secs()),
                &self.connect_timeout.source,
            ),
            (
                "spool-dir",
                path(&self.spool_dir.value),
                &self.spool_dir.source,
            ),
            (
                "compress",
                self.compress.value.to_string(),
                &self.compress.source,
            ),
            ("ca-file", path(&self.ca_file.value), &self.ca_file.source),
            (
                "allow-http",
                self.allow_http.value.to_string(),
                &self.allow_http.source,
            ),
            (
                "default-rules",
                self.default_rules.value.to_string(),
                &self.default_rules.source,
            ),
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn layers_apply_in_order_and_remember_their_source() {
        let dir = tempfile::tempdir().unwrap();
        let config = dir.path().join("exlogare.toml");
        std::fs::write(
            &config,
            "url = \"https://file.example\"\nlog = \"file.log\"\nmax-log-bytes = \"1MiB\"\n",
        )
        .unwrap();
        let flags = Layer {
            log: Some("flag.log".into()),
            ..Layer::default()
        };
        let s = Settings::resolve(
            Some(&config),
            &env(&[
                ("EXLOGARE_URL", "https://env.example"),
                ("EXLOGARE_STRICT", "true"),
            ]),
            &flags,
        )
        .unwrap();
        assert_eq!(s.url.value, "https://env.example");
        assert_eq!(s.url.source, Source::Env("EXLOGARE_URL".into()));
        assert_eq!(s.log.value, PathBuf::from("flag.log"));
        assert_eq!(s.log.source, Source::Flag("--log".into()));
        assert_eq!(s.max_log_bytes.value, ByteSize(1 << 20));
        assert_eq!(
            s.max_log_bytes.source,
            Source::ProjectConfig(config.clone())
        );
        assert!(s.strict.value);
        assert_eq!(s.when.source, Source::Default);
    }

    #[test]
    fn when_parses_lists_and_always() {
        assert_eq!(When::parse("always").unwrap(), When::Always);
        let w = When::parse("failed, canceled").unwrap();
        assert!(w.allows("canceled") && w.allows("FAILED") && !w.allows("success"));
        assert!(When::parse("sometimes").is_err());
        assert!(When::parse(" , ").is_err());
    }

    #[test]
    fn bad_values_name_the_setting() {
        let err = Settings::resolve(
            None,
            &env(&[("EXLOGARE_STRICT", "perhaps")]),
            &Layer::default(),
        )
        .unwrap_err();
        assert!(err.to_string().contains("EXLOGARE_STRICT"), "{err}");
    }
}
