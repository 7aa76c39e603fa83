//! `exlogare`: send a failed CI job's log, safely redacted, to the Exlogare root-cause-analysis
//! service.
//!
//! This crate is the thin native edge: it reads settings, the environment and the log file,
//! drives the sandboxed guests (`exlogare-runtime`), and hands finished payloads to
//! `exlogare-deliver`. It never interprets log text itself beyond the leak check.

mod budget;
mod cli;
mod context;
mod delivery;
mod doctor;
mod failure;
mod logsource;
mod pipeline;
mod plugins;
mod policy_cmd;
mod redact;
mod report;
mod run_cmd;
mod scrub;
mod secrets;
mod send;

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use clap::Parser;

use crate::failure::{Failure, Kind};
use crate::scrub::Scrubber;

fn main() -> ExitCode {
    let started = Instant::now();
    let cli = match cli::Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            // --help and --version are not errors.
            let code = if e.use_stderr() {
                Kind::Config.code()
            } else {
                0
            };
            let _ = e.print();
            return ExitCode::from(code as u8);
        }
    };
    let finish = match &cli.command {
        cli::Command::Report(args) => report::run(args, started),
        cli::Command::Redact(args) => redact::run(args),
        cli::Command::Send(args) => send::run(args, started),
        cli::Command::Plugin(cli::PluginCommand::Inspect(args)) => plugins::run_inspect(args),
        cli::Command::Run(args) => return ExitCode::from(run_cmd::run(args)),
        cli::Command::Doctor(args) => return ExitCode::from(doctor::run(args)),
        cli::Command::Policy(cmd) => return ExitCode::from(policy_cmd::run(cmd)),
    };
    ExitCode::from(finish.exit() as u8)
}

/// How a command ended: one line for the user, and the exit status.
pub struct Finish {
    line: String,
    failure: Option<Kind>,
    strict: bool,
    quiet: bool,
    scrubber: Option<Scrubber>,
}

impl Finish {
    /// A command that did what it should (which includes skipping on purpose).
    pub fn ok(line: String, scrubber: Option<Scrubber>) -> Finish {
        Finish {
            line,
            failure: None,
            strict: false,
            quiet: false,
            scrubber,
        }
    }

    /// A command that failed; exits non-zero only when `strict`.
    pub fn failed(failure: Failure, strict: bool, scrubber: Option<Scrubber>) -> Finish {
        Finish {
            line: failure.to_string(),
            failure: Some(failure.kind),
            strict,
            quiet: false,
            scrubber,
        }
    }

    /// Print nothing on success.
    pub fn quiet(mut self, quiet: bool) -> Finish {
        self.quiet = quiet;
        self
    }

    /// Prints the line (scrubbed of every known secret) and returns the exit status.
    fn exit(self) -> i32 {
        let line = match &self.scrubber {
            Some(s) => s.scrub(&self.line),
            None => self.line.clone(),
        };
        let mut stderr = std::io::stderr().lock();
        match self.failure {
            None if self.quiet => 0,
            None => {
                let _ = writeln!(stderr, "exlogare: {line}");
                0
            }
            Some(kind) if self.strict => {
                let _ = writeln!(stderr, "exlogare: error: {line}");
                kind.code()
            }
            Some(_) => {
                let _ = writeln!(
                    stderr,
                    "exlogare: error: {line} (exit status 0 so the job is not failed; --strict changes that)"
                );
                0
            }
        }
    }
}

/// The runtime for a command that runs plugins: the cache unless a policy switches it off, and
/// the caps checked before compiling a plugin, lowered by the policy where it sets them.
pub fn plugin_runtime(
    env: &[(String, String)],
    policies: &exlogare_settings::Policies,
) -> Result<exlogare_runtime::Runtime, exlogare_runtime::GuestError> {
    let cache = runtime_cache(env).filter(|_| !policies.plugin_cache_off());
    let mut runtime = exlogare_runtime::Runtime::new(cache)?;
    let mut caps = runtime.compile_caps();
    let (functions, function_bytes, code_bytes) = policies.compile_caps();
    if let Some(n) = functions {
        caps.functions = caps.functions.min(n);
    }
    if let Some(n) = function_bytes {
        caps.function_bytes = caps
            .function_bytes
            .min(u32::try_from(n).unwrap_or(u32::MAX));
    }
    if let Some(n) = code_bytes {
        caps.code_bytes = caps.code_bytes.min(n);
    }
    runtime.set_compile_caps(caps);
    Ok(runtime)
}

/// Where compiled guests are cached: `EXLOGARE_CACHE_DIR`, else the XDG cache directory.
pub fn runtime_cache(env: &[(String, String)]) -> Option<exlogare_runtime::ArtifactCache> {
    let get = |name: &str| {
        env.iter()
            .rev()
            .find(|(k, v)| k == name && !v.is_empty())
            .map(|(_, v)| PathBuf::from(v))
    };
    // The trust records that vouch for each cached artifact live apart from the cache, which
    // a CI cache may restore with whatever the project put in it; without a place for them
    // there is no cache (every plugin is compiled each run).
    let trust = get("XDG_STATE_HOME")
        .map(|d| d.join("exlogare/trust"))
        .or_else(|| get("HOME").map(|h| h.join(".local/state/exlogare/trust")))?;
    get("EXLOGARE_CACHE_DIR")
        .or_else(|| get("XDG_CACHE_HOME").map(|d| d.join("exlogare")))
        .or_else(|| get("HOME").map(|h| h.join(".cache/exlogare")))
        .filter(|dir| !trust.starts_with(dir))
        .map(|dir| exlogare_runtime::ArtifactCache::new(dir, trust))
}
