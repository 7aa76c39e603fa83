//! Reading CI variables safely.
//!
//! Every provider reads its variables through [`Env`], which is where the rules that hold for
//! all of them live: the last value of a repeated name wins, an empty or blank value counts as
//! missing (GitLab sets some variables to `""`), and a name that looks secret is never read, even
//! when the host passed it by mistake.

use std::collections::BTreeMap;

/// Name segments (split at `_`, `-`, ...) that mark a variable as secret.
const SECRET_SEGMENTS: &[&str] = &[
    "KEY",
    "KEYS",
    "PASS",
    "PW",
    "PWD",
    "PASSPHRASE",
    "APIKEY",
    "ACCESSKEY",
    "SECRETKEY",
    "PRIVATEKEY",
    "CREDENTIAL",
    "CREDENTIALS",
    "CREDS",
    "AUTH",
    "COOKIE",
    "DSN",
    "SALT",
    "SIGNATURE",
];

/// Text that marks a variable as secret wherever it appears in the name.
const SECRET_PARTS: &[&str] = &["TOKEN", "PASSWORD", "PASSWD", "SECRET", "JWT"];

/// Whether a variable name (or `--meta` key) looks like it holds a secret: `CI_JOB_TOKEN`,
/// `CI_JOB_JWT_V2`, `DB_PASSWORD`, `API_KEY`, ... Such names are never read nor sent.
pub fn looks_secret(name: &str) -> bool {
    let upper = name.to_ascii_uppercase();
    SECRET_PARTS.iter().any(|part| upper.contains(part))
        || upper
            .split(|c: char| !c.is_ascii_alphanumeric())
            .any(|segment| SECRET_SEGMENTS.contains(&segment))
}

/// The CI variables, looked up by name.
#[derive(Debug, Default)]
pub(crate) struct Env<'a> {
    vars: BTreeMap<&'a str, &'a str>,
}

impl<'a> Env<'a> {
    /// Indexes the variables; for a repeated name the last value wins, as in a shell.
    pub(crate) fn new(pairs: &'a [(String, String)]) -> Self {
        let vars = pairs
            .iter()
            .map(|(name, value)| (name.as_str(), value.as_str()))
            .collect();
        Env { vars }
    }

    /// The value of `name`, or `None` when it is unset, blank, or the name looks secret.
    pub(crate) fn get(&self, name: &str) -> Option<&'a str> {
        debug_assert!(
            crate::providers::wanted_env(name),
            "{name} is read but not listed in wanted_env"
        );
        if looks_secret(name) {
            return None;
        }
        self.vars
            .get(name)
            .copied()
            .filter(|value| !value.trim().is_empty())
    }

    /// The first of `names` that is set.
    pub(crate) fn first(&self, names: &[&str]) -> Option<&'a str> {
        names.iter().find_map(|name| self.get(name))
    }

    /// Whether `name` is set to `true` (any case), as CI systems mark themselves.
    pub(crate) fn is_true(&self, name: &str) -> bool {
        self.get(name)
            .is_some_and(|value| value.trim().eq_ignore_ascii_case("true"))
    }
}

#[cfg(test)]
mod tests {
    use super::looks_secret;

    #[test]
    fn secret_names() {
        for name in [
            "CI_JOB_TOKEN",
            "CI_JOB_JWT",
            "CI_JOB_JWT_V2",
            "EXLOGARE_TOKEN",
            "DB_PASSWORD",
            "AWS_SECRET_ACCESS_KEY",
            "api_key",
            "GITHUBTOKEN",
            "BUILDKITE_AGENT_ACCESS_TOKEN",
        ] {
            assert!(looks_secret(name), "{name}");
        }
        for name in [
            "CI_PROJECT_PATH",
            "CI_COMMIT_AUTHOR",
            "GITHUB_RUN_ID",
            "monkey",
        ] {
            assert!(!looks_secret(name), "{name}");
        }
    }
}
