//! The log's way through the sandbox: raw chunks → clean-up → built-in redactor → (plugins)
//! → a sink. Shared by `report` (sink: the size budget) and `redact` (sink: stdout).

use std::io;

use exlogare_runtime::{DefaultGuest, NormalizeOptions, NormalizeStats, RedactorOptions};

use crate::failure::{Failure, Kind};
use crate::logsource::LogReader;

/// What came out of a run of the pipeline.
#[derive(Debug, Default)]
pub struct Outcome {
    /// Bytes read from the log.
    pub bytes_read: u64,
    /// What the clean-up changed.
    pub normalize: NormalizeStats,
    /// Redactions by rule, all redactors together.
    pub redactions: Vec<(String, u64)>,
    /// The redactors that ran, `name@version`.
    pub redactors: Vec<String>,
    /// A read error that cut the log short (what was read before it is still used).
    pub read_error: Option<String>,
}

/// The options of a pipeline run.
pub struct Options {
    /// Clean-up options.
    pub normalize: NormalizeOptions,
    /// Redactor options.
    pub redactor: RedactorOptions,
}

/// Streams `reader` through the guest into `sink`.
pub fn run(
    guest: &mut DefaultGuest,
    reader: &mut LogReader,
    options: &Options,
    sink: &mut dyn FnMut(&[u8]) -> io::Result<()>,
) -> Result<Outcome, Failure> {
    guest.start_normalizer(options.normalize)?;
    guest.start_redactor(&options.redactor)?;
    let mut outcome = Outcome {
        redactors: vec![guest.info()?],
        ..Outcome::default()
    };
    let write_failed = |e: io::Error| Failure::new(Kind::Input, format!("cannot write the redacted log: {e}"));
    loop {
        let chunk = match reader.next_chunk() {
            Ok(Some(chunk)) => chunk,
            Ok(None) => break,
            Err(e) => {
                outcome.read_error = Some(e.to_string());
                break;
            }
        };
        let clean = guest.normalize(&chunk)?;
        let redacted = guest.redact(&clean)?;
        sink(&redacted).map_err(write_failed)?;
    }
    let (clean, stats) = guest.normalize_finish()?;
    let redacted = guest.redact(&clean)?;
    sink(&redacted).map_err(write_failed)?;
    let (rest, report) = guest.redact_finish()?;
    sink(&rest).map_err(write_failed)?;
    outcome.bytes_read = reader.bytes_read;
    outcome.normalize = stats;
    outcome.redactions = report;
    Ok(outcome)
}

/// `rule×count, ...` for summaries; never a value.
pub fn describe_redactions(redactions: &[(String, u64)]) -> String {
    let total: u64 = redactions.iter().map(|(_, n)| n).sum();
    if total == 0 {
        return "nothing redacted".to_string();
    }
    let list: Vec<String> = redactions
        .iter()
        .filter(|(_, n)| *n > 0)
        .map(|(rule, n)| format!("{rule}×{n}"))
        .collect();
    format!("redacted {total} ({})", list.join(", "))
}
