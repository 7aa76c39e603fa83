//! Redaction plugins: components of the `redactor-plugin` world, written by users, run after
//! the default rules.
//!
//! A plugin is untrusted code, so before it is ever instantiated this module reads what it
//! imports and exports from its compiled type: it must export `exlogare:ingest/redaction` at a
//! version this host speaks (0.1.x), and import nothing beyond the small part of WASI that
//! Rust's std links in even when a program does no I/O (see [`ALLOWED_IMPORTS`]). Each run gets
//! a fresh store under the same limits as the default guest, and its output is checked against
//! the output cap and turned into valid UTF-8 before it goes further.

use std::path::Path;
use std::time::{Duration, Instant};

use wasmtime::component::{Component, ResourceAny};

use crate::cache::CacheOutcome;
use crate::default_guest::RedactorOptions;
use crate::error::GuestError;
use crate::sandbox::{GuestStore, Limits, Runtime};

mod bindings {
    wasmtime::component::bindgen!({
        path: "../../wit",
        world: "redactor-plugin",
    });
}

/// The interface a plugin must export, without its version.
pub const REDACTION_INTERFACE: &str = "exlogare:ingest/redaction";

/// The WIT versions of `exlogare:ingest` this host loads plugins of, for messages.
pub const SUPPORTED_WIT_RANGE: &str = "0.1.x (>=0.1.0, <0.2.0)";

/// The imports a plugin may have: what a `wasm32-wasip2` Rust cdylib imports when it does no
/// I/O of its own, measured with `component_type().imports()` on plugins built by the tests
/// (`wasi:cli/{environment,exit,stdin,stdout,stderr,terminal-*}`, `wasi:io/{error,poll,streams}`),
/// plus the clocks and randomness std uses for `Instant`, `SystemTime` and `HashMap` seeds.
/// All of them are linked against an empty context: no environment, frozen clocks, stdout and
/// stderr into bounded buffers. Files (`wasi:filesystem`), sockets (`wasi:sockets`), HTTP
/// (`wasi:http`) and anything that is not WASI are refused.
pub const ALLOWED_IMPORTS: &[&str] = &[
    "wasi:cli/environment",
    "wasi:cli/exit",
    "wasi:cli/stdin",
    "wasi:cli/stdout",
    "wasi:cli/stderr",
    "wasi:cli/terminal-input",
    "wasi:cli/terminal-output",
    "wasi:cli/terminal-stdin",
    "wasi:cli/terminal-stdout",
    "wasi:cli/terminal-stderr",
    "wasi:io/error",
    "wasi:io/poll",
    "wasi:io/streams",
    "wasi:clocks/monotonic-clock",
    "wasi:clocks/wall-clock",
    "wasi:random/random",
    "wasi:random/insecure",
    "wasi:random/insecure-seed",
];

/// Splits `ns:pkg/iface@1.2.3` into (`ns:pkg/iface`, `Some("1.2.3")`).
pub fn split_version(name: &str) -> (&str, Option<&str>) {
    match name.split_once('@') {
        Some((base, version)) => (base, Some(version)),
        None => (name, None),
    }
}

/// Whether an import is one a plugin may have: a name in [`ALLOWED_IMPORTS`] at WASI 0.2.x.
pub fn import_allowed(name: &str) -> bool {
    let (base, version) = split_version(name);
    ALLOWED_IMPORTS.contains(&base) && version.is_some_and(|v| v.starts_with("0.2."))
}

/// Whether this host speaks `exlogare:ingest` at `version` (0.1.x: the same semver-compatible
/// series as the WIT the host was built with).
pub fn wit_version_supported(version: &str) -> bool {
    let mut parts = version.split(['.', '-', '+']);
    parts.next() == Some("0")
        && parts.next() == Some("1")
        && parts.next().is_some_and(|p| p.parse::<u64>().is_ok())
}

