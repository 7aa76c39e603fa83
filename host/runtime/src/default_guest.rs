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

use bindings::exports::exlogare::ingest::{normalize, payload, redaction};

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
}

impl DefaultGuest {
    /// Loads (without compiling, when the embedded artifact fits this CPU) and instantiates
    /// the default guest under `limits`.
    pub fn new(runtime: &Runtime, limits: &Limits) -> Result<DefaultGuest, GuestError> {
        let component = runtime.load(DEFAULT_GUEST_NAME, Some(&PRECOMPILED.0), WASM)?;
        let linker = runtime.linker()?;
        let mut gs = runtime.store(DEFAULT_GUEST_NAME, limits);
        let bindings = gs.call("instantiate", |store| {
            bindings::DefaultGuest::instantiate(store, &component, &linker)
        })?;
        Ok(DefaultGuest {
            gs,
            bindings,
            normalizer: None,
            redactor: None,
            writer: None,
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
