//! Everything a command starts from: the environment, the resolved settings, the token and
//! the known secrets. Read once, at the edge.

use std::path::{Path, PathBuf};

use exlogare_settings::{Layer, Settings};

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
}

impl Context {
    /// Reads the environment, the project config and the flags.
    pub fn load(common: &CommonArgs, mut flags: Layer, token_file: Option<&Path>) -> Result<Context, Failure> {
        let env: Vec<(String, String)> = std::env::vars_os()
            .map(|(k, v)| (k.to_string_lossy().into_owned(), v.to_string_lossy().into_owned()))
            .collect();
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
        let config = project_config(common.config.as_deref(), &env);
        let settings = Settings::resolve(config.as_deref(), &env, &flags)?;
        let token = read_token(&env, token_file)?;
        let secrets = secrets::collect(&env, token.as_deref(), &settings.redact_vars.value);
        Ok(Context {
            env,
            settings,
            token,
            secrets,
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

/// `--config`, else `EXLOGARE_CONFIG`, else `./exlogare.toml` when it exists.
fn project_config(flag: Option<&Path>, env: &[(String, String)]) -> Option<PathBuf> {
    if let Some(path) = flag {
        return Some(path.to_path_buf());
    }
    if let Some((_, v)) = env.iter().find(|(k, v)| k == "EXLOGARE_CONFIG" && !v.is_empty()) {
        return Some(PathBuf::from(v));
    }
    let local = PathBuf::from("exlogare.toml");
    local.is_file().then_some(local)
}

/// The token: `--token-file`, else `EXLOGARE_TOKEN`. Never from argv.
fn read_token(env: &[(String, String)], token_file: Option<&Path>) -> Result<Option<String>, Failure> {
    if let Some(path) = token_file {
        let text = std::fs::read_to_string(path).map_err(|e| {
            Failure::new(Kind::Auth, format!("cannot read the token file {}: {e}", path.display()))
                .hint("check the path given to --token-file")
        })?;
        let token = text.trim().to_string();
        if token.is_empty() {
            return Err(Failure::new(Kind::Auth, format!("the token file {} is empty", path.display())));
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
