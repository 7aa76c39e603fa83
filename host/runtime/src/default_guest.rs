//! The default guest: log clean-up, the built-in redactor and the payload writer, embedded in
//! the binary as an artifact precompiled by `build.rs`.

use wasmtime::component::ResourceAny;

use crate::error::GuestError;
use crate::sandbox::{GuestStore, Limits, Runtime};

mod bindings {
    wasmtime::component::bindgen!({
        path: "../../wit",
        world: "default-guest",
    });
}

use bindings::exports::exlogare::ingest::{excerpt, normalize, payload, redaction};

/// The default guest component, as built for wasm32-wasip2.
pub(crate) static WASM: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/default-guest.wasm"));
/// The same, precompiled for this build's engine configuration and CPU, on a page boundary
/// so that its code can run where it lies (see `in_place`).
static PRECOMPILED: &PageAligned<[u8]> = &PageAligned(*include_bytes!(concat!(
    env!("OUT_DIR"),
    "/default-guest.cwasm"
)));

/// Bytes that start on a page boundary (4 KiB: running in place is for x86-64 only).
#[repr(C, align(4096))]
struct PageAligned<T: ?Sized>(T);

/// Redaction counts by rule name.
pub type RuleCounts = Vec<(String, u64)>;

/// The name the default guest goes by in messages and reports.
pub const DEFAULT_GUEST_NAME: &str = "exlogare-default";

/// Options of the log clean-up.
#[derive(Clone, Copy, Debug)]
pub struct NormalizeOptions {
    /// Remove ANSI escape sequences.
    pub strip_ansi: bool,
    /// Collapse carriage-return redraws to their last state.
    pub collapse_carriage_returns: bool,
    /// Turn GitLab section markers into headers.
    pub gitlab_sections: bool,
}

/// What the clean-up changed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct NormalizeStats {
    /// Bytes read.
    pub bytes_in: u64,
    /// Invalid UTF-8 bytes replaced.
    pub invalid_utf8_bytes: u64,
    /// NUL bytes removed.
    pub nul_bytes: u64,
    /// Escape sequences removed.
    pub ansi_sequences: u64,
}

/// Options of a redactor (the default one or a plugin).
#[derive(Clone, Debug, Default)]
pub struct RedactorOptions {
    /// (name, value) of each known secret.
    pub known_secrets: Vec<(String, String)>,
    /// Values shorter than this are not searched for.
    pub min_secret_length: u32,
    /// Extra rules (gitleaks TOML subset).
    pub rules_toml: Option<String>,
    /// Free-form settings.
    pub settings: Vec<(String, String)>,
}

impl RedactorOptions {
    pub(crate) fn to_wit(&self) -> redaction::Options {
        redaction::Options {
            known_secrets: self
                .known_secrets
                .iter()
                .map(|(name, value)| redaction::KnownSecret {
                    name: name.clone(),
                    value: value.clone(),
                })
                .collect(),
            min_secret_length: self.min_secret_length,
            rules_toml: self.rules_toml.clone(),
            settings: self.settings.clone(),
        }
    }
}

/// The provider and status the guest read from the CI variables.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct JobInfo {
    /// `gitlab_ci`, `github_actions`, ..., `generic`.
    pub provider: String,
    /// The job status, if the provider gives one.
    pub status: Option<String>,
}

/// Kept lines `first..=last` of the cleaned, redacted log, and why.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct KeptRange {
    /// First line (1-based).
    pub first: u64,
    /// Last line.
    pub last: u64,
    /// Why (`error`, `stack-trace`, `tail`, ...).
    pub reason: String,
    /// Lines shown only as a repeat (`[×N]`).
    pub collapsed_lines: u64,
    /// Bytes cut from the middle of long lines.
    pub cut_bytes: u64,
}

/// What a selection of the log kept and left out.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Manifest {
    /// Its budget in bytes.
    pub budget: u64,
    /// Bytes of the whole log.
    pub total_bytes: u64,
    /// Lines of the whole log.
    pub total_lines: u64,
    /// The kept ranges, in log order.
    pub ranges: Vec<KeptRange>,
    /// Bytes outside every kept range.
    pub omitted_bytes: u64,
    /// Lines outside every kept range.
    pub omitted_lines: u64,
}

