//! The system policy: settings an administrator locks for every pipeline on a machine.
//!
//! Enterprises roll exlogare out to thousands of pipelines and must be sure that no project can
//! weaken it: send elsewhere, switch redaction off, or run an unvetted plugin. So the policy is
//! not one more layer that wins silently. It does two things, in this order:
//!
//! 1. **Fill**: a setting nobody set (still its built-in default) takes the policy's value, so
//!    a locked install works without any project config.
//! 2. **Check**: every lock is checked against the final value. A flag, variable or project
//!    config that contradicts a lock is *refused* with a message naming the setting, where its
//!    value came from, the lock and the policy file. Nothing is silently overridden, so a user
//!    never believes a setting took effect when it did not.
//!
//! Where policies come from: the fixed file [`SYSTEM_POLICY`] (owned by root, not writable by
//! group or others, in a directory of the same kind), and optionally one more file named by
//! [`POLICY_FILE_VAR`], for tests and staged roll-outs. The extra file can only *add*
//! restrictions: the system file is always read too, both are filled and then every lock of
//! both is checked, so the result satisfies each policy or is refused. Pointing the variable
//! elsewhere cannot weaken the system policy.
//!
//! Plugins are checked on their raw bytes ([`Policies::check_plugin`]) before any wasm is
//! parsed, so an unvetted file never reaches the compiler.

use std::fmt;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use sha2::{Digest, Sha256};

use crate::layer::SizeValue;
use crate::{ByteSize, Settings, Source, Sourced};

/// The system policy file. Admins own it; exlogare refuses to run if anyone else could write it.
pub const SYSTEM_POLICY: &str = "/etc/exlogare/policy.toml";

/// Names one more policy file, read in addition to (never instead of) [`SYSTEM_POLICY`].
pub const POLICY_FILE_VAR: &str = "EXLOGARE_POLICY_FILE";

/// The suffix of a plugin's minisign signature file: `acme.wasm` is signed by `acme.wasm.minisig`.
pub const SIGNATURE_SUFFIX: &str = ".minisig";

/// A policy could not be used, or settings or a plugin contradict it.
#[derive(Debug, thiserror::Error)]
pub enum PolicyError {
    /// The file (or its directory) could be changed by someone other than root.
    #[error("refusing to run: the policy file {path} {problem}, so anyone could change it — {fix}")]
    Unsafe {
        /// The policy file.
        path: PathBuf,
        /// What is wrong with it.
        problem: String,
        /// The command that fixes it.
        fix: String,
    },
    /// The file exists but cannot be read.
    #[error("refusing to run: cannot read the policy file {path}: {reason}")]
    Read {
        /// The policy file.
        path: PathBuf,
        /// The I/O error.
        reason: String,
    },
    /// The file is not a valid policy (unknown keys are refused: a typo must not unlock).
    #[error("refusing to run: the policy file {path} is not valid: {reason}")]
    Parse {
        /// The policy file.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// Settings contradict one or more locks.
    #[error("{}", describe_violations(.0))]
    Violations(Vec<Violation>),
    /// A plugin is not allowed by a policy.
    #[error(
        "plugin {plugin} is refused by policy lock `{lock}` in {policy}: {reason}; nothing was run or sent"
    )]
    Plugin {
        /// The plugin file.
        plugin: PathBuf,
        /// The lock that refused it.
        lock: &'static str,
        /// The policy file holding the lock.
        policy: PathBuf,
        /// Why (hash not pinned, signature missing or bad).
        reason: String,
    },
}

fn describe_violations(list: &[Violation]) -> String {
    let mut out = String::from("refused by policy: ");
    for (i, v) in list.iter().enumerate() {
        if i > 0 {
            out.push_str("; ");
        }
        out.push_str(&v.to_string());
    }
    out
}

/// The variables a proxy is taken from (as reqwest reads them).
const PROXY_VARS: &[&str] = &[
    "HTTPS_PROXY",
    "https_proxy",
    "HTTP_PROXY",
    "http_proxy",
    "ALL_PROXY",
    "all_proxy",
];

/// `scheme://host:port` of a proxy URL, without credentials or path (`host:port` alone means
/// `http://`, as for reqwest).
fn proxy_origin(text: &str) -> Option<String> {
    let t = text.trim();
    let with_scheme = if t.contains("://") {
        t.to_string()
    } else {
        format!("http://{t}")
    };
    let u = url::Url::parse(&with_scheme).ok()?;
    let host = u.host_str()?;
    let port = u.port_or_known_default()?;
    Some(format!(
        "{}://{}:{port}",
        u.scheme(),
        host.to_ascii_lowercase()
    ))
}

/// One setting that contradicts one lock.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Violation {
    /// The setting (`url`, `strict`...).
    pub setting: &'static str,
    /// Its value as shown to the user.
    pub value: String,
    /// Where the value came from.
    pub source: Source,
    /// The lock (`allowed-endpoints`, `strict`...).
    pub lock: &'static str,
    /// The policy file holding the lock.
    pub policy: PathBuf,
    /// What the lock requires.
    pub requires: String,
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} = {} (from {}) contradicts policy lock `{}` in {}, which requires {}",
            self.setting,
            self.value,
            self.source,
            self.lock,
            self.policy.display(),
            self.requires
        )
    }
}

/// The policy file as written: kebab-case keys, unknown keys refused.
#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct RawPolicy {
    allowed_endpoints: Option<Vec<String>>,
    allow_http: Option<bool>,
    strict: Option<bool>,
    default_rules: Option<bool>,
    min_secret_length_max: Option<u32>,
    redact_vars: Option<Vec<String>>,
    max_log_bytes: Option<SizeValue>,
    max_log_bytes_max: Option<SizeValue>,
    max_read_bytes_max: Option<SizeValue>,
    spool_dir: Option<PathBuf>,
    plugin_cache: Option<bool>,
    allowed_proxies: Option<Vec<String>>,
    plugins: Option<RawPlugins>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct RawPlugins {
    #[serde(default)]
    required: Vec<PathBuf>,
    #[serde(default)]
    allowed_sha256: Vec<String>,
    #[serde(default)]
    minisign_keys: Vec<String>,
    max_functions: Option<u32>,
    max_function_bytes: Option<SizeValue>,
    max_code_bytes: Option<SizeValue>,
}

/// One allowed endpoint: a host (any URL on it) or a URL prefix (same scheme, host and port,
/// and a path under the prefix's path, cut at a `/`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AllowedEndpoint {
    /// `api.exlogare.net`: any URL whose host is this.
    Host(String),
    /// `https://logs.acme.example/exlogare`: URLs under this one.
    Prefix(url::Url),
}

