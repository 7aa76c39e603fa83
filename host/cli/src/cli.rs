//! The command line: subcommands and flags. Flags are the top settings layer; see
//! `exlogare-settings` for the others.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};
use exlogare_settings::{Compress, Layer};

/// Send a failed CI job's log, safely redacted, to the Exlogare root-cause-analysis service.
#[derive(Parser, Debug)]
#[command(name = "exlogare", version, about, long_about = None, propagate_version = true)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Send the job's log (the after_script command). Fail-open: exits 0 unless --strict.
    Report(ReportArgs),
    /// Print the log as it would be sent: cleaned and redacted, before the size budget.
    Redact(RedactArgs),
    /// Run a command, its output to the console and to the log; exits with its status.
    /// Replaces `set -o pipefail; CMD 2>&1 | tee build.log`.
    Run(RunArgs),
    /// Show the detected CI, its variables (secret values hidden), the settings and where
    /// each comes from, and check the endpoint can be reached (sends no log, no token).
    Doctor(DoctorArgs),
    /// Send payloads kept in the spool after a failed delivery; each is removed once the
    /// server has accepted it.
    Send(crate::send::SendArgs),
    /// Redaction plugins: look inside one before using it.
    #[command(subcommand)]
    Plugin(PluginCommand),
    /// The system policy (/etc/exlogare/policy.toml): what it locks, and what it refuses.
    #[command(subcommand)]
    Policy(PolicyCommand),
}

/// `exlogare policy ...`
#[derive(Subcommand, Debug)]
pub enum PolicyCommand {
    /// Show the effective settings, where each came from, which are locked, the plugins the
    /// policy allows, and every refusal (exit 2 when something is refused)
    Show(PolicyArgs),
}

/// `exlogare policy show`.
#[derive(Args, Debug, Clone, Default)]
pub struct PolicyArgs {
    #[command(flatten)]
    pub common: CommonArgs,
}

/// `exlogare plugin ...`
#[derive(Subcommand, Debug)]
pub enum PluginCommand {
    /// Show a plugin's world and WIT version, imports, exports, size, sha256 and metadata, and
    /// whether this exlogare would run it (exit 7 when it would be refused)
    Inspect(InspectArgs),
}

#[derive(Args, Debug, Clone)]
pub struct InspectArgs {
    /// The plugin, a wasm component
    #[arg(value_name = "PATH.wasm")]
    pub path: PathBuf,
}

/// Settings shared by `report` and `redact`.
#[derive(Args, Debug, Clone, Default)]
pub struct CommonArgs {
    /// Project config file [default: ./exlogare.toml if present] [env: EXLOGARE_CONFIG]
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Extra rules, gitleaks TOML subset [env: EXLOGARE_RULES]
    #[arg(long, value_name = "FILE")]
    pub rules: Option<PathBuf>,
    /// Values shorter than this are not redacted everywhere [default: 8] [env: EXLOGARE_MIN_SECRET_LENGTH]
    #[arg(long, value_name = "BYTES")]
    pub min_secret_length: Option<u32>,
    /// More variable names whose values are secret, comma-separated [env: EXLOGARE_REDACT_VARS]
    #[arg(long, value_name = "NAMES", value_delimiter = ',')]
    pub redact_vars: Option<Vec<String>>,
    /// A redaction plugin (wasm component) run after the default rules; repeatable, in order [env: EXLOGARE_PLUGINS]
    #[arg(long = "plugin", value_name = "PATH.wasm")]
    pub plugins: Vec<PathBuf>,
    /// Keep ANSI escape codes in the log [env: EXLOGARE_KEEP_ANSI]
    #[arg(long)]
    pub keep_ansi: bool,
    /// Exit non-zero on any problem (by default problems are reported and exit 0) [env: EXLOGARE_STRICT]
    #[arg(long)]
    pub strict: bool,
}

#[derive(Args, Debug, Clone, Default)]
pub struct ReportArgs {
    #[command(flatten)]
    pub common: CommonArgs,
    /// The log file, or - for standard input [default: build.log] [env: EXLOGARE_LOG]
    #[arg(long, value_name = "PATH")]
    pub log: Option<PathBuf>,
    /// Base URL of the Exlogare API [default: https://api.exlogare.net] [env: EXLOGARE_URL]
    #[arg(long, value_name = "URL")]
    pub url: Option<String>,
    /// Job statuses to send for: failed, canceled, timedout, success, or always [default: failed] [env: EXLOGARE_WHEN]
    #[arg(long, value_name = "LIST")]
    pub when: Option<String>,
    /// Print the exact payload that would be sent, and send nothing
    #[arg(long)]
    pub dry_run: bool,
    /// Size budget of the log in the payload; above it the lines that explain the failure and the end of the log are kept [default: 8MiB] [env: EXLOGARE_MAX_LOG_BYTES]
    #[arg(long, value_name = "SIZE")]
    pub max_log_bytes: Option<String>,
    /// The most bytes read from the log; reading also stops at 3/4 of the deadline; what was read is sent, with a marker [default: 4GiB] [env: EXLOGARE_MAX_READ_BYTES]
    #[arg(long, value_name = "SIZE")]
    pub max_read_bytes: Option<String>,
    /// Size of the failure excerpt sent in the metadata beside the log (1KiB to 256KiB) [default: 8KiB] [env: EXLOGARE_EXCERPT_BYTES]
    #[arg(long, value_name = "SIZE")]
    pub excerpt_bytes: Option<String>,
    #[command(flatten)]
    pub delivery: DeliveryArgs,
    /// Extra metadata, repeatable: --meta team=payments
    #[arg(long, value_name = "KEY=VALUE")]
    pub meta: Vec<String>,
}

