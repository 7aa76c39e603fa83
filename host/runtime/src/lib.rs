//! Runs exlogare's WebAssembly guests in a sandbox.
//!
//! The host stays thin: everything that touches log text (clean-up, redaction, the payload's
//! JSON) runs in guests, with no files, network, environment or clock, a memory cap and epoch
//! deadlines. This crate owns that sandbox: the wasmtime engine and its epoch ticker, the
//! default guest embedded in the binary (precompiled by `build.rs`), and the calls into it,
//! turning every trap, timeout or broken cap into a [`GuestError`] that names the guest.

mod cache;
mod default_guest;
mod engine_config;
mod error;
mod in_place;
mod plugin;
mod precheck;
mod sandbox;

pub use cache::{ArtifactCache, CacheOutcome};
pub use default_guest::{
    Chosen, DEFAULT_GUEST_NAME, DefaultGuest, FailureExcerpt, JobInfo, JobInput, KeptRange,
    LogInfo, Manifest, Neutralised, NormalizeOptions, NormalizeStats, RedactorOptions, Selection,
};
pub use error::GuestError;
pub use plugin::{
    ALLOWED_IMPORTS, LoadedPlugin, MAX_RULES, PluginFinish, PluginInfo, PluginInstance,
    PluginRedactor, PluginShape, REDACTION_INTERFACE, SUPPORTED_WIT_RANGE, import_allowed,
    wit_version_supported,
};
pub use precheck::{CompileCaps, CompileSize, OverCap};
pub use sandbox::{Limits, Runtime};

/// The WIT package version this host speaks.
pub const WIT_VERSION: &str = "0.1.0";

/// The default guest's component bytes (before precompilation), as embedded in the binary.
pub fn default_guest_wasm() -> &'static [u8] {
    default_guest::WASM
}

/// The wasmtime configuration every guest runs under (the build script precompiles the default
/// guest with it), for benches and tools that compile a guest themselves.
pub fn engine_config() -> wasmtime::Config {
    engine_config::config()
}
