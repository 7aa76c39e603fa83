//! One layer of settings: what a config file, the environment or the flags set.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;

use crate::{ByteSize, Compress, Error, When};

/// Settings one layer sets; `None` leaves the lower layer's value.
#[derive(Clone, Debug, Default)]
pub struct Layer {
    pub url: Option<String>,
    pub log: Option<PathBuf>,
    pub when: Option<When>,
    pub strict: Option<bool>,
    pub max_log_bytes: Option<ByteSize>,
    pub max_read_bytes: Option<ByteSize>,
    pub excerpt_bytes: Option<ByteSize>,
    pub min_secret_length: Option<u32>,
    pub redact_vars: Option<Vec<String>>,
    pub rules: Option<PathBuf>,
    pub plugins: Option<Vec<PathBuf>>,
    pub keep_ansi: Option<bool>,
    pub deadline: Option<Duration>,
    pub connect_timeout: Option<Duration>,
    pub spool_dir: Option<PathBuf>,
    pub compress: Option<Compress>,
    pub ca_file: Option<PathBuf>,
    pub allow_http: Option<bool>,
    pub default_rules: Option<bool>,
}

/// The environment variable behind each setting key.
pub const ENV_VARS: &[(&str, &str)] = &[
    ("url", "EXLOGARE_URL"),
    ("log", "EXLOGARE_LOG"),
    ("when", "EXLOGARE_WHEN"),
    ("strict", "EXLOGARE_STRICT"),
    ("max-log-bytes", "EXLOGARE_MAX_LOG_BYTES"),
    ("max-read-bytes", "EXLOGARE_MAX_READ_BYTES"),
    ("excerpt-bytes", "EXLOGARE_EXCERPT_BYTES"),
    ("min-secret-length", "EXLOGARE_MIN_SECRET_LENGTH"),
    ("redact-vars", "EXLOGARE_REDACT_VARS"),
    ("rules", "EXLOGARE_RULES"),
    ("plugins", "EXLOGARE_PLUGINS"),
    ("keep-ansi", "EXLOGARE_KEEP_ANSI"),
    ("deadline", "EXLOGARE_DEADLINE"),
    ("connect-timeout", "EXLOGARE_CONNECT_TIMEOUT"),
    ("spool-dir", "EXLOGARE_SPOOL_DIR"),
    ("compress", "EXLOGARE_COMPRESS"),
    ("ca-file", "EXLOGARE_CA_FILE"),
    ("allow-http", "EXLOGARE_ALLOW_HTTP"),
    ("default-rules", "EXLOGARE_DEFAULT_RULES"),
];

/// The project config file as written (kebab-case keys, unknown keys refused).
#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct FileLayer {
    url: Option<String>,
    log: Option<PathBuf>,
    when: Option<StrOrList>,
    strict: Option<bool>,
    max_log_bytes: Option<SizeValue>,
    max_read_bytes: Option<SizeValue>,
    excerpt_bytes: Option<SizeValue>,
    min_secret_length: Option<u32>,
    redact_vars: Option<StrOrList>,
    rules: Option<PathBuf>,
    plugins: Option<Vec<PathBuf>>,
    keep_ansi: Option<bool>,
    deadline: Option<u64>,
    connect_timeout: Option<u64>,
    spool_dir: Option<PathBuf>,
    compress: Option<String>,
    ca_file: Option<PathBuf>,
    allow_http: Option<bool>,
    default_rules: Option<bool>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum StrOrList {
    Str(String),
    List(Vec<String>),
}

impl StrOrList {
    fn joined(self) -> String {
        match self {
            StrOrList::Str(s) => s,
            StrOrList::List(l) => l.join(","),
        }
    }
}

/// A size as TOML holds it: a number of bytes or text such as `8MiB`.
#[derive(Deserialize)]
#[serde(untagged)]
pub(crate) enum SizeValue {
    Num(u64),
    Text(String),
}