/// Characters replaced by a visible `<U+XXXX>` marker.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Neutralised {
    /// Bidi controls.
    pub bidi: u64,
    /// Zero-width and invisible characters.
    pub zero_width: u64,
    /// Other control characters.
    pub control: u64,
}

impl Neutralised {
    /// All of them.
    pub fn total(&self) -> u64 {
        self.bidi + self.zero_width + self.control
    }
}

/// One selection of the log: its text and manifest.
#[derive(Clone, Debug, Default)]
pub struct Selection {
    /// UTF-8 text, with markers where lines were left out.
    pub text: Vec<u8>,
    /// What was kept and why.
    pub manifest: Manifest,
    /// Whether the whole log is in the text.
    pub whole: bool,
}

/// What the excerpt builder chose.
#[derive(Clone, Debug, Default)]
pub struct Chosen {
    /// The log as sent (the whole log when it fits its budget).
    pub log: Selection,
    /// The small failure excerpt.
    pub excerpt: Selection,
    /// Characters neutralised.
    pub neutralised: Neutralised,
}

/// The failure excerpt as the payload carries it.
#[derive(Clone, Debug, Default)]
pub struct FailureExcerpt {
    /// Its text.
    pub text: String,
    /// Its manifest.
    pub manifest: Manifest,
}

impl Manifest {
    fn to_wit(&self) -> excerpt::Manifest {
        excerpt::Manifest {
            budget: self.budget,
            total_bytes: self.total_bytes,
            total_lines: self.total_lines,
            ranges: self
                .ranges
                .iter()
                .map(|r| excerpt::KeptRange {
                    first: r.first,
                    last: r.last,
                    reason: r.reason.clone(),
                    collapsed_lines: r.collapsed_lines,
                    cut_bytes: r.cut_bytes,
                })
                .collect(),
            omitted_bytes: self.omitted_bytes,
            omitted_lines: self.omitted_lines,
        }
    }

    fn from_wit(m: excerpt::Manifest) -> Manifest {
        Manifest {
            budget: m.budget,
            total_bytes: m.total_bytes,
            total_lines: m.total_lines,
            ranges: m
                .ranges
                .into_iter()
                .map(|r| KeptRange {
                    first: r.first,
                    last: r.last,
                    reason: r.reason,
                    collapsed_lines: r.collapsed_lines,
                    cut_bytes: r.cut_bytes,
                })
                .collect(),
            omitted_bytes: m.omitted_bytes,
            omitted_lines: m.omitted_lines,
        }
    }
}

fn selection_from_wit(s: excerpt::Selection) -> Selection {
    Selection {
        text: s.text,
        manifest: Manifest::from_wit(s.manifest),
        whole: s.whole,
    }
}

/// What the host knows about the log it sends.
#[derive(Clone, Debug, Default)]
pub struct LogInfo {
    /// Bytes read from the file.
    pub bytes_read: u64,
    /// Redacted bytes left out by the size budget.
    pub bytes_omitted: u64,
    /// Invalid UTF-8 bytes replaced.
    pub invalid_utf8_bytes: u64,
    /// NUL bytes removed.
    pub nul_bytes: u64,
    /// Redactions by rule.
    pub redactions: Vec<(String, u64)>,
    /// Redactors that ran, `name@version`.
    pub redactors: Vec<String>,
    /// How the sent log was chosen, when it did not fit.
    pub selection: Option<Manifest>,
    /// The failure excerpt for the metadata.
    pub excerpt: Option<FailureExcerpt>,
    /// Characters neutralised in the sent text.
    pub neutralised: Neutralised,
}

/// Everything the payload is built from.
#[derive(Clone, Debug, Default)]
pub struct JobInput {
    /// Allowed CI variables.
    pub env: Vec<(String, String)>,
    /// User `key=value` metadata.
    pub extra: Vec<(String, String)>,
    /// Known secrets, scrubbed from metadata too.
    pub known_secrets: Vec<(String, String)>,
    /// See [`RedactorOptions::min_secret_length`].
    pub min_secret_length: u32,
    /// The host's version.
    pub host_version: String,
    /// The log's figures.
    pub log: LogInfo,
}

