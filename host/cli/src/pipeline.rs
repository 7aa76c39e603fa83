//! The log's way through the sandbox: raw chunks → clean-up → built-in redactor → each plugin,
//! in order → a sink. Shared by `report` (sink: the guest's excerpt builder) and `redact` (sink:
//! stdout, or the excerpt builder with `--excerpt`).
//!
//! After every plugin the host searches what it produced for every known secret value and its
//! encodings, so a plugin that puts a secret back (it is given the known values, to redact
//! them) is caught at its own stage and named, and nothing is sent.

use std::io;

use exlogare_redact::LeakScanner;
use exlogare_runtime::{
    DefaultGuest, NormalizeOptions, NormalizeStats, PluginRedactor, RedactorOptions,
};

use crate::context::Context;
use crate::failure::{Failure, Kind};
use crate::logsource::LogReader;
use crate::plugins::plugin_failure;

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
    /// Invalid UTF-8 bytes in plugin output that the host replaced.
    pub plugin_invalid_utf8_bytes: u64,
    /// A read error that cut the log short (what was read before it is still used).
    pub read_error: Option<String>,
    /// A cap that stopped reading (max-read-bytes, or the time given to reading).
    pub read_cut: Option<crate::logsource::Cut>,
}

/// The options of a pipeline run.
pub struct Options {
    /// Clean-up options.
    pub normalize: NormalizeOptions,
    /// Redactor options.
    pub redactor: RedactorOptions,
}

impl Options {
    /// The options the settings ask for: the same for `report` and `redact`, so the preview
    /// shows exactly what would leave. Reads the rule file, if any.
    pub fn from_context(ctx: &Context) -> Result<Options, Failure> {
        let s = &ctx.settings;
        let rules_toml = match &s.rules.value {
            None => None,
            Some(path) => Some(std::fs::read_to_string(path).map_err(|e| {
                Failure::new(
                    Kind::Config,
                    format!(
                        "cannot read the rule file {} (from {}): {e}",
                        path.display(),
                        s.rules.source
                    ),
                )
            })?),
        };
        Ok(Options {
            normalize: NormalizeOptions {
                strip_ansi: !s.keep_ansi.value,
                collapse_carriage_returns: !s.keep_ansi.value,
                gitlab_sections: true,
            },
            redactor: RedactorOptions {
                known_secrets: ctx.secret_pairs(),
                min_secret_length: s.min_secret_length.value,
                rules_toml,
                settings: Vec::new(),
            },
        })
    }
}

/// Searches a stream of outputs for known values, keeping the end of the previous output
/// (the longest needle minus one byte) so that a value cut between two outputs is still found.
struct LeakGuard<'a> {
    scanner: &'a LeakScanner,
    overlap: Vec<u8>,
}

impl<'a> LeakGuard<'a> {
    fn new(scanner: &'a LeakScanner) -> LeakGuard<'a> {
        LeakGuard {
            scanner,
            overlap: Vec::new(),
        }
    }

    /// The first known value in the stream so far that ends in `out`, if any.
    fn check(&mut self, out: &[u8]) -> Option<exlogare_redact::Leak> {
        if self.scanner.is_empty() {
            return None;
        }
        let keep = self.scanner.max_needle_len().saturating_sub(1);
        let mut seam = std::mem::take(&mut self.overlap);
        seam.extend_from_slice(&out[..out.len().min(keep)]);
        let leak = self.scanner.find(&seam).or_else(|| self.scanner.find(out));
        self.overlap = if out.len() >= keep {
            out[out.len() - keep..].to_vec()
        } else {
            // `seam` is the old overlap followed by all of `out`.
            let from = seam.len().saturating_sub(keep);
            seam.split_off(from)
        };
        leak
    }
}

/// A plugin stage: the plugin, and the leak check on what it produces.
struct Stage<'a> {
    plugin: PluginRedactor,
    guard: LeakGuard<'a>,
}

impl Stage<'_> {
    /// Searches this stage's next output for known values; a hit fails the run, naming the
    /// plugin (never the value).
    fn check(&mut self, out: &[u8]) -> Result<(), Failure> {
        match self.guard.check(out) {
            None => Ok(()),
            Some(leak) => Err(Failure::new(
                Kind::Redaction,
                format!(
                    "blocked: the output of {} held the value of {} ({} form), so nothing was sent",
                    self.plugin.guest(),
                    leak.name,
                    leak.encoding
                ),
            )
            .hint("remove or fix that plugin: it put a known secret back into the log (the value itself is never printed)")),
        }
    }
}