/// What a plugin's component says about itself, read without running it.
#[derive(Clone, Debug)]
pub struct PluginShape {
    /// Every import, by name.
    pub imports: Vec<String>,
    /// Every export, by name.
    pub exports: Vec<String>,
    /// The version of `exlogare:ingest/redaction` it exports, if it exports it.
    pub wit_version: Option<String>,
    /// The world it appears to target: `redactor-plugin`, or `default-guest` when it also
    /// exports the other interfaces.
    pub world: Option<&'static str>,
    /// The imports it may not have.
    pub refused_imports: Vec<String>,
}

impl PluginShape {
    fn of(component: &Component, runtime: &Runtime) -> PluginShape {
        let ty = component.component_type();
        let engine = runtime.engine();
        let imports: Vec<String> = ty.imports(engine).map(|(n, _)| n.to_string()).collect();
        let exports: Vec<String> = ty.exports(engine).map(|(n, _)| n.to_string()).collect();
        let wit_version = exports.iter().find_map(|e| match split_version(e) {
            (REDACTION_INTERFACE, v) => Some(v.unwrap_or("none").to_string()),
            _ => None,
        });
        let ingest = |iface: &str| {
            exports
                .iter()
                .any(|e| split_version(e).0 == format!("exlogare:ingest/{iface}"))
        };
        let world = match (
            wit_version.is_some(),
            ingest("normalize") && ingest("payload"),
        ) {
            (true, true) => Some("default-guest"),
            (true, false) => Some("redactor-plugin"),
            _ => None,
        };
        let refused_imports = imports
            .iter()
            .filter(|i| !import_allowed(i))
            .cloned()
            .collect();
        PluginShape {
            imports,
            exports,
            wit_version,
            world,
            refused_imports,
        }
    }

    /// Why the host refuses this plugin, if it does.
    pub fn refusal(&self, guest: &str) -> Option<GuestError> {
        match &self.wit_version {
            None => {
                return Some(GuestError::NotAPlugin {
                    guest: guest.to_string(),
                    exports: self.exports.join(", "),
                });
            }
            Some(v) if !wit_version_supported(v) => {
                return Some(GuestError::UnsupportedVersion {
                    guest: guest.to_string(),
                    found: format!("{REDACTION_INTERFACE}@{v}"),
                    supported: SUPPORTED_WIT_RANGE.to_string(),
                });
            }
            Some(_) => {}
        }
        if self.refused_imports.is_empty() {
            return None;
        }
        let named: Vec<String> = self
            .refused_imports
            .iter()
            .take(12)
            .map(|i| format!("`{i}`"))
            .collect();
        let more = self.refused_imports.len().saturating_sub(named.len());
        Some(GuestError::ForbiddenImport {
            guest: guest.to_string(),
            imports: if more > 0 {
                format!("{} and {more} more", named.join(", "))
            } else {
                named.join(", ")
            },
        })
    }
}

/// A plugin compiled (or loaded from the cache) and checked, ready to instantiate.
pub struct LoadedPlugin {
    label: String,
    component: Component,
    shape: PluginShape,
    /// Whether the compiled form came from the cache; `None` when there is no cache.
    pub cache: Option<CacheOutcome>,
    /// How long getting the compiled form took.
    pub load_time: Duration,
}

impl LoadedPlugin {
    /// How the plugin is named in messages before its `info()` is known.
    pub fn label(&self) -> &str {
        &self.label
    }

    /// Its imports and exports.
    pub fn shape(&self) -> &PluginShape {
        &self.shape
    }
}

/// The `info()` a plugin exports.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PluginInfo {
    /// Its name.
    pub name: String,
    /// Its own version (not the WIT's).
    pub version: String,
    /// What it redacts.
    pub description: String,
}

