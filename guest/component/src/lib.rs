//! The default guest component embedded in the `exlogare` binary.
//!
//! This crate only binds the WIT world `exlogare:ingest/default-guest` to the plain-Rust crates
//! that do the work (`exlogare-logclean`, `exlogare-redact`, `exlogare-excerpt`, `exlogare-payload`), so that those
//! stay testable, fuzzable and benchmarkable natively. It runs in a sandbox with no
//! capabilities; it only computes.

use std::cell::RefCell;

wit_bindgen::generate!({
    world: "default-guest",
    path: "../../wit",
});

use exports::exlogare::ingest::{excerpt, normalize, payload, redaction};

/// The exported component.
struct DefaultGuest;

export!(DefaultGuest);

/// Converts WIT known secrets into the engine's type.
fn known_secrets(list: Vec<redaction::KnownSecret>) -> Vec<exlogare_redact::KnownSecret> {
    list.into_iter()
        .map(|k| exlogare_redact::KnownSecret {
            name: k.name,
            value: k.value,
        })
        .collect()
}

thread_local! {
    /// The configuration of the last redactor this instance built, and a redactor sharing its
    /// engine: the payload writer scrubs metadata with the same known values and built-in
    /// rules, so it reuses that engine (and any regex the log already compiled) instead of
    /// building its own.
    static LAST_ENGINE: RefCell<Option<(exlogare_redact::Config, exlogare_redact::Redactor)>> =
        const { RefCell::new(None) };
}

/// A redactor for `config`: one sharing the last engine built for the same configuration, or
/// a new one (which becomes the one to share).
fn redactor_for(
    config: exlogare_redact::Config,
) -> Result<exlogare_redact::Redactor, exlogare_redact::Error> {
    LAST_ENGINE.with_borrow_mut(|last| {
        if let Some((c, template)) = last.as_ref()
            && *c == config
        {
            return Ok(template.with_same_engine());
        }
        let redactor = exlogare_redact::Redactor::new(&config)?;
        *last = Some((config, redactor.with_same_engine()));
        Ok(redactor)
    })
}

impl redaction::Guest for DefaultGuest {
    type Redactor = Redactor;

    fn info() -> redaction::PluginInfo {
        redaction::PluginInfo {
            name: "exlogare-default".to_string(),
            version: env!("CARGO_PKG_VERSION").to_string(),
            description: "Built-in rules: known secret values and their encodings, token formats, \
                          credentials in context, private keys."
                .to_string(),
        }
    }
}

/// The built-in redactor resource.
pub struct Redactor {
    inner: RefCell<exlogare_redact::Redactor>,
}

impl redaction::GuestRedactor for Redactor {
    fn create(options: redaction::Options) -> Result<redaction::Redactor, String> {
        let config = exlogare_redact::Config {
            known: known_secrets(options.known_secrets),
            min_secret_len: options.min_secret_length as usize,
            rules_toml: options.rules_toml,
        };
        let inner = redactor_for(config).map_err(|e| e.to_string())?;
        Ok(redaction::Redactor::new(Redactor {
            inner: RefCell::new(inner),
        }))
    }

    fn push(&self, chunk: Vec<u8>) -> Vec<u8> {
        let mut out = Vec::with_capacity(chunk.len() + 64);
        self.inner.borrow_mut().push(&chunk, &mut out);
        out
    }

    fn finish(&self) -> Vec<u8> {
        let mut out = Vec::new();
        self.inner.borrow_mut().finish(&mut out);
        out
    }

    fn report(&self) -> Vec<redaction::RuleCount> {
        self.inner
            .borrow()
            .report()
            .into_iter()
            .map(|(rule, count)| redaction::RuleCount { rule, count })
            .collect()
    }
}

impl normalize::Guest for DefaultGuest {
    type Normalizer = Normalizer;
}

/// The log clean-up resource.
pub struct Normalizer {
    inner: RefCell<exlogare_logclean::Normalizer>,
}