/// A running instance of the default guest, in its own store.
pub struct DefaultGuest {
    gs: GuestStore,
    bindings: bindings::DefaultGuest,
    normalizer: Option<ResourceAny>,
    redactor: Option<ResourceAny>,
    writer: Option<ResourceAny>,
    excerpt: Option<ResourceAny>,
    excerpt_budgets: u64,
}

impl DefaultGuest {
    /// Loads (without compiling, when the embedded artifact fits this CPU) and instantiates
    /// the default guest under `limits`.
    pub fn new(runtime: &Runtime, limits: &Limits) -> Result<DefaultGuest, GuestError> {
        let component = runtime.load(DEFAULT_GUEST_NAME, Some(&PRECOMPILED.0), WASM)?;
        let linker = runtime.linker()?;
        // The built-in guest is ours: its answers (a payload of up to `--max-log-bytes`, JSON
        // escaped) are bounded by its memory, not by the cap for plugins.
        let limits = Limits {
            copy_bytes: limits.copy_bytes.max(limits.memory_bytes.saturating_mul(2)),
            ..limits.clone()
        };
        let mut gs = runtime.store(DEFAULT_GUEST_NAME, &limits);
        let bindings = gs.call("instantiate", |store| {
            bindings::DefaultGuest::instantiate(store, &component, &linker)
        })?;
        Ok(DefaultGuest {
            gs,
            bindings,
            normalizer: None,
            redactor: None,
            writer: None,
            excerpt: None,
            excerpt_budgets: 0,
        })
    }

    /// `name@version` of the built-in redactor.
    pub fn info(&mut self) -> Result<String, GuestError> {
        let api = self.bindings.exlogare_ingest_redaction();
        let info = self.gs.call("info", |s| api.call_info(s))?;
        Ok(format!("{}@{}", info.name, info.version))
    }

    /// Reads the provider and job status from CI variables.
    pub fn detect(&mut self, env: &[(String, String)]) -> Result<JobInfo, GuestError> {
        let api = self.bindings.exlogare_ingest_payload();
        let info = self.gs.call("detect", |s| api.call_detect(s, env))?;
        Ok(JobInfo {
            provider: info.provider,
            status: info.status,
        })
    }

    /// Starts the log clean-up stage.
    pub fn start_normalizer(&mut self, options: NormalizeOptions) -> Result<(), GuestError> {
        let api = self.bindings.exlogare_ingest_normalize().normalizer();
        let options = normalize::NormalizeOptions {
            strip_ansi: options.strip_ansi,
            collapse_carriage_returns: options.collapse_carriage_returns,
            gitlab_sections: options.gitlab_sections,
        };
        self.normalizer = Some(self.gs.call("normalizer.constructor", |s| {
            api.call_constructor(s, options)
        })?);
        Ok(())
    }

    /// Cleans the next chunk of raw log bytes.
    pub fn normalize(&mut self, chunk: &[u8]) -> Result<Vec<u8>, GuestError> {
        let handle = self.handle(self.normalizer, "normalizer.push")?;
        let api = self.bindings.exlogare_ingest_normalize().normalizer();
        let out = self
            .gs
            .call("normalizer.push", |s| api.call_push(s, handle, chunk))?;
        self.gs.check_output("normalizer.push", chunk.len(), out)
    }

    /// Ends the clean-up stage: the rest of the text and the stats.
    pub fn normalize_finish(&mut self) -> Result<(Vec<u8>, NormalizeStats), GuestError> {
        let handle = self.handle(self.normalizer, "normalizer.finish")?;
        let api = self.bindings.exlogare_ingest_normalize().normalizer();
        let out = self
            .gs
            .call("normalizer.finish", |s| api.call_finish(s, handle))?;
        let out = self.gs.check_output("normalizer.finish", 0, out)?;
        let stats = self
            .gs
            .call("normalizer.stats", |s| api.call_stats(s, handle))?;
        Ok((
            out,
            NormalizeStats {
                bytes_in: stats.bytes_in,
                invalid_utf8_bytes: stats.invalid_utf8_bytes,
                nul_bytes: stats.nul_bytes,
                ansi_sequences: stats.ansi_sequences,
            },
        ))
    }