impl AllowedEndpoint {
    fn parse(text: &str) -> Result<AllowedEndpoint, String> {
        let t = text.trim();
        if t.contains("://") {
            let u = url::Url::parse(t).map_err(|e| format!("`{t}` is not a URL: {e}"))?;
            if u.host_str().is_none() || !u.username().is_empty() || u.password().is_some() {
                return Err(format!("`{t}` needs a host and no user name or password"));
            }
            if u.query().is_some() || u.fragment().is_some() {
                return Err(format!("`{t}` must not have a query or fragment"));
            }
            Ok(AllowedEndpoint::Prefix(u))
        } else {
            let host = t.trim_end_matches('.').to_ascii_lowercase();
            let valid = !host.is_empty()
                && host
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-');
            if !valid {
                return Err(format!(
                    "`{t}` is neither a host name (api.exlogare.net) nor a URL (https://logs.acme.example/)"
                ));
            }
            Ok(AllowedEndpoint::Host(host))
        }
    }

    /// Whether `url` is allowed by this entry.
    pub fn allows(&self, url: &str) -> bool {
        let Ok(u) = url::Url::parse(url.trim()) else {
            return false;
        };
        let Some(host) = u.host_str() else {
            return false;
        };
        match self {
            AllowedEndpoint::Host(h) => host.trim_end_matches('.').eq_ignore_ascii_case(h),
            AllowedEndpoint::Prefix(p) => {
                let prefix_path = p.path().trim_end_matches('/');
                u.scheme() == p.scheme()
                    && Some(host) == p.host_str()
                    && u.port_or_known_default() == p.port_or_known_default()
                    && (prefix_path.is_empty()
                        || u.path().trim_end_matches('/') == prefix_path
                        || u.path().starts_with(&format!("{prefix_path}/")))
            }
        }
    }
}

impl fmt::Display for AllowedEndpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AllowedEndpoint::Host(h) => f.write_str(h),
            AllowedEndpoint::Prefix(u) => f.write_str(u.as_str()),
        }
    }
}

/// A minisign public key from a policy, with the text it was written as.
#[derive(Clone, Debug)]
pub struct SigningKey {
    /// The key as written in the policy (base64, `RW...`).
    pub text: String,
    key: minisign_verify::PublicKey,
}

/// The plugin locks of one policy.
#[derive(Clone, Debug, Default)]
pub struct PluginLocks {
    /// Plugins that must be in the chain, in this order.
    pub required: Vec<PathBuf>,
    /// Lower-case hex sha256 of plugins allowed by their exact bytes.
    pub allowed_sha256: Vec<String>,
    /// Keys whose minisign signature (`PLUGIN.minisig`) allows a plugin.
    pub minisign_keys: Vec<SigningKey>,
    /// A plugin may define at most this many functions (checked before compiling).
    pub max_functions: Option<u32>,
    /// One function body may be at most this many bytes.
    pub max_function_bytes: Option<ByteSize>,
    /// All code together may be at most this many bytes.
    pub max_code_bytes: Option<ByteSize>,
}

impl PluginLocks {
    /// Whether this policy restricts which plugins may run at all.
    pub fn restricts(&self) -> bool {
        !self.allowed_sha256.is_empty() || !self.minisign_keys.is_empty()
    }
}

/// One policy file, parsed. Each `Option` is a lock when `Some`.
#[derive(Clone, Debug)]
pub struct Policy {
    /// Where it was read from.
    pub path: PathBuf,
    /// `url` must be allowed by one of these.
    pub allowed_endpoints: Option<Vec<AllowedEndpoint>>,
    /// `Some(false)`: `allow-http` cannot be turned on.
    pub allow_http: Option<bool>,
    /// `strict` is fixed to this.
    pub strict: Option<bool>,
    /// The built-in rules stay on.
    pub default_rules: bool,
    /// `min-secret-length` may be at most this (lower redacts more).
    pub min_secret_length_max: Option<u32>,
    /// Variables always in `redact-vars` (a project's list is added to these).
    pub redact_vars: Vec<String>,
    /// `max-log-bytes` is fixed to this.
    pub max_log_bytes: Option<ByteSize>,
    /// `max-log-bytes` may be at most this.
    pub max_log_bytes_max: Option<ByteSize>,
    /// `max-read-bytes` may be at most this.
    pub max_read_bytes_max: Option<ByteSize>,
    /// `spool-dir` is fixed to this.
    pub spool_dir: Option<PathBuf>,
    /// `plugin-cache = false`: compiled plugins are never cached nor loaded from a cache.
    pub plugin_cache_off: bool,
    /// The proxies (`scheme://host:port`) a proxy variable may name while `allowed-endpoints`
    /// locks the endpoint; without it, no proxy variable is accepted under that lock.
    pub allowed_proxies: Vec<String>,
    /// Plugin locks.
    pub plugins: PluginLocks,
}