impl Runtime {
    /// Compiles `wasm` (once: the compiled form is cached under the wasm's sha256 and the
    /// engine's compatibility hash) and reads its type, without instantiating it. It is
    /// measured first and refused when over the [`crate::CompileCaps`]; the compile runs on a worker
    /// thread and is given up at `deadline`.
    /// `path` names the plugin in messages. Use [`LoadedPlugin::shape`] and
    /// [`PluginShape::refusal`] to decide, or [`Runtime::load_plugin`] to refuse at once.
    pub fn compile_plugin(
        &self,
        path: &Path,
        wasm: &[u8],
        deadline: Option<Instant>,
    ) -> Result<LoadedPlugin, GuestError> {
        let label = format!(
            "plugin {}",
            path.file_name()
                .map(|n| n.to_string_lossy())
                .unwrap_or_else(|| path.to_string_lossy())
        );
        // 1. Caps on what it asks the compiler to do, before any compile.
        self.compile_caps()
            .check(wasm)
            .map_err(|over| GuestError::TooBig {
                guest: label.clone(),
                reason: over.0,
            })?;
        // 2. The compile (or the cache load), on a worker thread, given up at the deadline:
        // a crafted module can keep Cranelift busy for minutes. A compile given up keeps its
        // thread busy until the process ends, which is soon: nothing of it is used.
        let started = Instant::now();
        let engine = self.engine().clone();
        let cache = self.cache().cloned();
        let bytes = wasm.to_vec();
        let guest = label.clone();
        let (tx, rx) = std::sync::mpsc::sync_channel(1);
        std::thread::Builder::new()
            .name("exlogare-compile".into())
            .spawn(move || {
                let result = match cache {
                    Some(cache) => cache
                        .load_or_compile_with_outcome(&engine, &guest, &bytes)
                        .map(|(c, outcome)| (c, Some(outcome))),
                    None => Component::new(&engine, &bytes)
                        .map(|c| (c, None))
                        .map_err(|e| GuestError::Load {
                            guest: guest.clone(),
                            reason: format!("not a valid wasm component: {e:#}"),
                        }),
                };
                let _ = tx.send(result);
            })
            .map_err(|e| GuestError::Load {
                guest: label.clone(),
                reason: format!("cannot start the compile thread: {e}"),
            })?;
        let received = match deadline {
            Some(deadline) => {
                let left = deadline.saturating_duration_since(Instant::now());
                rx.recv_timeout(left).map_err(|e| match e {
                    std::sync::mpsc::RecvTimeoutError::Timeout => GuestError::CompileTimeout {
                        guest: label.clone(),
                        limit: left,
                    },
                    std::sync::mpsc::RecvTimeoutError::Disconnected => compile_thread_died(&label),
                })?
            }
            None => rx.recv().map_err(|_| compile_thread_died(&label))?,
        };
        let (component, cache) = received?;
        let load_time = started.elapsed();
        let shape = PluginShape::of(&component, self);
        Ok(LoadedPlugin {
            label,
            component,
            shape,
            cache,
            load_time,
        })
    }

    /// [`Runtime::compile_plugin`], then refuses a plugin with an unsupported WIT version or
    /// a forbidden import, naming it.
    pub fn load_plugin(
        &self,
        path: &Path,
        wasm: &[u8],
        deadline: Option<Instant>,
    ) -> Result<LoadedPlugin, GuestError> {
        let plugin = self.compile_plugin(path, wasm, deadline)?;
        match plugin.shape.refusal(&plugin.label) {
            Some(refusal) => Err(refusal),
            None => Ok(plugin),
        }
    }
}

fn compile_thread_died(label: &str) -> GuestError {
    GuestError::Load {
        guest: label.to_string(),
        reason: "the compiler stopped without an answer (it crashed)".to_string(),
    }
}

/// A running plugin, in its own fresh store.
pub struct PluginInstance {
    gs: GuestStore,
    bindings: bindings::RedactorPlugin,
    info: PluginInfo,
}