    /// Starts the built-in redactor.
    pub fn start_redactor(&mut self, options: &RedactorOptions) -> Result<(), GuestError> {
        let api = self.bindings.exlogare_ingest_redaction().redactor();
        let wit = options.to_wit();
        let created = self
            .gs
            .call("redactor.create", |s| api.call_create(s, &wit))?;
        match created {
            Ok(handle) => {
                self.redactor = Some(handle);
                Ok(())
            }
            Err(message) => Err(GuestError::Rejected {
                guest: self.gs.guest().to_string(),
                message,
            }),
        }
    }

    /// Redacts the next chunk of clean text.
    pub fn redact(&mut self, chunk: &[u8]) -> Result<Vec<u8>, GuestError> {
        let handle = self.handle(self.redactor, "redactor.push")?;
        let api = self.bindings.exlogare_ingest_redaction().redactor();
        let out = self
            .gs
            .call("redactor.push", |s| api.call_push(s, handle, chunk))?;
        self.gs.check_output("redactor.push", chunk.len(), out)
    }

    /// Ends the redactor: the rest of the text and the counts by rule.
    pub fn redact_finish(&mut self) -> Result<(Vec<u8>, RuleCounts), GuestError> {
        let handle = self.handle(self.redactor, "redactor.finish")?;
        let api = self.bindings.exlogare_ingest_redaction().redactor();
        let out = self
            .gs
            .call("redactor.finish", |s| api.call_finish(s, handle))?;
        let out = self.gs.check_output("redactor.finish", 0, out)?;
        let report = self
            .gs
            .call("redactor.report", |s| api.call_report(s, handle))?;
        Ok((out, report.into_iter().map(|c| (c.rule, c.count)).collect()))
    }

    /// Starts the excerpt builder: `log_budget` for the log as sent, `excerpt_budget` for the
    /// failure excerpt.
    /// With `keep_terminal_controls` (`--keep-ansi`) escape characters and carriage returns
    /// are kept.
    pub fn start_excerpt(
        &mut self,
        log_budget: u64,
        excerpt_budget: u64,
        keep_terminal_controls: bool,
    ) -> Result<(), GuestError> {
        let api = self.bindings.exlogare_ingest_excerpt().excerpt_builder();
        let options = excerpt::ExcerptOptions {
            log_budget,
            excerpt_budget,
            keep_terminal_controls,
        };
        let created = self
            .gs
            .call("excerpt-builder.create", |s| api.call_create(s, options))?;
        let handle = created.map_err(|message| GuestError::Rejected {
            guest: self.gs.guest().to_string(),
            message,
        })?;
        if let Some(old) = self.excerpt.replace(handle) {
            let _ = old.resource_drop(&mut self.gs.store);
        }
        self.excerpt_budgets = log_budget.saturating_add(excerpt_budget);
        Ok(())
    }

    /// Gives the excerpt builder the next piece of redacted text.
    pub fn excerpt_push(&mut self, text: &[u8]) -> Result<(), GuestError> {
        let handle = self.handle(self.excerpt, "excerpt-builder.push")?;
        let api = self.bindings.exlogare_ingest_excerpt().excerpt_builder();
        self.gs
            .call("excerpt-builder.push", |s| api.call_push(s, handle, text))
    }

    /// Ends the excerpt builder: the log as sent, the failure excerpt and the counts of
    /// neutralised characters.
    pub fn excerpt_finish(&mut self) -> Result<Chosen, GuestError> {
        let handle = self.handle(self.excerpt, "excerpt-builder.finish")?;
        let api = self.bindings.exlogare_ingest_excerpt().excerpt_builder();
        let out = self
            .gs
            .call("excerpt-builder.finish", |s| api.call_finish(s, handle))?;
        // Neutralising makes text longer (one character becomes `<U+XXXX>`), but the builder
        // keeps each selection within its budget.
        let limit = usize::try_from(self.excerpt_budgets).unwrap_or(usize::MAX);
        let log = self
            .gs
            .check_output("excerpt-builder.finish", limit, out.log.text)?;
        let small = self
            .gs
            .check_output("excerpt-builder.finish", limit, out.excerpt.text)?;
        Ok(Chosen {
            log: selection_from_wit(excerpt::Selection {
                text: log,
                ..out.log
            }),
            excerpt: selection_from_wit(excerpt::Selection {
                text: small,
                ..out.excerpt
            }),
            neutralised: Neutralised {
                bidi: out.neutralised.bidi,
                zero_width: out.neutralised.zero_width,
                control: out.neutralised.control,
            },
        })
    }