impl Policy {
    /// Parses policy TOML; `path` is only used in messages and sources.
    pub fn from_toml(path: &Path, text: &str) -> Result<Policy, PolicyError> {
        let parse_error = |reason: String| PolicyError::Parse {
            path: path.to_path_buf(),
            reason,
        };
        let raw: RawPolicy =
            toml::from_str(text).map_err(|e| parse_error(e.message().to_string()))?;
        let allowed_endpoints = match raw.allowed_endpoints {
            None => None,
            Some(list) if list.is_empty() => {
                return Err(parse_error(
                    "allowed-endpoints is empty, which would allow nothing; list at least one host or URL, or remove the key".into(),
                ));
            }
            Some(list) => Some(
                list.iter()
                    .map(|e| AllowedEndpoint::parse(e))
                    .collect::<Result<Vec<_>, _>>()
                    .map_err(|e| parse_error(format!("allowed-endpoints: {e}")))?,
            ),
        };
        if raw.allow_http == Some(true) {
            return Err(parse_error(
                "allow-http can only be locked to false (plain http off); remove it to leave the choice to projects".into(),
            ));
        }
        if raw.plugin_cache == Some(true) {
            return Err(parse_error(
                "plugin-cache can only be locked to false (no cache of compiled plugins); remove it to keep the cache".into(),
            ));
        }
        if raw.default_rules == Some(false) {
            return Err(parse_error(
                "default-rules can only be locked to true (the built-in rules stay on); remove it to leave the choice to projects".into(),
            ));
        }
        let size = |v: Option<SizeValue>, key: &str| {
            v.map(|v| v.bytes(key))
                .transpose()
                .map_err(|e| parse_error(e.to_string()))
        };
        let max_log_bytes = size(raw.max_log_bytes, "max-log-bytes")?;
        let max_log_bytes_max = size(raw.max_log_bytes_max, "max-log-bytes-max")?;
        let max_read_bytes_max = size(raw.max_read_bytes_max, "max-read-bytes-max")?;
        if let (Some(fixed), Some(max)) = (max_log_bytes, max_log_bytes_max)
            && fixed > max
        {
            return Err(parse_error(format!(
                "max-log-bytes {fixed} is above max-log-bytes-max {max}"
            )));
        }
        let raw_plugins = raw.plugins.unwrap_or_default();
        let allowed_sha256 = raw_plugins
            .allowed_sha256
            .iter()
            .map(|h| {
                let h = h.trim().to_ascii_lowercase();
                let h = h.strip_prefix("sha256:").unwrap_or(&h).to_string();
                if h.len() == 64 && h.chars().all(|c| c.is_ascii_hexdigit()) {
                    Ok(h)
                } else {
                    Err(parse_error(format!(
                        "plugins.allowed-sha256: `{h}` is not a sha256 (64 hex digits, as `sha256sum` prints)"
                    )))
                }
            })
            .collect::<Result<Vec<_>, _>>()?;
        let minisign_keys = raw_plugins
            .minisign_keys
            .iter()
            .map(|k| {
                let text = k.trim();
                let key = if text.contains('\n') {
                    minisign_verify::PublicKey::decode(text)
                } else {
                    minisign_verify::PublicKey::from_base64(text)
                };
                key.map(|key| SigningKey {
                    text: text.lines().last().unwrap_or(text).trim().to_string(),
                    key,
                })
                .map_err(|e| {
                    parse_error(format!(
                        "plugins.minisign-keys: `{text}` is not a minisign public key ({e}); use the base64 line of minisign.pub"
                    ))
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Policy {
            path: path.to_path_buf(),
            allowed_endpoints,
            allow_http: raw.allow_http,
            strict: raw.strict,
            default_rules: raw.default_rules == Some(true),
            min_secret_length_max: raw.min_secret_length_max,
            redact_vars: raw.redact_vars.unwrap_or_default(),
            max_log_bytes,
            max_log_bytes_max,
            max_read_bytes_max,
            spool_dir: raw.spool_dir,
            plugin_cache_off: raw.plugin_cache == Some(false),
            allowed_proxies: raw
                .allowed_proxies
                .unwrap_or_default()
                .iter()
                .map(|p| {
                    proxy_origin(p).ok_or_else(|| {
                        parse_error(format!(
                            "allowed-proxies: `{p}` is not a proxy URL (http://proxy.example:3128)"
                        ))
                    })
                })
                .collect::<Result<Vec<_>, _>>()?,
            plugins: PluginLocks {
                required: raw_plugins.required,
                allowed_sha256,
                minisign_keys,
                max_functions: raw_plugins.max_functions,
                max_function_bytes: size(
                    raw_plugins.max_function_bytes,
                    "plugins.max-function-bytes",
                )?,
                max_code_bytes: size(raw_plugins.max_code_bytes, "plugins.max-code-bytes")?,
            },
        })
    }

    /// Reads a policy file after checking that only root can change it.
    pub fn load(path: &Path) -> Result<Policy, PolicyError> {
        check_trusted(path)?;
        let text = std::fs::read_to_string(path).map_err(|e| PolicyError::Read {
            path: path.to_path_buf(),
            reason: e.to_string(),
        })?;
        Policy::from_toml(path, &text)
    }

    fn source(&self) -> Source {
        Source::Policy(self.path.clone())
    }

    /// Step 1: settings still at their default take this policy's value.
    fn fill(&self, s: &mut Settings) {
        let ours = || self.source();
        // An unset url that the lock does not allow becomes the first entry (a host means
        // https:// on it), so a locked install works without any project config.
        if let Some(list) = &self.allowed_endpoints
            && fillable(&s.url.source)
            && !list.iter().any(|e| e.allows(&s.url.value))
            && let Some(first) = list.first()
        {
            s.url = Sourced {
                value: match first {
                    AllowedEndpoint::Prefix(u) => u.as_str().trim_end_matches('/').to_string(),
                    AllowedEndpoint::Host(h) => format!("https://{h}"),
                },
                source: ours(),
            };
        }
        if let Some(strict) = self.strict
            && fillable(&s.strict.source)
        {
            s.strict = Sourced {
                value: strict,
                source: ours(),
            };
        }
        if let Some(max) = self.min_secret_length_max
            && fillable(&s.min_secret_length.source)
            && s.min_secret_length.value > max
        {
            s.min_secret_length = Sourced {
                value: max,
                source: ours(),
            };
        }
        let missing: Vec<String> = self
            .redact_vars
            .iter()
            .filter(|v| !s.redact_vars.value.contains(v))
            .cloned()
            .collect();
        if !missing.is_empty() {
            s.redact_vars.value.extend(missing);
            if s.redact_vars.source == Source::Default {
                s.redact_vars.source = ours();
            }
        }
        if let Some(fixed) = self.max_log_bytes
            && fillable(&s.max_log_bytes.source)
        {
            s.max_log_bytes = Sourced {
                value: fixed,
                source: ours(),
            };
        }
        if let Some(max) = self.max_log_bytes_max
            && fillable(&s.max_log_bytes.source)
            && s.max_log_bytes.value > max
        {
            s.max_log_bytes = Sourced {
                value: max,
                source: ours(),
            };
        }
        if let Some(max) = self.max_read_bytes_max
            && fillable(&s.max_read_bytes.source)
            && s.max_read_bytes.value > max
        {
            s.max_read_bytes = Sourced {
                value: max,
                source: ours(),
            };
        }
        if let Some(dir) = &self.spool_dir
            && fillable(&s.spool_dir.source)
        {
            s.spool_dir = Sourced {
                value: Some(dir.clone()),
                source: ours(),
            };
        }
        let required = &self.plugins.required;
        let absent: Vec<PathBuf> = required
            .iter()
            .filter(|r| !s.plugins.value.iter().any(|p| same_path(p, r)))
            .cloned()
            .collect();
        if !absent.is_empty() {
            // The policy's plugins go first, in its order; the project's own run after them.
            let mut chain = absent;
            chain.append(&mut s.plugins.value);
            s.plugins.value = chain;
            if s.plugins.source == Source::Default {
                s.plugins.source = ours();
            }
        }
    }

    /// Step 2: every lock against the final value.
    fn check(&self, s: &Settings, out: &mut Vec<Violation>) {
        let mut refuse = |setting: &'static str,
                          value: String,
                          source: &Source,
                          lock: &'static str,
                          requires: String| {
            out.push(Violation {
                setting,
                value,
                source: source.clone(),
                lock,
                policy: self.path.clone(),
                requires,
            })
        };
        if let Some(list) = &self.allowed_endpoints
            && !list.iter().any(|e| e.allows(&s.url.value))
        {
            let names: Vec<String> = list.iter().map(|e| e.to_string()).collect();
            refuse(
                "url",
                s.url.value.clone(),
                &s.url.source,
                "allowed-endpoints",
                format!("one of: {}", names.join(", ")),
            );
        }
        if self.allow_http == Some(false) && s.allow_http.value {
            refuse(
                "allow-http",
                "true".into(),
                &s.allow_http.source,
                "allow-http",
                "allow-http = false (plain http:// only to this machine's loopback)".into(),
            );
        }
        if let Some(strict) = self.strict
            && s.strict.value != strict
        {
            refuse(
                "strict",
                s.strict.value.to_string(),
                &s.strict.source,
                "strict",
                format!("strict = {strict}"),
            );
        }
        if self.default_rules && !s.default_rules.value {
            refuse(
                "default-rules",
                "false".into(),
                &s.default_rules.source,
                "default-rules",
                "default-rules = true (the built-in rules stay on)".into(),
            );
        }
        if let Some(max) = self.min_secret_length_max
            && s.min_secret_length.value > max
        {
            refuse(
                "min-secret-length",
                s.min_secret_length.value.to_string(),
                &s.min_secret_length.source,
                "min-secret-length-max",
                format!("at most {max}"),
            );
        }
        let missing: Vec<&String> = self
            .redact_vars
            .iter()
            .filter(|v| !s.redact_vars.value.contains(v))
            .collect();
        if !missing.is_empty() {
            refuse(
                "redact-vars",
                s.redact_vars.value.join(","),
                &s.redact_vars.source,
                "redact-vars",
                format!(
                    "these names to be included: {}",
                    missing
                        .iter()
                        .map(|s| s.as_str())
                        .collect::<Vec<_>>()
                        .join(",")
                ),
            );
        }
        if let Some(fixed) = self.max_log_bytes
            && s.max_log_bytes.value != fixed
        {
            refuse(
                "max-log-bytes",
                s.max_log_bytes.value.to_string(),
                &s.max_log_bytes.source,
                "max-log-bytes",
                format!("exactly {fixed}"),
            );
        }
        if let Some(max) = self.max_log_bytes_max
            && s.max_log_bytes.value > max
        {
            refuse(
                "max-log-bytes",
                s.max_log_bytes.value.to_string(),
                &s.max_log_bytes.source,
                "max-log-bytes-max",
                format!("at most {max}"),
            );
        }
        if let Some(max) = self.max_read_bytes_max
            && s.max_read_bytes.value > max
        {
            refuse(
                "max-read-bytes",
                s.max_read_bytes.value.to_string(),
                &s.max_read_bytes.source,
                "max-read-bytes-max",
                format!("at most {max}"),
            );
        }
        if let Some(dir) = &self.spool_dir
            && s.spool_dir
                .value
                .as_deref()
                .is_none_or(|d| !same_path(d, dir))
        {
            refuse(
                "spool-dir",
                s.spool_dir
                    .value
                    .as_ref()
                    .map(|d| d.display().to_string())
                    .unwrap_or_else(|| "(none)".into()),
                &s.spool_dir.source,
                "spool-dir",
                format!("exactly {}", dir.display()),
            );
        }
        let required = &self.plugins.required;
        if !required.is_empty() && !in_order(&s.plugins.value, required) {
            let show = |l: &[PathBuf]| {
                l.iter()
                    .map(|p| p.display().to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            };
            refuse(
                "plugins",
                show(&s.plugins.value),
                &s.plugins.source,
                "plugins.required",
                format!(
                    "these plugins in the chain, in this order: {}",
                    show(required)
                ),
            );
        }
    }

    /// The locks this policy holds on `setting`, said shortly (for `policy show`).
    pub fn locks_on(&self, setting: &str) -> Vec<String> {
        let mut out = Vec::new();
        match setting {
            "url" => {
                if let Some(list) = &self.allowed_endpoints {
                    let names: Vec<String> = list.iter().map(|e| e.to_string()).collect();
                    out.push(format!("allowed-endpoints: {}", names.join(", ")));
                }
            }
            "allow-http" if self.allow_http == Some(false) => out.push("allow-http = false".into()),
            "strict" => {
                if let Some(v) = self.strict {
                    out.push(format!("strict = {v}"));
                }
            }
            "default-rules" if self.default_rules => out.push("default-rules = true".into()),
            "min-secret-length" => {
                if let Some(v) = self.min_secret_length_max {
                    out.push(format!("min-secret-length-max = {v}"));
                }
            }
            "redact-vars" if !self.redact_vars.is_empty() => out.push(format!(
                "redact-vars includes {}",
                self.redact_vars.join(",")
            )),
            "max-log-bytes" => {
                if let Some(v) = self.max_log_bytes {
                    out.push(format!("max-log-bytes = {v}"));
                }
                if let Some(v) = self.max_log_bytes_max {
                    out.push(format!("max-log-bytes-max = {v}"));
                }
            }
            "max-read-bytes" => {
                if let Some(v) = self.max_read_bytes_max {
                    out.push(format!("max-read-bytes-max = {v}"));
                }
            }
            "spool-dir" => {
                if let Some(v) = &self.spool_dir {
                    out.push(format!("spool-dir = {}", v.display()));
                }
            }
            "plugins" => {
                let p = &self.plugins;
                if !p.required.is_empty() {
                    let names: Vec<String> =
                        p.required.iter().map(|r| r.display().to_string()).collect();
                    out.push(format!("plugins.required: {}", names.join(", ")));
                }
                if !p.allowed_sha256.is_empty() {
                    out.push(format!(
                        "plugins.allowed-sha256: {} pinned",
                        p.allowed_sha256.len()
                    ));
                }
                if !p.minisign_keys.is_empty() {
                    out.push(format!("plugins.minisign-keys: {}", p.minisign_keys.len()));
                }
            }
            _ => {}
        }
        out
    }
}

/// Whether a fill may set a value: nobody set it, or only another policy did (a later policy
/// may tighten it; the check step then refuses any conflict between policies).
fn fillable(source: &Source) -> bool {
    matches!(source, Source::Default | Source::Policy(_))
}

/// Whether `required` appears in `chain` in order (other plugins may sit between).
fn in_order(chain: &[PathBuf], required: &[PathBuf]) -> bool {
    let mut it = chain.iter();
    required.iter().all(|r| it.any(|p| same_path(p, r)))
}

/// The same file: equal paths, or the same file once both are resolved.
fn same_path(a: &Path, b: &Path) -> bool {
    if a == b {
        return true;
    }
    match (std::fs::canonicalize(a), std::fs::canonicalize(b)) {
        (Ok(x), Ok(y)) => x == y,
        _ => false,
    }
}

/// How a plugin passed the plugin locks (for `policy show` and summaries).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PluginVerdict {
    /// Lower-case hex sha256 of the bytes checked.
    pub sha256: String,
    /// Why it may run, one entry per policy that restricts plugins (empty: no restriction).
    pub allowed_by: Vec<String>,
}

/// The policies in force: the system file and the extra file, each adding restrictions.
#[derive(Clone, Debug, Default)]
pub struct Policies {
    /// The policy files read, system first.
    pub files: Vec<Policy>,
}

impl Policies {
    /// No policy at all.
    pub fn none() -> Policies {
        Policies::default()
    }

    /// Reads [`SYSTEM_POLICY`] when it exists, and the file named by [`POLICY_FILE_VAR`] in
    /// `env`.
    pub fn load(env: &[(String, String)]) -> Result<Policies, PolicyError> {
        let extra = env
            .iter()
            .rev()
            .find(|(k, _)| k == POLICY_FILE_VAR)
            .map(|(_, v)| v.trim())
            .filter(|v| !v.is_empty())
            .map(PathBuf::from);
        Policies::load_from(Path::new(SYSTEM_POLICY), extra.as_deref())
    }

    /// Reads `system` when it exists, then `extra` (which must exist when named).
    pub fn load_from(system: &Path, extra: Option<&Path>) -> Result<Policies, PolicyError> {
        let mut files = Vec::new();
        match std::fs::symlink_metadata(system) {
            Ok(_) => files.push(Policy::load(system)?),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => {
                return Err(PolicyError::Read {
                    path: system.to_path_buf(),
                    reason: e.to_string(),
                });
            }
        }
        if let Some(path) = extra {
            let policy = Policy::load(path).map_err(|e| match e {
                PolicyError::Read { path, reason } => PolicyError::Read {
                    path,
                    reason: format!("{reason} (named by {POLICY_FILE_VAR})"),
                },
                other => other,
            })?;
            files.push(policy);
        }
        Ok(Policies { files })
    }

    /// Whether any policy is in force.
    pub fn is_empty(&self) -> bool {
        self.files.is_empty()
    }

    /// Refuses a proxy variable that could route around an `allowed-endpoints` lock: while an
    /// endpoint is locked, every proxy variable set (`HTTPS_PROXY`, `HTTP_PROXY`, `ALL_PROXY`,
    /// either case) must name a proxy in that policy's `allowed-proxies`. A proxy sees where
    /// the payload goes and can answer for the endpoint, so it is part of the endpoint lock.
    /// `NO_PROXY` is not interpreted here: a variable that is set must be allowed.
    pub fn check_proxies(&self, env: &[(String, String)]) -> Result<(), PolicyError> {
        let mut violations = Vec::new();
        for policy in &self.files {
            if policy.allowed_endpoints.is_none() {
                continue;
            }
            for var in PROXY_VARS {
                let Some((_, value)) = env.iter().rev().find(|(k, _)| k == var) else {
                    continue;
                };
                if value.trim().is_empty() {
                    continue;
                }
                let origin = proxy_origin(value);
                if origin
                    .as_ref()
                    .is_some_and(|o| policy.allowed_proxies.contains(o))
                {
                    continue;
                }
                violations.push(Violation {
                    setting: "proxy",
                    // Never the proxy's credentials: only where it is.
                    value: origin.unwrap_or_else(|| "(not a URL)".to_string()),
                    source: Source::Env(var.to_string()),
                    lock: "allowed-endpoints",
                    policy: policy.path.clone(),
                    requires: if policy.allowed_proxies.is_empty() {
                        "no proxy (add the proxy to allowed-proxies in the policy, or unset the variable)".to_string()
                    } else {
                        format!("one of allowed-proxies: {}", policy.allowed_proxies.join(", "))
                    },
                });
            }
        }
        if violations.is_empty() {
            Ok(())
        } else {
            Err(PolicyError::Violations(violations))
        }
    }

    /// The caps checked before compiling a plugin, as (functions, bytes of one function, bytes
    /// of all code): the lowest any policy sets, `None` where none sets one. They can only
    /// lower exlogare's own caps.
    pub fn compile_caps(&self) -> (Option<u32>, Option<u64>, Option<u64>) {
        let lowest = |a: Option<u64>, b: Option<u64>| match (a, b) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        let mut caps = (None, None, None);
        for p in &self.files {
            caps.0 = lowest(
                caps.0.map(u64::from),
                p.plugins.max_functions.map(u64::from),
            )
            .and_then(|v| u32::try_from(v).ok());
            caps.1 = lowest(caps.1, p.plugins.max_function_bytes.map(|b| b.0));
            caps.2 = lowest(caps.2, p.plugins.max_code_bytes.map(|b| b.0));
        }
        caps
    }

    /// Whether a policy switches the cache of compiled plugins off (`plugin-cache = false`).
    pub fn plugin_cache_off(&self) -> bool {
        self.files.iter().any(|p| p.plugin_cache_off)
    }

    /// Whether a policy locks strict mode on (then even a refusal exits non-zero).
    pub fn locks_strict(&self) -> bool {
        self.files.iter().any(|p| p.strict == Some(true))
    }

    /// Fills unset settings from the policies, then refuses any that contradicts a lock.
    pub fn enforce(&self, settings: &mut Settings) -> Result<(), PolicyError> {
        for policy in &self.files {
            policy.fill(settings);
        }
        let mut violations = Vec::new();
        for policy in &self.files {
            policy.check(settings, &mut violations);
        }
        if violations.is_empty() {
            Ok(())
        } else {
            Err(PolicyError::Violations(violations))
        }
    }

    /// Checks a URL that does not come from the settings (e.g. the endpoint recorded in a
    /// spooled payload that `send` re-sends) against every `allowed-endpoints` lock, so no
    /// file a project can write becomes a way around the lock. `source` says where it came from.
    pub fn check_endpoint(&self, url: &str, source: Source) -> Result<(), PolicyError> {
        let mut violations = Vec::new();
        for policy in &self.files {
            if let Some(list) = &policy.allowed_endpoints
                && !list.iter().any(|e| e.allows(url))
            {
                let names: Vec<String> = list.iter().map(|e| e.to_string()).collect();
                violations.push(Violation {
                    setting: "url",
                    value: url.to_string(),
                    source: source.clone(),
                    lock: "allowed-endpoints",
                    policy: policy.path.clone(),
                    requires: format!("one of: {}", names.join(", ")),
                });
            }
        }
        if violations.is_empty() {
            Ok(())
        } else {
            Err(PolicyError::Violations(violations))
        }
    }

    /// The locks on `setting`, each with its policy file (for `policy show`).
    pub fn locks_on(&self, setting: &str) -> Vec<String> {
        self.files
            .iter()
            .flat_map(|p| {
                p.locks_on(setting)
                    .into_iter()
                    .map(move |l| format!("{l} ({})", p.path.display()))
            })
            .collect()
    }

    /// Checks a plugin's raw bytes against every policy's plugin locks, before any wasm
    /// parsing: its sha256 must be pinned, or `path` + [`SIGNATURE_SUFFIX`] must be a minisign
    /// signature of exactly these bytes by one of the policy's keys.
    pub fn check_plugin(&self, path: &Path, bytes: &[u8]) -> Result<PluginVerdict, PolicyError> {
        let sha256 = hex::encode(Sha256::digest(bytes));
        let mut allowed_by = Vec::new();
        let mut signature: Option<Result<minisign_verify::Signature, String>> = None;
        for policy in &self.files {
            let locks = &policy.plugins;
            if !locks.restricts() {
                continue;
            }
            if locks.allowed_sha256.contains(&sha256) {
                allowed_by.push(format!("sha256 pinned in {}", policy.path.display()));
                continue;
            }
            let refuse = |lock: &'static str, reason: String| PolicyError::Plugin {
                plugin: path.to_path_buf(),
                lock,
                policy: policy.path.clone(),
                reason,
            };
            let unpinned = format!("its sha256 {sha256} is not in plugins.allowed-sha256");
            if locks.minisign_keys.is_empty() {
                return Err(refuse("plugins.allowed-sha256", unpinned));
            }
            let sig_path = signature_path(path);
            let sig = signature.get_or_insert_with(|| read_signature(&sig_path));
            let sig = match sig {
                Ok(sig) => sig,
                Err(why) => {
                    let also = if locks.allowed_sha256.is_empty() {
                        String::new()
                    } else {
                        format!("{unpinned}, and ")
                    };
                    return Err(refuse("plugins.minisign-keys", format!("{also}{why}")));
                }
            };
            match locks
                .minisign_keys
                .iter()
                .find(|k| k.key.verify(bytes, sig, false).is_ok())
            {
                Some(k) => allowed_by.push(format!(
                    "signed by {} ({}) in {}",
                    k.text,
                    sig_path.display(),
                    policy.path.display()
                )),
                None => {
                    let also = if locks.allowed_sha256.is_empty() {
                        String::new()
                    } else {
                        format!("{unpinned}, and ")
                    };
                    return Err(refuse(
                        "plugins.minisign-keys",
                        format!(
                            "{also}its signature {} does not verify with any key in plugins.minisign-keys (signed by another key, or the file changed after signing)",
                            sig_path.display()
                        ),
                    ));
                }
            }
        }
        Ok(PluginVerdict { sha256, allowed_by })
    }
}

/// `acme.wasm` -> `acme.wasm.minisig`.
pub fn signature_path(plugin: &Path) -> PathBuf {
    let mut s = plugin.as_os_str().to_owned();
    s.push(SIGNATURE_SUFFIX);
    PathBuf::from(s)
}

fn read_signature(path: &Path) -> Result<minisign_verify::Signature, String> {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(format!(
                "it has no signature file {} (sign it with `minisign -Sm PLUGIN.wasm`)",
                path.display()
            ));
        }
        Err(e) => return Err(format!("cannot read its signature {}: {e}", path.display())),
    };
    minisign_verify::Signature::decode(&text).map_err(|e| {
        format!(
            "its signature {} is not a minisign signature: {e}",
            path.display()
        )
    })
}

