//! Everything a command starts from: the environment, the resolved settings, the token and
//! the known secrets. Read once, at the edge.
//!
//! The system policy is read and enforced here, so every command that reads settings obeys it:
//! a setting that contradicts a lock, or a policy file anyone but root could change, stops the
//! command before it does anything.

use std::path::{Path, PathBuf};

use exlogare_settings::{Layer, Policies, Settings};

use crate::cli::CommonArgs;
use crate::failure::{Failure, Kind};
use crate::secrets::{self, Secret};

/// The starting point of a command.
pub struct Context {
    /// The process environment (lossy UTF-8).
    pub env: Vec<(String, String)>,
    /// Resolved settings.
    pub settings: Settings,
    /// The token, if any.
    pub token: Option<String>,
    /// Known secret values (the token among them).
    pub secrets: Vec<Secret>,
    /// The policies in force (plugins are checked against them when read).
    pub policies: Policies,
}

impl Context {
    /// Reads the environment, the system policy, the project config and the flags; refuses
    /// settings that contradict the policy.
    pub fn load(
        common: &CommonArgs,
        flags: Layer,
        token_file: Option<&Path>,
    ) -> Result<Context, Failure> {
        let env = process_env();
        let policies = Policies::load(&env)?;
        let flags = common_flags(common, flags);
        let config = project_config(common.config.as_deref(), &env);
        let settings = Settings::resolve_under(&policies, config.as_deref(), &env, &flags)?;
        if !settings.default_rules.value {
            return Err(default_rules_off(&settings));
        }
        let token = read_token(&env, token_file)?;
        let secrets = secrets::collect(&env, token.as_deref(), &settings.redact_vars.value);
        Ok(Context {
            env,
            settings,
            token,
            secrets,
            policies,
        })
    }

    /// A variable's value, if set and not empty.
    pub fn var(&self, name: &str) -> Option<&str> {
        self.env
            .iter()
            .rev()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .filter(|v| !v.trim().is_empty())
    }

    /// The known secrets as (name, value) pairs for the guests.
    pub fn secret_pairs(&self) -> Vec<(String, String)> {
        self.secrets
            .iter()
            .map(|s| (s.name.clone(), s.value.clone()))
            .collect()
    }

    /// The CI variables the payload may use: wanted by a provider, and not secret-looking.
    pub fn ci_env(&self) -> Vec<(String, String)> {
        self.env
            .iter()
            .filter(|(k, _)| exlogare_payload::wanted_env(k) && !secrets::name_looks_secret(k))
            .cloned()
            .collect()
    }
}

/// The flags layer: the command's own `flags` plus the flags every command shares.
pub fn common_flags(common: &CommonArgs, mut flags: Layer) -> Layer {
    flags.rules = common.rules.clone().or(flags.rules);
    flags.min_secret_length = common.min_secret_length.or(flags.min_secret_length);
    flags.redact_vars = common.redact_vars.clone().or(flags.redact_vars);
    if !common.plugins.is_empty() {
        flags.plugins = Some(common.plugins.clone());
    }
    if common.keep_ansi {
        flags.keep_ansi = Some(true);
    }
    if common.strict {
        flags.strict = Some(true);
    }
    flags
}

/// The process environment, lossy UTF-8.
pub fn process_env() -> Vec<(String, String)> {
    std::env::vars_os()
        .map(|(k, v)| {
            (
                k.to_string_lossy().into_owned(),
                v.to_string_lossy().into_owned(),
            )
        })
        .collect()
}

/// Whether a command that failed before its settings were resolved should exit non-zero:
/// `--strict`, `EXLOGARE_STRICT`, or a policy that locks strict mode on (so a refusal by a
/// strict policy fails the job, while an unlocked install stays fail-open).
pub fn strict_wanted(common: &CommonArgs) -> bool {
    let env = process_env();
    let var = env
        .iter()
        .rev()
        .find(|(k, _)| k == "EXLOGARE_STRICT")
        .is_some_and(|(_, v)| {
            matches!(
                v.trim().to_ascii_lowercase().as_str(),
                "1" | "true" | "yes" | "on"
            )
        });
    common.strict || var || Policies::load(&env).is_ok_and(|p| p.locks_strict())
}

/// The refusal of `default-rules = false`: the built-in rules cannot be turned off (yet).
pub fn default_rules_off(settings: &Settings) -> Failure {
    Failure::new(
        Kind::Config,
        format!(
            "default-rules = false (from {}) is not supported: the built-in redaction rules always run; nothing was sent",
            settings.default_rules.source
        ),
    )
    .hint("remove default-rules from the project config / EXLOGARE_DEFAULT_RULES")
}

/// `--config`, else `EXLOGARE_CONFIG`, else `./exlogare.toml` when it exists.
pub fn project_config(flag: Option<&Path>, env: &[(String, String)]) -> Option<PathBuf> {
    if let Some(path) = flag {
        return Some(path.to_path_buf());
    }
    if let Some((_, v)) = env
        .iter()
        .find(|(k, v)| k == "EXLOGARE_CONFIG" && !v.is_empty())
    {
        return Some(PathBuf::from(v));
    }
    let local = PathBuf::from("exlogare.toml");
    local.is_file().then_some(local)
}

/// The token: `--token-file`, else `EXLOGARE_TOKEN`. Never from argv.
fn read_token(
    env: &[(String, String)],
    token_file: Option<&Path>,
) -> Result<Option<String>, Failure> {
    if let Some(path) = token_file {
        let text = std::fs::read_to_string(path).map_err(|e| {
            Failure::new(
                Kind::Auth,
                format!("cannot read the token file {}: {e}", path.display()),
            )
            .hint("check the path given to --token-file")
        })?;
        let token = text.trim().to_string();
        if token.is_empty() {
            return Err(Failure::new(
                Kind::Auth,
                format!("the token file {} is empty", path.display()),
            ));
        }
        return Ok(Some(token));
    }
    Ok(env
        .iter()
        .rev()
        .find(|(k, _)| k == "EXLOGARE_TOKEN")
        .map(|(_, v)| v.trim().to_string())
        .filter(|v| !v.is_empty()))
}
