//! `exlogare policy show`, and how policy problems become [`Failure`]s.
//!
//! An administrator who locks settings needs to see, on a given machine and in a given project,
//! what exlogare will actually do: every effective setting, where its value came from, which
//! locks hold it, which plugins would be allowed, and every refusal at once (not only the first),
//! so one run of `policy show` is enough to fix a project.

use std::fmt::Write as _;

use exlogare_settings::{Layer, Policies, PolicyError, ResolveError, Settings, policy};

use crate::cli::{PolicyArgs, PolicyCommand};
use crate::context;
use crate::failure::{Failure, Kind};

/// Exit status when the policy refuses something (a config failure, as under `--strict`).
const REFUSED: u8 = 2;

impl From<PolicyError> for Failure {
    fn from(e: PolicyError) -> Failure {
        let hint = match &e {
            PolicyError::Unsafe { .. } | PolicyError::Read { .. } | PolicyError::Parse { .. } => {
                "the policy is set by this machine's administrators; see docs/policy.md"
            }
            PolicyError::Violations(_) => {
                "nothing was sent; remove or change the setting named (the policy is set by this machine's administrators; `exlogare policy show` lists every lock)"
            }
            PolicyError::Plugin { .. } => {
                "ask the administrators to pin its sha256 or sign it (docs/policy.md); `exlogare policy show` lists the plugin locks"
            }
        };
        Failure::new(Kind::Config, e.to_string()).hint(hint)
    }
}

impl From<ResolveError> for Failure {
    fn from(e: ResolveError) -> Failure {
        match e {
            ResolveError::Setting(e) => e.into(),
            ResolveError::Policy(e) => e.into(),
        }
    }
}

/// Runs `exlogare policy ...` and returns the exit status.
pub fn run(command: &PolicyCommand) -> u8 {
    match command {
        PolicyCommand::Show(args) => show(args),
    }
}

fn show(args: &PolicyArgs) -> u8 {
    let env = context::process_env();
    let mut out = String::new();
    let system = std::path::Path::new(policy::SYSTEM_POLICY);
    let policies = match Policies::load(&env) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("exlogare: error: {}", Failure::from(e));
            return REFUSED;
        }
    };
    out.push_str("policy files (each adds restrictions; the system file is always read):\n");
    if !policies.files.iter().any(|p| p.path == system) {
        let _ = writeln!(out, "  {}: not present", system.display());
    }
    for p in &policies.files {
        let from = if p.path == system {
            "system policy"
        } else {
            policy::POLICY_FILE_VAR
        };
        let _ = writeln!(
            out,
            "  {} ({from}): read, owned by root, not writable by others",
            p.path.display()
        );
    }

    // Resolve without the policy first, so every refusal can be listed beside the settings.
    let flags = context::common_flags(&args.common, Layer::default());
    let config = context::project_config(args.common.config.as_deref(), &env);
    let mut settings = match Settings::resolve(config.as_deref(), &env, &flags) {
        Ok(s) => s,
        Err(e) => {
            print!("{out}");
            eprintln!("exlogare: error: {}", Failure::from(e));
            return REFUSED;
        }
    };
    let mut refusal = policies.enforce(&mut settings).err();
    // A proxy variable the endpoint lock does not allow is one more refusal to list.
    match (&mut refusal, policies.check_proxies(&env)) {
        (_, Ok(())) => {}
        (Some(PolicyError::Violations(all)), Err(PolicyError::Violations(more))) => {
            all.extend(more)
        }
        (None, Err(e)) => refusal = Some(e),
        (Some(_), Err(_)) => {}
    }

    out.push_str("\nsettings:\n");
    let rows: Vec<(String, String, String, String)> = settings
        .describe()
        .into_iter()
        .map(|(name, value, source)| {
            let locks = policies.locks_on(name);
            let locked = if locks.is_empty() {
                "-".to_string()
            } else {
                format!("LOCKED: {}", locks.join("; "))
            };
            (name.to_string(), value, source.to_string(), locked)
        })
        .collect();
    let w0 = rows.iter().map(|r| r.0.len()).max().unwrap_or(0);
    let w1 = rows.iter().map(|r| r.1.len()).max().unwrap_or(0).min(40);
    let w2 = rows.iter().map(|r| r.2.len()).max().unwrap_or(0).min(48);
    for (name, value, source, locked) in &rows {
        let _ = writeln!(out, "  {name:<w0$}  {value:<w1$}  {source:<w2$}  {locked}");
    }

    let mut refused = false;
    if !settings.plugins.value.is_empty() {
        out.push_str("\nplugins (in chain order):\n");
        for path in &settings.plugins.value {
            let verdict = std::fs::read(path)
                .map_err(|e| format!("cannot read it: {e}"))
                .and_then(|bytes| {
                    policies
                        .check_plugin(path, &bytes)
                        .map_err(|e| e.to_string())
                });
            match verdict {
                Ok(v) if v.allowed_by.is_empty() => {
                    let _ = writeln!(
                        out,
                        "  {}  sha256 {}  allowed (no plugin lock)",
                        path.display(),
                        v.sha256
                    );
                }
                Ok(v) => {
                    let _ = writeln!(
                        out,
                        "  {}  sha256 {}  allowed: {}",
                        path.display(),
                        v.sha256,
                        v.allowed_by.join("; ")
                    );
                }
                Err(why) => {
                    refused = true;
                    let _ = writeln!(out, "  {}  REFUSED: {why}", path.display());
                }
            }
        }
    }
    if let Some(PolicyError::Violations(list)) = &refusal {
        out.push_str("\nREFUSED (report sends nothing until these are fixed):\n");
        for v in list {
            let _ = writeln!(out, "  {v}");
        }
    } else if let Some(e) = &refusal {
        let _ = writeln!(out, "\nREFUSED: {e}");
    }
    if !settings.default_rules.value {
        refused = true;
        let _ = writeln!(out, "\nREFUSED: {}", context::default_rules_off(&settings));
    }
    print!("{out}");
    if refusal.is_some() || refused {
        REFUSED
    } else {
        0
    }
}