impl normalize::GuestNormalizer for Normalizer {
    fn new(options: normalize::NormalizeOptions) -> Self {
        let options = exlogare_logclean::Options {
            strip_ansi: options.strip_ansi,
            collapse_carriage_returns: options.collapse_carriage_returns,
            gitlab_sections: options.gitlab_sections,
        };
        Normalizer {
            inner: RefCell::new(exlogare_logclean::Normalizer::new(options)),
        }
    }

    fn push(&self, chunk: Vec<u8>) -> Vec<u8> {
        let mut out = Vec::with_capacity(chunk.len());
        self.inner.borrow_mut().push(&chunk, &mut out);
        out
    }

    fn finish(&self) -> Vec<u8> {
        let mut out = Vec::new();
        self.inner.borrow_mut().finish(&mut out);
        out
    }

    fn stats(&self) -> normalize::NormalizeStats {
        let s = self.inner.borrow().stats();
        normalize::NormalizeStats {
            bytes_in: s.bytes_in,
            invalid_utf8_bytes: s.invalid_utf8_bytes,
            nul_bytes: s.nul_bytes,
            ansi_sequences: s.ansi_sequences,
        }
    }
}

impl excerpt::Guest for DefaultGuest {
    type ExcerptBuilder = ExcerptBuilder;
}

/// The streaming excerpt builder resource.
pub struct ExcerptBuilder {
    inner: RefCell<Option<exlogare_excerpt::Builder>>,
}

/// Converts a manifest into its WIT form.
fn manifest_out(m: exlogare_excerpt::Manifest) -> excerpt::Manifest {
    excerpt::Manifest {
        budget: m.budget,
        total_bytes: m.total_bytes,
        total_lines: m.total_lines,
        ranges: m
            .ranges
            .into_iter()
            .map(|r| excerpt::KeptRange {
                first: r.first,
                last: r.last,
                reason: r.reason.name().to_string(),
                collapsed_lines: r.collapsed_lines,
                cut_bytes: r.cut_bytes,
            })
            .collect(),
        omitted_bytes: m.omitted_bytes,
        omitted_lines: m.omitted_lines,
    }
}

/// Converts one chosen excerpt into its WIT form.
fn selection_out(e: exlogare_excerpt::Excerpt) -> excerpt::Selection {
    let whole = e.is_whole();
    excerpt::Selection {
        text: e.text.into_bytes(),
        manifest: manifest_out(e.manifest),
        whole,
    }
}

impl excerpt::GuestExcerptBuilder for ExcerptBuilder {
    fn create(options: excerpt::ExcerptOptions) -> Result<excerpt::ExcerptBuilder, String> {
        let size = |n: u64| usize::try_from(n).unwrap_or(usize::MAX);
        let builder = exlogare_excerpt::Builder::new(&[
            size(options.log_budget),
            size(options.excerpt_budget),
        ])
        .map_err(|e| e.to_string())?
        .keep_terminal_controls(options.keep_terminal_controls);
        Ok(excerpt::ExcerptBuilder::new(ExcerptBuilder {
            inner: RefCell::new(Some(builder)),
        }))
    }

    fn push(&self, text: Vec<u8>) {
        if let Some(b) = self.inner.borrow_mut().as_mut() {
            b.push(&text);
        }
    }

    fn finish(&self) -> excerpt::ExcerptResult {
        let finished = self
            .inner
            .borrow_mut()
            .take()
            .map(exlogare_excerpt::Builder::finish)
            .unwrap_or_default();
        let mut chosen = finished.excerpts.into_iter();
        let log = chosen.next().unwrap_or_default();
        let small = chosen.next().unwrap_or_default();
        let n = finished.neutralised;
        excerpt::ExcerptResult {
            log: selection_out(log),
            excerpt: selection_out(small),
            neutralised: excerpt::Neutralised {
                bidi: n.bidi,
                zero_width: n.zero_width,
                control: n.control,
            },
        }
    }
}