impl SizeValue {
    /// The size, or an error naming `setting`.
    pub(crate) fn bytes(self, setting: &str) -> Result<ByteSize, Error> {
        match self {
            SizeValue::Num(n) => Ok(ByteSize(n)),
            SizeValue::Text(t) => ByteSize::parse(setting, &t),
        }
    }
}

/// Parses `true/false/1/0/yes/no/on/off`.
pub(crate) fn parse_bool(setting: &str, text: &str) -> Result<bool, Error> {
    match text.trim().to_ascii_lowercase().as_str() {
        "1" | "true" | "yes" | "on" => Ok(true),
        "0" | "false" | "no" | "off" | "" => Ok(false),
        _ => Err(Error::Invalid {
            setting: setting.to_string(),
            value: text.to_string(),
            expected: "true or false".to_string(),
        }),
    }
}

fn parse_list(text: &str) -> Vec<String> {
    text.split([',', ' ', '\n'])
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(String::from)
        .collect()
}

/// Parses a duration in seconds (`120`, `120s`, `2m`).
pub fn parse_duration(setting: &str, text: &str) -> Result<Duration, Error> {
    let t = text.trim().to_ascii_lowercase();
    let invalid = || Error::Invalid {
        setting: setting.to_string(),
        value: text.to_string(),
        expected: "a duration in seconds, such as 120, 90s or 2m".to_string(),
    };
    let (num, mult) = if let Some(n) = t.strip_suffix('m') {
        (n, 60)
    } else if let Some(n) = t.strip_suffix('s') {
        (n, 1)
    } else {
        (t.as_str(), 1)
    };
    let n: u64 = num.trim().parse().map_err(|_| invalid())?;
    if n == 0 {
        return Err(invalid());
    }
    Ok(Duration::from_secs(n.saturating_mul(mult)))
}

impl Layer {
    /// Reads a project config file.
    pub fn from_file(path: &Path) -> Result<Layer, Error> {
        let text = std::fs::read_to_string(path).map_err(|e| Error::Read {
            path: path.to_path_buf(),
            reason: e.to_string(),
        })?;
        Layer::from_toml(&text).map_err(|e| match e {
            Error::Parse { reason, .. } => Error::Parse {
                path: path.to_path_buf(),
                reason,
            },
            Error::Invalid {
                setting,
                value,
                expected,
            } => Error::Parse {
                path: path.to_path_buf(),
                reason: format!("invalid {setting} `{value}`: expected {expected}"),
            },
            other => other,
        })
    }

    /// Parses config TOML text.
    pub fn from_toml(text: &str) -> Result<Layer, Error> {
        let raw: FileLayer = toml::from_str(text).map_err(|e| Error::Parse {
            path: PathBuf::new(),
            reason: e.message().to_string(),
        })?;
        Ok(Layer {
            url: raw.url,
            log: raw.log,
            when: raw.when.map(|w| When::parse(&w.joined())).transpose()?,
            strict: raw.strict,
            max_log_bytes: raw
                .max_log_bytes
                .map(|v| v.bytes("max-log-bytes"))
                .transpose()?,
            max_read_bytes: raw
                .max_read_bytes
                .map(|v| v.bytes("max-read-bytes"))
                .transpose()?,
            excerpt_bytes: raw
                .excerpt_bytes
                .map(|v| v.bytes("excerpt-bytes"))
                .transpose()?,
            min_secret_length: raw.min_secret_length,
            redact_vars: raw.redact_vars.map(|v| parse_list(&v.joined())),
            rules: raw.rules,
            plugins: raw.plugins,
            keep_ansi: raw.keep_ansi,
            deadline: raw
                .deadline
                .map(|s| parse_duration("deadline", &s.to_string()))
                .transpose()?,
            connect_timeout: raw
                .connect_timeout
                .map(|s| parse_duration("connect-timeout", &s.to_string()))
                .transpose()?,
            spool_dir: raw.spool_dir,
            compress: raw.compress.map(|c| Compress::parse(&c)).transpose()?,
            ca_file: raw.ca_file,
            allow_http: raw.allow_http,
            default_rules: raw.default_rules,
        })
    }