/// Feeds `data` through every plugin stage, in order.
fn through(stages: &mut [Stage<'_>], mut data: Vec<u8>) -> Result<Vec<u8>, Failure> {
    for stage in stages.iter_mut() {
        data = stage.plugin.push(&data).map_err(plugin_failure)?;
        stage.check(&data)?;
    }
    Ok(data)
}

/// Feeds the last text through every stage and ends each one, in order; adds their counts.
fn finish_stages(
    stages: &mut [Stage<'_>],
    mut data: Vec<u8>,
    outcome: &mut Outcome,
) -> Result<Vec<u8>, Failure> {
    for stage in stages.iter_mut() {
        let mut out = stage.plugin.push(&data).map_err(plugin_failure)?;
        stage.check(&out)?;
        let end = stage.plugin.finish().map_err(plugin_failure)?;
        stage.check(&end.text)?;
        out.extend_from_slice(&end.text);
        outcome.redactions.extend(end.counts);
        outcome.plugin_invalid_utf8_bytes += end.invalid_utf8_bytes;
        data = out;
    }
    Ok(data)
}

/// Streams `reader` through the guest, then through each plugin (already started, in order),
/// into `sink`. `scanner` holds the known values checked for after every plugin.
pub fn run(
    guest: &mut DefaultGuest,
    plugins: Vec<PluginRedactor>,
    scanner: &LeakScanner,
    reader: &mut LogReader,
    options: &Options,
    sink: &mut Sink<'_>,
) -> Result<Outcome, Failure> {
    guest.start_normalizer(options.normalize)?;
    guest.start_redactor(&options.redactor)?;
    let mut outcome = Outcome {
        redactors: vec![guest.info()?],
        ..Outcome::default()
    };
    outcome
        .redactors
        .extend(plugins.iter().map(PluginRedactor::id));
    let mut stages: Vec<Stage<'_>> = plugins
        .into_iter()
        .map(|plugin| Stage {
            plugin,
            guard: LeakGuard::new(scanner),
        })
        .collect();
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
        let redacted = through(&mut stages, guest.redact(&clean)?)?;
        sink(guest, &redacted)?;
    }
    let (clean, stats) = guest.normalize_finish()?;
    let redacted = through(&mut stages, guest.redact(&clean)?)?;
    sink(guest, &redacted)?;
    let (rest, report) = guest.redact_finish()?;
    outcome.redactions = report;
    let rest = finish_stages(&mut stages, rest, &mut outcome)?;
    sink(guest, &rest)?;
    outcome.bytes_read = reader.bytes_read;
    outcome.read_cut = reader.cut.clone();
    outcome.normalize = stats;
    Ok(outcome)
}

/// Where the redacted log goes: given the guest too, so that it can feed the guest's excerpt
/// builder.
pub type Sink<'a> = dyn FnMut(&mut DefaultGuest, &[u8]) -> Result<(), Failure> + 'a;

/// The failure for a sink that could not write the redacted log.
pub fn write_failed(e: io::Error) -> Failure {
    Failure::new(Kind::Input, format!("cannot write the redacted log: {e}"))
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

#[cfg(test)]
mod tests {
    use super::*;
    use exlogare_redact::KnownSecret;

    fn scanner() -> LeakScanner {
        LeakScanner::new(
            &[KnownSecret {
                name: "DB_PASSWORD".into(),
                value: "s3cr3t-v4lue-xyz".into(),
            }],
            8,
        )
    }

    #[test]
    fn a_value_cut_between_outputs_is_found() {
        let scanner = scanner();
        for cut in 1..16 {
            let text = b"before s3cr3t-v4lue-xyz after";
            let at = 7 + cut;
            let mut guard = LeakGuard::new(&scanner);
            assert!(guard.check(&text[..at]).is_none(), "cut {cut}");
            let leak = guard.check(&text[at..]).expect("found across the cut");
            assert_eq!(leak.name, "DB_PASSWORD");
        }
    }

    #[test]
    fn a_value_spread_over_many_tiny_outputs_is_found() {
        let scanner = scanner();
        let mut guard = LeakGuard::new(&scanner);
        let found = b"xx s3cr3t-v4lue-xyz"
            .iter()
            .any(|b| guard.check(std::slice::from_ref(b)).is_some());
        assert!(found);
    }

    #[test]
    fn clean_outputs_pass() {
        let scanner = scanner();
        let mut guard = LeakGuard::new(&scanner);
        assert!(guard.check(b"s3cr3t-v4lue").is_none());
        assert!(guard.check(b" and [REDACTED:DB_PASSWORD]").is_none());
    }
}