impl PluginInstance {
    /// Instantiates a checked plugin in a fresh store under `limits` and reads its `info()`.
    pub fn new(
        runtime: &Runtime,
        plugin: &LoadedPlugin,
        limits: &Limits,
    ) -> Result<PluginInstance, GuestError> {
        // Checked again here so no caller can instantiate a refused plugin.
        if let Some(refusal) = plugin.shape.refusal(&plugin.label) {
            return Err(refusal);
        }
        let linker = runtime.linker()?;
        let mut gs = runtime.store(&plugin.label, limits);
        let bindings = gs.call("instantiate", |store| {
            bindings::RedactorPlugin::instantiate(store, &plugin.component, &linker)
        })?;
        let api = bindings.exlogare_ingest_redaction();
        let info = gs.call("info", |s| api.call_info(s))?;
        let info = PluginInfo {
            name: info.name,
            version: info.version,
            description: info.description,
        };
        if let Err(reason) = info.validate() {
            return Err(GuestError::BadAnswer {
                guest: plugin.label.clone(),
                call: "info".to_string(),
                reason,
            });
        }
        gs.set_guest(format!(
            "{} ({}@{})",
            plugin.label,
            printable(&info.name),
            printable(&info.version)
        ));
        Ok(PluginInstance { gs, bindings, info })
    }

    /// What the plugin says it is.
    pub fn info(&self) -> &PluginInfo {
        &self.info
    }

    /// `name@version`, for reports.
    pub fn id(&self) -> String {
        format!(
            "{}@{}",
            printable(&self.info.name),
            printable(&self.info.version)
        )
    }

    /// How the plugin is named in messages.
    pub fn guest(&self) -> &str {
        self.gs.guest()
    }

    /// Starts a redaction run.
    pub fn start(mut self, options: &RedactorOptions) -> Result<PluginRedactor, GuestError> {
        let api = self.bindings.exlogare_ingest_redaction().redactor();
        let wit = options.to_plugin_wit();
        let created = self
            .gs
            .call("redactor.create", |s| api.call_create(s, &wit))?;
        let handle = created.map_err(|message| GuestError::Rejected {
            guest: self.gs.guest().to_string(),
            message,
        })?;
        Ok(PluginRedactor {
            instance: self,
            handle,
            utf8: Utf8Repair::default(),
            bytes_in: 0,
            bytes_out: 0,
        })
    }
}

/// One redaction run of a plugin.
pub struct PluginRedactor {
    instance: PluginInstance,
    handle: ResourceAny,
    utf8: Utf8Repair,
    /// Bytes given to the plugin so far.
    bytes_in: u64,
    /// Bytes it returned so far.
    bytes_out: u64,
}

impl PluginRedactor {
    /// `name@version`, for reports.
    pub fn id(&self) -> String {
        self.instance.id()
    }

    /// How the plugin is named in messages.
    pub fn guest(&self) -> &str {
        self.instance.guest()
    }

    /// Redacts the next chunk; the output is capped and valid UTF-8.
    pub fn push(&mut self, chunk: &[u8]) -> Result<Vec<u8>, GuestError> {
        let api = self
            .instance
            .bindings
            .exlogare_ingest_redaction()
            .redactor();
        let handle = self.handle;
        let gs = &mut self.instance.gs;
        let out = gs.call("redactor.push", |s| api.call_push(s, handle, chunk))?;
        let out = gs.check_output("redactor.push", chunk.len(), out)?;
        self.bytes_in += chunk.len() as u64;
        self.count_output("redactor.push", out.len())?;
        Ok(self.utf8.push(&out))
    }

    /// Adds `len` bytes to what this run returned, refusing a run over its total output cap:
    /// each call within its own cap can still add up to far more than the log.
    fn count_output(&mut self, call: &str, len: usize) -> Result<(), GuestError> {
        self.bytes_out += len as u64;
        let limit = self.instance.gs.limits().run_output_limit(self.bytes_in);
        if self.bytes_out > limit {
            return Err(GuestError::OutputTooLarge {
                guest: self.instance.gs.guest().to_string(),
                call: format!("{call}, all calls of the run together"),
                got: usize::try_from(self.bytes_out).unwrap_or(usize::MAX),
                limit: usize::try_from(limit).unwrap_or(usize::MAX),
            });
        }
        Ok(())
    }