    /// Reads the `EXLOGARE_*` variables; also returns, per setting key, the variable used.
    pub fn from_env(env: &[(String, String)]) -> Result<(Layer, HashMap<String, String>), Error> {
        let get = |name: &str| {
            env.iter()
                .rev()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.as_str())
                .filter(|v| !v.trim().is_empty())
        };
        let mut names = HashMap::new();
        let mut layer = Layer::default();
        for (key, var) in ENV_VARS {
            let Some(v) = get(var) else { continue };
            names.insert(key.to_string(), var.to_string());
            match *key {
                "url" => layer.url = Some(v.trim().to_string()),
                "log" => layer.log = Some(PathBuf::from(v)),
                "when" => layer.when = Some(When::parse(v).map_err(|e| rename(e, var))?),
                "strict" => layer.strict = Some(parse_bool(var, v)?),
                "max-log-bytes" => layer.max_log_bytes = Some(ByteSize::parse(var, v)?),
                "max-read-bytes" => layer.max_read_bytes = Some(ByteSize::parse(var, v)?),
                "excerpt-bytes" => layer.excerpt_bytes = Some(ByteSize::parse(var, v)?),
                "min-secret-length" => {
                    layer.min_secret_length =
                        Some(v.trim().parse().map_err(|_| Error::Invalid {
                            setting: var.to_string(),
                            value: v.to_string(),
                            expected: "a number of bytes".to_string(),
                        })?)
                }
                "redact-vars" => layer.redact_vars = Some(parse_list(v)),
                "rules" => layer.rules = Some(PathBuf::from(v)),
                "plugins" => {
                    layer.plugins = Some(
                        v.split([':', ','])
                            .filter(|s| !s.trim().is_empty())
                            .map(|s| PathBuf::from(s.trim()))
                            .collect(),
                    )
                }
                "keep-ansi" => layer.keep_ansi = Some(parse_bool(var, v)?),
                "deadline" => layer.deadline = Some(parse_duration(var, v)?),
                "connect-timeout" => layer.connect_timeout = Some(parse_duration(var, v)?),
                "spool-dir" => layer.spool_dir = Some(PathBuf::from(v)),
                "compress" => {
                    layer.compress = Some(Compress::parse(v).map_err(|e| rename(e, var))?)
                }
                "ca-file" => layer.ca_file = Some(PathBuf::from(v)),
                "allow-http" => layer.allow_http = Some(parse_bool(var, v)?),
                "default-rules" => layer.default_rules = Some(parse_bool(var, v)?),
                _ => {}
            }
        }
        Ok((layer, names))
    }
}

fn rename(e: Error, var: &str) -> Error {
    match e {
        Error::Invalid {
            value, expected, ..
        } => Error::Invalid {
            setting: var.to_string(),
            value,
            expected,
        },
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_refuses_unknown_keys() {
        let err = Layer::from_toml("urll = \"x\"").unwrap_err();
        assert!(err.to_string().contains("urll"), "{err}");
    }

    #[test]
    fn file_reads_lists_and_sizes() {
        let l = Layer::from_toml("when = [\"failed\", \"canceled\"]\nmax-log-bytes = 1024\nredact-vars = \"A,B\"\ndeadline = 60").unwrap();
        assert_eq!(
            l.when,
            Some(When::Statuses(vec!["failed".into(), "canceled".into()]))
        );
        assert_eq!(l.max_log_bytes, Some(ByteSize(1024)));
        assert_eq!(l.redact_vars, Some(vec!["A".into(), "B".into()]));
        assert_eq!(l.deadline, Some(Duration::from_secs(60)));
        let l = Layer::from_toml("connect-timeout = 5").unwrap();
        assert_eq!(l.connect_timeout, Some(Duration::from_secs(5)));
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration("d", "2m").unwrap(), Duration::from_secs(120));
        assert_eq!(parse_duration("d", "90s").unwrap(), Duration::from_secs(90));
        assert!(parse_duration("d", "0").is_err());
        assert!(parse_duration("d", "soon").is_err());
    }
}