    /// Starts a payload and returns its opening JSON text.
    pub fn payload_open(&mut self, input: &JobInput) -> Result<Vec<u8>, GuestError> {
        let api = self.bindings.exlogare_ingest_payload().payload_writer();
        let wit = payload::JobInput {
            env: input.env.clone(),
            extra: input.extra.clone(),
            known_secrets: input
                .known_secrets
                .iter()
                .map(|(name, value)| redaction::KnownSecret {
                    name: name.clone(),
                    value: value.clone(),
                })
                .collect(),
            min_secret_length: input.min_secret_length,
            host_version: input.host_version.clone(),
            log: payload::LogInfo {
                bytes_read: input.log.bytes_read,
                bytes_omitted: input.log.bytes_omitted,
                invalid_utf8_bytes: input.log.invalid_utf8_bytes,
                nul_bytes: input.log.nul_bytes,
                redactions: input
                    .log
                    .redactions
                    .iter()
                    .map(|(rule, count)| redaction::RuleCount {
                        rule: rule.clone(),
                        count: *count,
                    })
                    .collect(),
                redactors: input.log.redactors.clone(),
                selection: input.log.selection.as_ref().map(Manifest::to_wit),
                excerpt: input.log.excerpt.as_ref().map(|e| payload::FailureExcerpt {
                    text: e.text.clone(),
                    manifest: e.manifest.to_wit(),
                }),
                neutralised: excerpt::Neutralised {
                    bidi: input.log.neutralised.bidi,
                    zero_width: input.log.neutralised.zero_width,
                    control: input.log.neutralised.control,
                },
            },
        };
        let created = self
            .gs
            .call("payload-writer.create", |s| api.call_create(s, &wit))?;
        let handle = created.map_err(|message| GuestError::Rejected {
            guest: self.gs.guest().to_string(),
            message,
        })?;
        if let Some(old) = self.writer.replace(handle) {
            let _ = old.resource_drop(&mut self.gs.store);
        }
        let out = self
            .gs
            .call("payload-writer.open", |s| api.call_open(s, handle))?;
        self.gs.check_output("payload-writer.open", 1 << 20, out)
    }

    /// Escapes one piece of the redacted log for the payload.
    pub fn payload_log(&mut self, piece: &[u8]) -> Result<Vec<u8>, GuestError> {
        let handle = self.handle(self.writer, "payload-writer.log")?;
        let api = self.bindings.exlogare_ingest_payload().payload_writer();
        let out = self
            .gs
            .call("payload-writer.log", |s| api.call_log(s, handle, piece))?;
        // JSON escaping turns one byte into at most six (`\u001f`).
        self.gs
            .check_output("payload-writer.log", piece.len().saturating_mul(2), out)
    }

    /// Ends the payload.
    pub fn payload_close(&mut self) -> Result<Vec<u8>, GuestError> {
        let handle = self.handle(self.writer, "payload-writer.close")?;
        let api = self.bindings.exlogare_ingest_payload().payload_writer();
        let out = self
            .gs
            .call("payload-writer.close", |s| api.call_close(s, handle))?;
        self.gs.check_output("payload-writer.close", 0, out)
    }

    fn handle(&self, handle: Option<ResourceAny>, call: &str) -> Result<ResourceAny, GuestError> {
        handle.ok_or_else(|| GuestError::Trap {
            guest: self.gs.guest().to_string(),
            call: call.to_string(),
            reason: "called before its stage was started (a bug in exlogare)".to_string(),
            stderr: String::new(),
        })
    }
}