    /// Ends the run: the rest of the text, the counts by rule, and how many bytes of invalid
    /// UTF-8 the host replaced in the plugin's output.
    pub fn finish(&mut self) -> Result<PluginFinish, GuestError> {
        let api = self
            .instance
            .bindings
            .exlogare_ingest_redaction()
            .redactor();
        let handle = self.handle;
        let gs = &mut self.instance.gs;
        let out = gs.call("redactor.finish", |s| api.call_finish(s, handle))?;
        let out = gs.check_output("redactor.finish", 0, out)?;
        let report = gs.call("redactor.report", |s| api.call_report(s, handle))?;
        let finished = out.len();
        self.count_output("redactor.finish", finished)?;
        let guest = self.instance.gs.guest().to_string();
        if report.len() > MAX_RULES {
            return Err(GuestError::BadAnswer {
                guest,
                call: "redactor.report".to_string(),
                reason: format!(
                    "it reported {} rules, over the limit of {MAX_RULES}",
                    report.len()
                ),
            });
        }
        let mut counts = Vec::with_capacity(report.len());
        for (i, c) in report.into_iter().enumerate() {
            if let Err(why) = check_rule_name(&c.rule) {
                return Err(GuestError::BadAnswer {
                    guest,
                    call: "redactor.report".to_string(),
                    reason: format!("the name of rule #{} {why}", i + 1),
                });
            }
            counts.push((c.rule, c.count));
        }
        let report = counts;
        let mut text = self.utf8.push(&out);
        text.extend_from_slice(&self.utf8.finish());
        Ok(PluginFinish {
            text,
            counts: report,
            invalid_utf8_bytes: self.utf8.replaced,
        })
    }
}

/// The end of a plugin's run.
#[derive(Clone, Debug, Default)]
pub struct PluginFinish {
    /// The rest of the text (valid UTF-8).
    pub text: Vec<u8>,
    /// Redactions by rule, as the plugin counted them.
    pub counts: Vec<(String, u64)>,
    /// Bytes of invalid UTF-8 in the plugin's output that the host replaced.
    pub invalid_utf8_bytes: u64,
}

/// The most rules a plugin may report.
pub const MAX_RULES: usize = 256;

/// The longest rule name, plugin name or version, in characters.
pub const MAX_NAME_CHARS: usize = 64;

/// The longest plugin description, in characters.
pub const MAX_DESCRIPTION_CHARS: usize = 200;

/// Checks a rule name: 1 to 64 characters of `A-Z a-z 0-9 _ . : / -`. It is printed in the
/// summary and sent in the payload, so it may hold nothing a terminal or a reader of the
/// JSON could take for something else.
fn check_rule_name(name: &str) -> Result<(), String> {
    check_name(
        name,
        |c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | ':' | '/' | '-'),
        "A-Z a-z 0-9 _ . : / -",
    )
}

fn check_name(name: &str, allowed: impl Fn(char) -> bool, charset: &str) -> Result<(), String> {
    let chars = name.chars().count();
    if chars == 0 {
        return Err("is empty".to_string());
    }
    if chars > MAX_NAME_CHARS {
        return Err(format!(
            "is {chars} characters long, over the limit of {MAX_NAME_CHARS}"
        ));
    }
    if let Some(bad) = name.chars().find(|c| !allowed(*c)) {
        return Err(format!(
            "holds the character `{}`, outside the allowed set ({charset})",
            bad.escape_default()
        ));
    }
    Ok(())
}

impl PluginInfo {
    /// Checks what a plugin says about itself before it is printed or sent: a name of 1 to 64
    /// characters of `A-Z a-z 0-9 _ . -`, a version of the same plus `+`, a description of at
    /// most 200 characters with no control or bidirectional-override characters.
    pub fn validate(&self) -> Result<(), String> {
        check_name(
            &self.name,
            |c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'),
            "A-Z a-z 0-9 _ . -",
        )
        .map_err(|why| format!("its name {why}"))?;
        check_name(
            &self.version,
            |c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-' | '+'),
            "A-Z a-z 0-9 _ . - +",
        )
        .map_err(|why| format!("its version {why}"))?;
        let chars = self.description.chars().count();
        if chars > MAX_DESCRIPTION_CHARS {
            return Err(format!(
                "its description is {chars} characters long, over the limit of {MAX_DESCRIPTION_CHARS}"
            ));
        }
        if self.description.chars().any(|c| {
            c.is_control() || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
        }) {
            return Err(
                "its description holds control or bidirectional-override characters".to_string(),
            );
        }
        Ok(())
    }
}