/// Refuses a policy file (and its directory) that anyone but root could change.
#[cfg(unix)]
fn check_trusted(path: &Path) -> Result<(), PolicyError> {
    use std::os::unix::fs::MetadataExt;

    let read_error = |p: &Path, e: std::io::Error| PolicyError::Read {
        path: p.to_path_buf(),
        reason: e.to_string(),
    };
    // A symlink is refused, not followed: whoever can change where it points (or swap a
    // directory it goes through) chooses the policy, and the owner and mode checked below
    // would be those of a file the administrator never looked at.
    let link = std::fs::symlink_metadata(path).map_err(|e| read_error(path, e))?;
    if link.file_type().is_symlink() {
        return Err(PolicyError::Unsafe {
            path: path.to_path_buf(),
            problem: "is a symbolic link".into(),
            fix: format!(
                "install the policy as a regular file at {} (as root), not a link to one",
                path.display()
            ),
        });
    }
    let absolute = std::path::absolute(path).map_err(|e| read_error(path, e))?;
    let canonical = std::fs::canonicalize(path).map_err(|e| read_error(path, e))?;
    if canonical != absolute {
        return Err(PolicyError::Unsafe {
            path: path.to_path_buf(),
            problem: format!(
                "is reached through a symbolic link (it really is {})",
                canonical.display()
            ),
            fix: format!(
                "name the policy by its real path, {}, with no symbolic link on the way",
                canonical.display()
            ),
        });
    }
    let meta = std::fs::metadata(path).map_err(|e| read_error(path, e))?;
    if !meta.is_file() {
        return Err(PolicyError::Read {
            path: path.to_path_buf(),
            reason: "it is not a regular file".into(),
        });
    }
    let unsafe_file = |what: &Path, problem: String, fix: String| PolicyError::Unsafe {
        path: path.to_path_buf(),
        problem: if what == path {
            problem
        } else {
            format!("is in {}, which {problem}", what.display())
        },
        fix,
    };
    let check = |what: &Path, meta: &std::fs::Metadata| -> Result<(), PolicyError> {
        if meta.uid() != 0 {
            return Err(unsafe_file(
                what,
                format!("is owned by uid {}, not root", meta.uid()),
                format!("run `chown root {}` (as root)", what.display()),
            ));
        }
        let mode = meta.mode() & 0o7777;
        // A sticky directory (like /tmp) still lets others create files next to it.
        if mode & 0o022 != 0 {
            let who = match (mode & 0o020 != 0, mode & 0o002 != 0) {
                (true, true) => "group and others",
                (true, false) => "its group",
                _ => "others",
            };
            return Err(unsafe_file(
                what,
                format!("is writable by {who} (mode {mode:o})"),
                format!("run `chmod go-w {}` (as root)", what.display()),
            ));
        }
        Ok(())
    };
    check(path, &meta)?;
    // The directory the path names, and (through symlinks) the one the file really is in.
    let mut dirs = Vec::new();
    let parent = |p: &Path| match p.parent() {
        Some(d) if d.as_os_str().is_empty() => PathBuf::from("."),
        Some(d) => d.to_path_buf(),
        None => PathBuf::from("/"),
    };
    dirs.push(parent(path));
    let real = std::fs::canonicalize(path).map_err(|e| read_error(path, e))?;
    let real_dir = parent(&real);
    if !dirs.contains(&real_dir) {
        dirs.push(real_dir);
    }
    for dir in dirs {
        let meta = std::fs::metadata(&dir).map_err(|e| read_error(&dir, e))?;
        check(&dir, &meta)?;
    }
    Ok(())
}

