//! Failures at the CLI edge, each with its exit code under `--strict`.
//!
//! By default `exlogare` is fail-open: an after_script must not fail the job, so every failure
//! is printed as one clear line and the exit status is 0. `--strict` turns each kind into its
//! own non-zero code (documented in the README).

use std::fmt;

/// What kind of problem ended the command.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// A bad flag, variable or config value.
    Config,
    /// The log could not be read.
    Input,
    /// The token is missing or was refused.
    Auth,
    /// The service could not be reached.
    Network,
    /// The service answered with an error.
    Server,
    /// Redaction or the sandbox failed; nothing was sent (fail closed).
    Redaction,
}

impl Kind {
    /// The exit code under `--strict`.
    pub fn code(self) -> i32 {
        match self {
            Kind::Config => 2,
            Kind::Input => 3,
            Kind::Auth => 4,
            Kind::Network => 5,
            Kind::Server => 6,
            Kind::Redaction => 7,
        }
    }
}

/// A problem, said as what went wrong, what was kept, and what to do.
#[derive(Debug)]
pub struct Failure {
    /// The kind, for the exit code.
    pub kind: Kind,
    /// What went wrong.
    pub what: String,
    /// What to do about it (may be empty).
    pub hint: String,
}

impl Failure {
    /// A failure of `kind`.
    pub fn new(kind: Kind, what: impl Into<String>) -> Failure {
        Failure {
            kind,
            what: what.into(),
            hint: String::new(),
        }
    }

    /// Adds what to do.
    pub fn hint(mut self, hint: impl Into<String>) -> Failure {
        self.hint = hint.into();
        self
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.what)?;
        if !self.hint.is_empty() {
            write!(f, " — {}", self.hint)?;
        }
        Ok(())
    }
}

impl From<exlogare_settings::Error> for Failure {
    fn from(e: exlogare_settings::Error) -> Failure {
        Failure::new(Kind::Config, e.to_string())
    }
}

impl From<exlogare_runtime::GuestError> for Failure {
    fn from(e: exlogare_runtime::GuestError) -> Failure {
        if let exlogare_runtime::GuestError::Rejected { .. } = e {
            // The redactor declined its options: a rule file or setting to fix.
            return Failure::new(Kind::Config, format!("{e}; nothing was sent")).hint(
                "fix the rule file or settings it names, and check with `exlogare redact --report`",
            );
        }
        Failure::new(Kind::Redaction, e.to_string())
            .hint("nothing was sent, so no secret could leave; report this with `exlogare redact --report` output if it persists")
    }
}