/// A plugin-chosen name made safe to print: control characters dropped, length capped.
fn printable(s: &str) -> String {
    s.chars().filter(|c| !c.is_control()).take(64).collect()
}

/// Turns a stream of bytes into valid UTF-8: invalid sequences become U+FFFD; a sequence cut
/// at the end of one piece is completed by the next.
#[derive(Default)]
struct Utf8Repair {
    held: Vec<u8>,
    replaced: u64,
}

impl Utf8Repair {
    fn push(&mut self, bytes: &[u8]) -> Vec<u8> {
        let mut input = std::mem::take(&mut self.held);
        input.extend_from_slice(bytes);
        let mut out = Vec::with_capacity(input.len());
        let mut rest = &input[..];
        loop {
            match std::str::from_utf8(rest) {
                Ok(valid) => {
                    out.extend_from_slice(valid.as_bytes());
                    break;
                }
                Err(e) => {
                    let (valid, after) = rest.split_at(e.valid_up_to());
                    out.extend_from_slice(valid);
                    match e.error_len() {
                        Some(bad) => {
                            out.extend_from_slice("\u{fffd}".as_bytes());
                            self.replaced += bad as u64;
                            rest = &after[bad..];
                        }
                        None => {
                            self.held = after.to_vec();
                            break;
                        }
                    }
                }
            }
        }
        out
    }

    fn finish(&mut self) -> Vec<u8> {
        if self.held.is_empty() {
            return Vec::new();
        }
        self.replaced += self.held.len() as u64;
        self.held.clear();
        "\u{fffd}".as_bytes().to_vec()
    }
}

impl RedactorOptions {
    fn to_plugin_wit(&self) -> bindings::exports::exlogare::ingest::redaction::Options {
        use bindings::exports::exlogare::ingest::redaction as wit;
        wit::Options {
            known_secrets: self
                .known_secrets
                .iter()
                .map(|(name, value)| wit::KnownSecret {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_import_allowlist_is_what_std_needs_and_nothing_more() {
        for ok in [
            "wasi:cli/environment@0.2.6",
            "wasi:cli/stderr@0.2.0",
            "wasi:io/streams@0.2.6",
            "wasi:clocks/monotonic-clock@0.2.3",
            "wasi:random/random@0.2.6",
        ] {
            assert!(import_allowed(ok), "{ok}");
        }
        for refused in [
            "wasi:filesystem/types@0.2.6",
            "wasi:filesystem/preopens@0.2.0",
            "wasi:sockets/tcp@0.2.6",
            "wasi:sockets/ip-name-lookup@0.2.0",
            "wasi:http/outgoing-handler@0.2.6",
            "wasi:cli/stderr",
            "wasi:cli/stderr@0.3.0",
            "acme:evil/exfiltrate@1.0.0",
            "env",
        ] {
            assert!(!import_allowed(refused), "{refused}");
        }
    }

    #[test]
    fn only_the_0_1_series_is_supported() {
        for ok in ["0.1.0", "0.1.7", "0.1.0-rc1"] {
            assert!(wit_version_supported(ok), "{ok}");
        }
        for no in ["0.2.0", "9.0.0", "1.1.0", "0.1", "none", "0.10.0"] {
            assert!(!wit_version_supported(no), "{no}");
        }
        assert!(wit_version_supported(crate::WIT_VERSION));
    }

    #[test]
    fn plugin_output_becomes_utf8_across_pieces() {
        let mut r = Utf8Repair::default();
        let euro = "€".as_bytes();
        let mut out = r.push(&[b'a', euro[0]]);
        out.extend(r.push(&euro[1..]));
        out.extend(r.push(&[0xff, b'b', 0xe2]));
        out.extend(r.finish());
        assert_eq!(String::from_utf8(out).unwrap(), "a€\u{fffd}b\u{fffd}");
        assert_eq!(r.replaced, 2);
    }
}