/// Other systems have no owner and mode to check; exlogare's policy is a Unix feature.
#[cfg(not(unix))]
fn check_trusted(_path: &Path) -> Result<(), PolicyError> {
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Layer;

    fn policy(text: &str) -> Policies {
        Policies {
            files: vec![Policy::from_toml(Path::new("/etc/exlogare/policy.toml"), text).unwrap()],
        }
    }

    fn resolve(p: &Policies, env: &[(&str, &str)], flags: Layer) -> Result<Settings, PolicyError> {
        let env: Vec<(String, String)> = env
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let mut s = Settings::resolve(None, &env, &flags).unwrap();
        p.enforce(&mut s).map(|_| s)
    }

    #[test]
    fn endpoints_match_hosts_and_prefixes_at_boundaries() {
        let host = AllowedEndpoint::parse("api.exlogare.net").unwrap();
        assert!(host.allows("https://api.exlogare.net"));
        assert!(host.allows("https://API.exlogare.net/x"));
        assert!(!host.allows("https://api.exlogare.net.evil.example"));
        assert!(!host.allows("https://evil.example/api.exlogare.net"));
        let prefix = AllowedEndpoint::parse("https://logs.acme.example/exlogare/").unwrap();
        assert!(prefix.allows("https://logs.acme.example/exlogare"));
        assert!(prefix.allows("https://logs.acme.example:443/exlogare/eu"));
        assert!(!prefix.allows("https://logs.acme.example/exlogare-evil"));
        assert!(!prefix.allows("http://logs.acme.example/exlogare"));
        assert!(!prefix.allows("https://logs.acme.example:8443/exlogare"));
        assert!(!prefix.allows("https://logs.acme.example.evil.example/exlogare"));
        assert!(!prefix.allows("https://logs.acme.example@evil.example/exlogare"));
        assert!(!prefix.allows("not a url"));
        assert!(AllowedEndpoint::parse("https://u:p@x.example").is_err());
        assert!(AllowedEndpoint::parse("x.example/path").is_err());
    }

    #[test]
    fn an_unset_url_becomes_the_first_allowed_endpoint() {
        let s = resolve(
            &policy("allowed-endpoints = [\"logs.acme.example\"]"),
            &[],
            Layer::default(),
        )
        .unwrap();
        assert_eq!(s.url.value, "https://logs.acme.example");
        let s = resolve(
            &policy("allowed-endpoints = [\"api.exlogare.net\", \"x.example\"]"),
            &[],
            Layer::default(),
        )
        .unwrap();
        assert_eq!(
            s.url.source,
            Source::Default,
            "the default is allowed, so it stays"
        );
    }

    #[test]
    fn urls_from_elsewhere_are_checked_against_every_policy() {
        let p = policy("allowed-endpoints = [\"https://logs.acme.example/exlogare\"]");
        let spooled = Source::File("spool/payload.json.gz".into());
        p.check_endpoint(
            "https://logs.acme.example/exlogare/api/ingest/log",
            spooled.clone(),
        )
        .unwrap();
        let err = p
            .check_endpoint("https://evil.example/api/ingest/log", spooled)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("allowed-endpoints") && err.contains("payload.json.gz"),
            "{err}"
        );
        Policies::none()
            .check_endpoint("https://anything.example", Source::Default)
            .unwrap();
    }

    #[test]
    fn fills_unset_settings_and_names_the_policy_as_source() {
        let p = policy(
            r#"
            allowed-endpoints = ["https://logs.acme.example/"]
            strict = true
            min-secret-length-max = 6
            redact-vars = ["ACME_DB_PASSWORD"]
            max-log-bytes-max = "4MiB"
            spool-dir = "/var/spool/exlogare"
            [plugins]
            required = ["/opt/exlogare/acme.wasm"]
            "#,
        );
        let s = resolve(&p, &[], Layer::default()).unwrap();
        let src = Source::Policy("/etc/exlogare/policy.toml".into());
        assert_eq!(s.url.value, "https://logs.acme.example");
        assert_eq!(s.url.source, src);
        assert!(s.strict.value);
        assert_eq!(s.min_secret_length.value, 6);
        assert_eq!(s.redact_vars.value, vec!["ACME_DB_PASSWORD".to_string()]);
        assert_eq!(s.max_log_bytes.value, ByteSize(4 << 20));
        assert_eq!(
            s.spool_dir.value,
            Some(PathBuf::from("/var/spool/exlogare"))
        );
        assert_eq!(
            s.plugins.value,
            vec![PathBuf::from("/opt/exlogare/acme.wasm")]
        );
        assert_eq!(s.plugins.source, src);
    }

    #[test]
    fn contradictions_are_refused_naming_setting_source_lock_and_file() {
        let p = policy(
            r#"
            allowed-endpoints = ["api.exlogare.net"]
            allow-http = false
            strict = true
            default-rules = true
            min-secret-length-max = 6
            max-log-bytes = "1MiB"
            spool-dir = "/var/spool/exlogare"
            "#,
        );
        let cases: Vec<(&str, &str, &str)> = vec![
            ("EXLOGARE_URL", "https://evil.example", "allowed-endpoints"),
            ("EXLOGARE_ALLOW_HTTP", "true", "allow-http"),
            ("EXLOGARE_STRICT", "false", "strict"),
            ("EXLOGARE_DEFAULT_RULES", "false", "default-rules"),
            ("EXLOGARE_MIN_SECRET_LENGTH", "12", "min-secret-length-max"),
            ("EXLOGARE_MAX_LOG_BYTES", "2MiB", "max-log-bytes"),
            ("EXLOGARE_SPOOL_DIR", "/tmp/elsewhere", "spool-dir"),
        ];
        for (var, value, lock) in cases {
            let err = resolve(&p, &[(var, value)], Layer::default()).unwrap_err();
            let text = err.to_string();
            assert!(text.contains(&format!("policy lock `{lock}`")), "{text}");
            assert!(text.contains("/etc/exlogare/policy.toml"), "{text}");
            assert!(text.contains(var), "{text}");
            let PolicyError::Violations(v) = err else {
                panic!("{text}")
            };
            assert_eq!(v.len(), 1, "{text}");
        }
        // A value that agrees with the lock is fine, wherever it comes from.
        let s = resolve(&p, &[("EXLOGARE_STRICT", "true")], Layer::default()).unwrap();
        assert_eq!(s.strict.source, Source::Env("EXLOGARE_STRICT".into()));
    }

    #[test]
    fn redact_vars_and_required_plugins_are_added_not_replaced() {
        let p = policy(
            r#"
            redact-vars = ["ACME_PW"]
            [plugins]
            required = ["/opt/a.wasm", "/opt/b.wasm"]
            "#,
        );
        let flags = Layer {
            redact_vars: Some(vec!["MINE".into()]),
            plugins: Some(vec!["mine.wasm".into()]),
            ..Layer::default()
        };
        let s = resolve(&p, &[], flags).unwrap();
        assert_eq!(
            s.redact_vars.value,
            vec!["MINE".to_string(), "ACME_PW".to_string()]
        );
        let chain: Vec<_> = s
            .plugins
            .value
            .iter()
            .map(|p| p.display().to_string())
            .collect();
        assert_eq!(chain, ["/opt/a.wasm", "/opt/b.wasm", "mine.wasm"]);
        // Required plugins in the wrong order are refused.
        let flags = Layer {
            plugins: Some(vec!["/opt/b.wasm".into(), "/opt/a.wasm".into()]),
            ..Layer::default()
        };
        let err = resolve(&p, &[], flags).unwrap_err().to_string();
        assert!(
            err.contains("plugins.required") && err.contains("flag --plugin"),
            "{err}"
        );
    }

    #[test]
    fn two_policies_both_hold_and_conflicts_are_refused() {
        let system =
            Policy::from_toml(Path::new("/sys.toml"), "max-log-bytes-max = \"4MiB\"").unwrap();
        let extra =
            Policy::from_toml(Path::new("/extra.toml"), "max-log-bytes = \"8MiB\"").unwrap();
        let p = Policies {
            files: vec![system.clone(), extra],
        };
        let err = resolve(&p, &[], Layer::default()).unwrap_err().to_string();
        // Conflicting locks are refused, naming both files.
        assert!(
            err.contains("/sys.toml") && err.contains("/extra.toml") && err.contains("policy lock"),
            "{err}"
        );
        let tighter =
            Policy::from_toml(Path::new("/extra.toml"), "max-log-bytes-max = \"1MiB\"").unwrap();
        let p = Policies {
            files: vec![system, tighter],
        };
        assert_eq!(
            resolve(&p, &[], Layer::default())
                .unwrap()
                .max_log_bytes
                .value,
            ByteSize(1 << 20)
        );
    }

    #[test]
    fn bad_policies_are_refused() {
        for (text, needle) in [
            ("allowed-endpoint = []", "allowed-endpoint"),
            ("allowed-endpoints = []", "allow nothing"),
            ("allow-http = true", "only be locked to false"),
            ("default-rules = false", "only be locked to true"),
            ("[plugins]\nallowed-sha256 = [\"abc\"]", "not a sha256"),
            (
                "[plugins]\nminisign-keys = [\"nope\"]",
                "not a minisign public key",
            ),
            (
                "max-log-bytes = \"9MiB\"\nmax-log-bytes-max = \"8MiB\"",
                "above",
            ),
        ] {
            let err = Policy::from_toml(Path::new("/p.toml"), text)
                .unwrap_err()
                .to_string();
            assert!(
                err.contains(needle) && err.contains("/p.toml"),
                "{text}: {err}"
            );
        }
    }

    #[test]
    fn plugins_are_checked_by_hash_and_signature_on_raw_bytes() {
        let dir = tempfile::tempdir().unwrap();
        let plugin = dir.path().join("acme.wasm");
        let bytes = b"any bytes: checked before any wasm parsing".to_vec();
        std::fs::write(&plugin, &bytes).unwrap();
        let sha = hex::encode(Sha256::digest(&bytes));

        // No plugin locks: anything goes.
        assert!(
            policy("")
                .check_plugin(&plugin, &bytes)
                .unwrap()
                .allowed_by
                .is_empty()
        );

        // Pinned hash.
        let pinned = policy(&format!("[plugins]\nallowed-sha256 = [\"{sha}\"]"));
        assert_eq!(pinned.check_plugin(&plugin, &bytes).unwrap().sha256, sha);
        let err = pinned
            .check_plugin(&plugin, b"other")
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("plugins.allowed-sha256") && err.contains("not in"),
            "{err}"
        );

        // Signatures.
        let good = minisign::KeyPair::generate_unencrypted_keypair().unwrap();
        let other = minisign::KeyPair::generate_unencrypted_keypair().unwrap();
        let signed = policy(&format!(
            "[plugins]\nminisign-keys = [\"{}\"]",
            good.pk.to_base64()
        ));
        let err = signed
            .check_plugin(&plugin, &bytes)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("no signature file") && err.contains("plugins.minisign-keys"),
            "{err}"
        );
        let sign = |kp: &minisign::KeyPair, data: &[u8]| {
            minisign::sign(Some(&kp.pk), &kp.sk, std::io::Cursor::new(data), None, None)
                .unwrap()
                .into_string()
        };
        std::fs::write(signature_path(&plugin), sign(&good, &bytes)).unwrap();
        let verdict = signed.check_plugin(&plugin, &bytes).unwrap();
        assert!(
            verdict.allowed_by[0].starts_with("signed by"),
            "{verdict:?}"
        );
        // The file changed after signing.
        let err = signed
            .check_plugin(&plugin, b"tampered")
            .unwrap_err()
            .to_string();
        assert!(err.contains("does not verify"), "{err}");
        // Signed by a key the policy does not trust.
        std::fs::write(signature_path(&plugin), sign(&other, &bytes)).unwrap();
        let err = signed
            .check_plugin(&plugin, &bytes)
            .unwrap_err()
            .to_string();
        assert!(err.contains("does not verify"), "{err}");
        // Garbage signature.
        std::fs::write(signature_path(&plugin), "not a signature").unwrap();
        let err = signed
            .check_plugin(&plugin, &bytes)
            .unwrap_err()
            .to_string();
        assert!(err.contains("is not a minisign signature"), "{err}");
    }

    #[cfg(unix)]
    #[test]
    fn policy_files_others_can_write_are_refused() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
        let path = dir.path().join("policy.toml");
        std::fs::write(&path, "strict = true\n").unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        let running_as_root = std::fs::metadata(&path)
            .map(|m| {
                use std::os::unix::fs::MetadataExt;
                m.uid() == 0
            })
            .unwrap_or(false);
        if running_as_root {
            assert!(
                Policies::load_from(Path::new("/nonexistent/policy.toml"), Some(&path))
                    .unwrap()
                    .locks_strict()
            );
        }
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o646)).unwrap();
        let err = Policies::load_from(Path::new("/nonexistent/policy.toml"), Some(&path))
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("refusing to run") && err.contains(&path.display().to_string()),
            "{err}"
        );
        if running_as_root {
            assert!(
                err.contains("writable by others") && err.contains("chmod go-w"),
                "{err}"
            );
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
            std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o777)).unwrap();
            let err = Policies::load_from(Path::new("/nonexistent/policy.toml"), Some(&path))
                .unwrap_err()
                .to_string();
            assert!(
                err.contains("which is writable by group and others"),
                "{err}"
            );
            std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o700)).unwrap();
        }
    }
}
