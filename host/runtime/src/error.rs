//! What can go wrong inside a guest, said so a user can act on it.

use std::time::Duration;

/// A guest failed. Every variant names the guest and the call; none carries log text.
#[derive(Debug, thiserror::Error)]
pub enum GuestError {
    /// The component could not be loaded or compiled.
    #[error("cannot load {guest}: {reason}")]
    Load { guest: String, reason: String },
    /// The guest ran past its time limit.
    #[error("{guest} ran past its time limit ({limit:?}) in `{call}` and was stopped")]
    Timeout {
        guest: String,
        call: String,
        limit: Duration,
    },
    /// The guest tried to grow its memory beyond the cap.
    #[error(
        "{guest} tried to use more than its memory limit ({limit_mib} MiB) in `{call}` and was stopped"
    )]
    MemoryLimit {
        guest: String,
        call: String,
        limit_mib: usize,
    },
    /// The guest returned more output than allowed for its input.
    #[error("{guest} returned {got} bytes from `{call}`, over its output limit of {limit} bytes")]
    OutputTooLarge {
        guest: String,
        call: String,
        got: usize,
        limit: usize,
    },
    /// The guest's answer would have made the host copy more than its copy limit: strings
    /// and lists (which may all point at the same bytes of its memory) are counted as they
    /// are read, and reading stops at the limit.
    #[error(
        "{guest} answered `{call}` with more than {limit_mib} MiB for the host to copy, over its output limit; the answer was dropped before it was copied"
    )]
    CopyLimit {
        guest: String,
        call: String,
        limit_mib: usize,
    },
    /// The guest asked the host for more of a resource than it may have: table elements, host
    /// handles (streams, pollables), random bytes in one call.
    #[error("{guest} was stopped in `{call}`: {what}")]
    OverLimit {
        guest: String,
        call: String,
        /// What it asked for, and the limit.
        what: String,
    },
    /// The guest trapped (a panic, an `unreachable`, a bad access...).
    #[error("{guest} crashed in `{call}`: {reason}{}", stderr_note(.stderr))]
    Trap {
        guest: String,
        call: String,
        reason: String,
        stderr: String,
    },
    /// The guest declined its input (bad options or rules), with its own message.
    #[error("{guest} refused its input: {message}")]
    Rejected { guest: String, message: String },
    /// A plugin does not export the redaction interface at all.
    #[error(
        "{guest} is not a redaction plugin: it does not export exlogare:ingest/redaction (its exports: {exports}); build it for the `redactor-plugin` world"
    )]
    NotAPlugin { guest: String, exports: String },
    /// A plugin was built for a WIT version this host does not speak.
    #[error(
        "{guest} was built for {found}, but this exlogare supports exlogare:ingest {supported}; rebuild the plugin against a supported WIT version, or use an exlogare that supports it"
    )]
    UnsupportedVersion {
        guest: String,
        found: String,
        supported: String,
    },
    /// A plugin imports something outside the sandbox's allowlist; it was not instantiated.
    #[error(
        "{guest} was refused before it ran: it imports {imports}, which the sandbox does not allow (plugins get no files, network or host functions: only the WASI parts Rust's std needs)"
    )]
    ForbiddenImport { guest: String, imports: String },
    /// A plugin is over a cap checked before compiling it (functions, code size, locals).
    #[error(
        "{guest} was refused before it was compiled: {reason}; a redaction plugin needs far less, so this looks like a compile bomb"
    )]
    TooBig { guest: String, reason: String },
    /// Compiling a plugin took longer than the time left before the deadline.
    #[error(
        "compiling {guest} did not finish in the time left before the deadline ({limit:?}) and was given up"
    )]
    CompileTimeout { guest: String, limit: Duration },
    /// A guest returned something the host does not accept (a bad rule name, too many rules,
    /// an `info()` that is not a plain name...). What it returned is not shown.
    #[error("{guest} returned an invalid answer from `{call}`: {reason}")]
    BadAnswer {
        guest: String,
        call: String,
        reason: String,
    },
}

fn stderr_note(stderr: &str) -> String {
    let trimmed = stderr.trim();
    if trimmed.is_empty() {
        String::new()
    } else {
        format!(
            "\n  its stderr said:\n    {}",
            trimmed.replace('\n', "\n    ")
        )
    }
}

impl GuestError {
    /// The guest this error is about.
    pub fn guest(&self) -> &str {
        match self {
            GuestError::Load { guest, .. }
            | GuestError::Timeout { guest, .. }
            | GuestError::MemoryLimit { guest, .. }
            | GuestError::OutputTooLarge { guest, .. }
            | GuestError::CopyLimit { guest, .. }
            | GuestError::OverLimit { guest, .. }
            | GuestError::Trap { guest, .. }
            | GuestError::Rejected { guest, .. }
            | GuestError::NotAPlugin { guest, .. }
            | GuestError::UnsupportedVersion { guest, .. }
            | GuestError::ForbiddenImport { guest, .. }
            | GuestError::TooBig { guest, .. }
            | GuestError::CompileTimeout { guest, .. }
            | GuestError::BadAnswer { guest, .. } => guest,
        }
    }
}
