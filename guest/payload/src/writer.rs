//! The streamed JSON body: fields first, the log string last, piece by piece.
//!
//! The body must fit logs of any size in bounded memory, so it is never built whole: the
//! writer renders everything before the log once (the documented fields in their documented
//! order, then `metadata`), and then escapes the log as it comes. The result is one JSON object
//! whatever the number of pieces.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::env::{Env, looks_secret};
use crate::job::Groups;
use crate::json::StringEscaper;
use crate::providers::Provider;
use crate::{JobInput, LogInfo, Manifest, Neutralised};

/// The most JSON text allowed before the log (fields and metadata).
pub const MAX_HEAD_BYTES: usize = 1 << 20;

/// Why a payload could not be prepared.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The metadata could not be encoded (should not happen: it is all strings and numbers).
    #[error("could not encode the payload metadata as JSON: {0}")]
    Json(#[from] serde_json::Error),
    /// The fields and metadata are too large; nothing was built.
    #[error(
        "the payload fields and metadata take {size} bytes, over the limit of {limit}: \
         pass fewer or shorter --meta values"
    )]
    MetadataTooLarge {
        /// Size of the rendered fields and metadata, in bytes.
        size: usize,
        /// [`MAX_HEAD_BYTES`].
        limit: usize,
    },
}

/// `metadata`, as sent.
#[derive(Serialize)]
struct Metadata<'a> {
    exlogare_version: &'a str,
    #[serde(flatten)]
    groups: &'a Groups,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    extra: BTreeMap<&'a str, &'a str>,
    log: LogOut,
    redactions: BTreeMap<&'a str, u64>,
    redactors: &'a [String],
    #[serde(skip_serializing_if = "Option::is_none")]
    failure_excerpt: Option<ExcerptOut>,
}

/// `metadata.failure_excerpt`, as sent.
#[derive(Serialize)]
struct ExcerptOut {
    text: String,
    manifest: Manifest,
}

/// `metadata.log`, as sent.
#[derive(Serialize)]
struct LogOut {
    bytes_read: u64,
    bytes_omitted: u64,
    invalid_utf8_bytes: u64,
    nul_bytes: u64,
    neutralised: Neutralised,
    #[serde(skip_serializing_if = "Option::is_none")]
    selection: Option<Manifest>,
}

/// Where the writer is in the body.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Stage {
    /// Nothing written yet.
    Fresh,
    /// Inside the log string.
    InLog,
    /// The body is complete.
    Closed,
}

/// Writes the ingest API body as a stream: [`open`](Self::open), any number of
/// [`log`](Self::log), then [`close`](Self::close).
///
/// Calls out of order never break the JSON: `log` or `close` before `open` write the opening
/// first, and anything after `close` returns nothing.
#[derive(Debug)]
pub struct PayloadWriter {
    head: Vec<u8>,
    stage: Stage,
    escaper: StringEscaper,
}

impl PayloadWriter {
    /// Reads the provider and fields from `input.env` and renders everything before the log.
    pub fn new(input: JobInput) -> Result<Self, Error> {
        let env = Env::new(&input.env);
        let provider = Provider::detect(&env);
        let job = provider.read(&env);
        let f = &job.fields;

        let version = if input.host_version.trim().is_empty() {
            env!("CARGO_PKG_VERSION")
        } else {
            input.host_version.as_str()
        };
        let metadata = Metadata {
            exlogare_version: version,
            groups: &job.groups,
            extra: extra(&input.extra),
            log: log_out(&input.log),
            redactions: redactions(&input.log),
            redactors: &input.log.redactors,
            failure_excerpt: input.log.excerpt.as_ref().map(|e| ExcerptOut {
                text: e.text.clone(),
                manifest: e.manifest.clone().capped(),
            }),
        };

        let mut head = Vec::with_capacity(1024);
        head.push(b'{');
        let status = f.status.as_deref().unwrap_or_default();
        for (i, (name, value)) in [
            ("provider", provider.name()),
            ("project", f.project.as_str()),
            ("pipeline_id", f.pipeline_id.as_str()),
            ("job_id", f.job_id.as_str()),
            ("job_name", f.job_name.as_str()),
            ("status", status),
            ("branch", f.branch.as_str()),
            ("commit_sha", f.commit_sha.as_str()),
            ("pipeline_url", f.pipeline_url.as_str()),
        ]
        .into_iter()
        .enumerate()
        {
            if i > 0 {
                head.push(b',');
            }
            serde_json::to_writer(&mut head, name)?;
            head.push(b':');
            serde_json::to_writer(&mut head, value)?;
        }
        head.extend_from_slice(b",\"metadata\":");
        serde_json::to_writer(&mut head, &metadata)?;
        head.extend_from_slice(b",\"log\":\"");
        if head.len() > MAX_HEAD_BYTES {
            return Err(Error::MetadataTooLarge {
                size: head.len(),
                limit: MAX_HEAD_BYTES,
            });
        }
        Ok(PayloadWriter {
            head,
            stage: Stage::Fresh,
            escaper: StringEscaper::default(),
        })
    }

    /// JSON text up to and including the opening quote of the "log" string.
    pub fn open(&mut self) -> Vec<u8> {
        let mut out = Vec::new();
        self.open_into(&mut out);
        out
    }

    /// One piece of redacted UTF-8 log text, JSON-string-escaped (stateless per byte: pieces may
    /// split a UTF-8 char; escaping only touches ASCII).
    pub fn log(&mut self, piece: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        self.open_into(&mut out);
        if self.stage == Stage::InLog {
            self.escaper.push(piece, &mut out);
        }
        out
    }

    /// Closing quote and brace.
    pub fn close(&mut self) -> Vec<u8> {
        let mut out = Vec::new();
        self.open_into(&mut out);
        if self.stage == Stage::InLog {
            self.escaper.finish(&mut out);
            out.extend_from_slice(b"\"}");
            self.stage = Stage::Closed;
        }
        out
    }

    /// Writes the opening once.
    fn open_into(&mut self, out: &mut Vec<u8>) {
        if self.stage == Stage::Fresh {
            out.append(&mut self.head);
            self.stage = Stage::InLog;
        }
    }
}

/// `--meta` pairs: keys trimmed, empty or secret-looking keys dropped, the last value of a
/// repeated key kept.
fn extra(pairs: &[(String, String)]) -> BTreeMap<&str, &str> {
    pairs
        .iter()
        .map(|(key, value)| (key.trim(), value.as_str()))
        .filter(|(key, _)| !key.is_empty() && !looks_secret(key))
        .collect()
}

/// `metadata.log` from what the host measured.
fn log_out(log: &LogInfo) -> LogOut {
    LogOut {
        bytes_read: log.bytes_read,
        bytes_omitted: log.bytes_omitted,
        invalid_utf8_bytes: log.invalid_utf8_bytes,
        nul_bytes: log.nul_bytes,
        neutralised: log.neutralised,
        selection: log.selection.clone().map(Manifest::capped),
    }
}

/// Redaction counts by rule, added up across redactors.
fn redactions(log: &LogInfo) -> BTreeMap<&str, u64> {
    let mut counts = BTreeMap::new();
    for (rule, count) in &log.redactions {
        let total: &mut u64 = counts.entry(rule.as_str()).or_default();
        *total = total.saturating_add(*count);
    }
    counts
}