#[derive(Args, Debug, Clone, Default)]
pub struct RedactArgs {
    #[command(flatten)]
    pub common: CommonArgs,
    /// The log to redact, or - for standard input [default: -]
    #[arg(value_name = "FILE|-")]
    pub file: Option<PathBuf>,
    /// Also print the redactions by rule (never a value) to stderr
    #[arg(long)]
    pub report: bool,
    /// Print the failure excerpt that `report` would send in the metadata, and its manifest (what was kept and why), instead of the whole redacted log
    #[arg(long)]
    pub excerpt: bool,
    /// Size of the excerpt (1KiB to 256KiB) [default: 8KiB] [env: EXLOGARE_EXCERPT_BYTES]
    #[arg(long, value_name = "SIZE")]
    pub excerpt_bytes: Option<String>,
}

/// `exlogare run`.
#[derive(Args, Debug, Clone, Default)]
pub struct RunArgs {
    /// The log to write (stdout and stderr together) [default: build.log] [env: EXLOGARE_LOG]
    #[arg(long, value_name = "PATH")]
    pub log: Option<PathBuf>,
    /// Append to the log instead of replacing it
    #[arg(long)]
    pub append: bool,
    /// The command and its arguments, after `--`
    #[arg(
        value_name = "CMD",
        trailing_var_arg = true,
        allow_hyphen_values = true,
        required = true
    )]
    pub command: Vec<std::ffi::OsString>,
}

/// `exlogare doctor`.
#[derive(Args, Debug, Clone, Default)]
pub struct DoctorArgs {
    #[command(flatten)]
    pub common: CommonArgs,
    /// Base URL of the Exlogare API [default: https://api.exlogare.net] [env: EXLOGARE_URL]
    #[arg(long, value_name = "URL")]
    pub url: Option<String>,
    /// Extra CA certificates, PEM [env: EXLOGARE_CA_FILE, SSL_CERT_FILE]
    #[arg(long, value_name = "FILE")]
    pub ca_file: Option<PathBuf>,
    /// Allow plain http:// to a non-loopback host [env: EXLOGARE_ALLOW_HTTP]
    #[arg(long)]
    pub allow_http: bool,
    /// Skip the connectivity check
    #[arg(long)]
    pub offline: bool,
    /// Seconds the connectivity check may take [default: 5]
    #[arg(long, value_name = "SECONDS", default_value_t = 5)]
    pub timeout: u64,
}

/// How payloads are delivered: shared by `report` and `send`.
#[derive(Args, Debug, Clone, Default)]
pub struct DeliveryArgs {
    /// Give up (and keep the payload) after this long, e.g. 120 or 2m [default: 120s] [env: EXLOGARE_DEADLINE]
    #[arg(long, value_name = "DURATION")]
    pub deadline: Option<String>,
    /// Read the token from this file instead of EXLOGARE_TOKEN
    #[arg(long, value_name = "FILE")]
    pub token_file: Option<PathBuf>,
    /// Extra CA certificates, PEM [env: EXLOGARE_CA_FILE, SSL_CERT_FILE]
    #[arg(long, value_name = "FILE")]
    pub ca_file: Option<PathBuf>,
    /// Allow plain http:// to a non-loopback host (sends the token in clear) [env: EXLOGARE_ALLOW_HTTP]
    #[arg(long)]
    pub allow_http: bool,
    /// Compress the upload: none or gzip (Content-Encoding: gzip) [default: none] [env: EXLOGARE_COMPRESS]
    #[arg(long, value_name = "none|gzip")]
    pub compress: Option<String>,
    /// Where a payload that could not be delivered is kept [default: $CI_PROJECT_DIR/.exlogare-spool] [env: EXLOGARE_SPOOL_DIR]
    #[arg(long, value_name = "DIR")]
    pub spool_dir: Option<PathBuf>,
}

impl DeliveryArgs {
    /// Adds these flags to the flags' settings layer.
    pub fn layer(&self, layer: Layer) -> Result<Layer, exlogare_settings::Error> {
        Ok(Layer {
            deadline: self
                .deadline
                .as_deref()
                .map(|s| exlogare_settings::parse_duration("--deadline", s))
                .transpose()?,
            ca_file: self.ca_file.clone(),
            allow_http: self.allow_http.then_some(true),
            compress: self.compress.as_deref().map(Compress::parse).transpose()?,
            spool_dir: self.spool_dir.clone(),
            ..layer
        })
    }
}