/// Converts a WIT manifest into the payload crate's type.
fn manifest_in(m: excerpt::Manifest) -> exlogare_payload::Manifest {
    exlogare_payload::Manifest {
        budget: m.budget,
        total_lines: m.total_lines,
        total_bytes: m.total_bytes,
        omitted_bytes: m.omitted_bytes,
        omitted_lines: m.omitted_lines,
        ranges: m
            .ranges
            .into_iter()
            .map(|r| exlogare_payload::KeptRange {
                first: r.first,
                last: r.last,
                reason: r.reason,
                collapsed_lines: r.collapsed_lines,
                cut_bytes: r.cut_bytes,
            })
            .collect(),
        ranges_left_out: 0,
    }
}

impl payload::Guest for DefaultGuest {
    type PayloadWriter = PayloadWriter;

    fn detect(env: Vec<(String, String)>) -> payload::JobInfo {
        let info = exlogare_payload::detect(&env);
        payload::JobInfo {
            provider: info.provider,
            status: info.status,
        }
    }
}

/// The streaming JSON body writer.
pub struct PayloadWriter {
    inner: RefCell<exlogare_payload::PayloadWriter>,
}

/// Removes known secret values, and anything the built-in rules catch, from one metadata value.
/// One redactor serves every value (`finish` ends each as a whole input): building the engine
/// (automata, known-value needles) per value was most of a dry run's start-up.
fn scrub(redactor: &mut exlogare_redact::Redactor, value: String) -> String {
    let mut clean = Vec::with_capacity(value.len());
    redactor.push(value.as_bytes(), &mut clean);
    redactor.finish(&mut clean);
    String::from_utf8_lossy(&clean).into_owned()
}

impl payload::GuestPayloadWriter for PayloadWriter {
    fn create(input: payload::JobInput) -> Result<payload::PayloadWriter, String> {
        let config = exlogare_redact::Config {
            known: known_secrets(input.known_secrets),
            min_secret_len: input.min_secret_length as usize,
            rules_toml: None,
        };
        let mut redactor = redactor_for(config).map_err(|e| e.to_string())?;
        let mut scrub_pairs = |pairs: Vec<(String, String)>| -> Vec<(String, String)> {
            pairs
                .into_iter()
                .map(|(k, v)| (k, scrub(&mut redactor, v)))
                .collect()
        };
        let log = input.log;
        let job = exlogare_payload::JobInput {
            env: scrub_pairs(input.env),
            extra: scrub_pairs(input.extra),
            host_version: input.host_version,
            log: exlogare_payload::LogInfo {
                bytes_read: log.bytes_read,
                bytes_omitted: log.bytes_omitted,
                invalid_utf8_bytes: log.invalid_utf8_bytes,
                nul_bytes: log.nul_bytes,
                redactions: log
                    .redactions
                    .into_iter()
                    .map(|c| (c.rule, c.count))
                    .collect(),
                redactors: log.redactors,
                selection: log.selection.map(manifest_in),
                // The excerpt is log text: scrubbed like every other value, and checked again
                // by the host with the whole body.
                excerpt: log.excerpt.map(|e| exlogare_payload::FailureExcerpt {
                    text: scrub(&mut redactor, e.text),
                    manifest: manifest_in(e.manifest),
                }),
                neutralised: exlogare_payload::Neutralised {
                    bidi: log.neutralised.bidi,
                    zero_width: log.neutralised.zero_width,
                    control: log.neutralised.control,
                },
            },
        };
        let inner = exlogare_payload::PayloadWriter::new(job).map_err(|e| e.to_string())?;
        Ok(payload::PayloadWriter::new(PayloadWriter {
            inner: RefCell::new(inner),
        }))
    }

    fn open(&self) -> Vec<u8> {
        self.inner.borrow_mut().open()
    }

    fn log(&self, piece: Vec<u8>) -> Vec<u8> {
        self.inner.borrow_mut().log(&piece)
    }

    fn close(&self) -> Vec<u8> {
        self.inner.borrow_mut().close()
    }
}
