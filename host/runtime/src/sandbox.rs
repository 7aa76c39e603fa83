//! The sandbox every guest runs in: a wasmtime engine with an epoch ticker, and a fresh store
//! per guest with no capabilities, a memory cap, per-call and per-job deadlines, and a bounded
//! capture of what the guest writes to stderr.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};
use std::thread;
use std::time::{Duration, Instant};

use wasmtime::component::{Component, Linker, ResourceTable};
use wasmtime::{Engine, Store, StoreLimits, StoreLimitsBuilder};
use wasmtime_wasi::p2::pipe::MemoryOutputPipe;
use wasmtime_wasi::{HostMonotonicClock, HostWallClock, WasiCtx, WasiCtxView, WasiView};

use crate::cache::ArtifactCache;
use crate::engine_config;
use crate::error::GuestError;
use crate::in_place;
use crate::precheck::CompileCaps;

/// The most core instances, tables and memories one guest may create (a Rust plugin has a
/// handful of each).
pub const MAX_INSTANCES: usize = 32;
/// See [`MAX_INSTANCES`].
pub const MAX_TABLES: usize = 32;
/// See [`MAX_INSTANCES`].
pub const MAX_MEMORIES: usize = 8;

/// The most host handles (streams, pollables...) a guest may hold at once.
pub const MAX_HANDLES: usize = 4096;

/// The most random bytes a guest may ask for in one call (`get-random-bytes(len)` makes the
/// host allocate `len` bytes).
pub const MAX_RANDOM_BYTES: usize = 64 << 10;

/// How often the epoch advances; deadlines are counted in these ticks.
const TICK: Duration = Duration::from_millis(5);

/// The limits one guest runs under.
#[derive(Clone, Debug)]
pub struct Limits {
    /// The most linear memory (all memories together) the guest may grow to.
    pub memory_bytes: usize,
    /// The longest one call into the guest may run.
    pub call_timeout: Duration,
    /// When the whole job must be over; no call runs past it.
    pub deadline: Option<Instant>,
    /// One call may return at most `input * output_factor + output_slack` bytes.
    pub output_factor: usize,
    /// See `output_factor`.
    pub output_slack: usize,
    /// How much of the guest's stderr is kept to show when it fails.
    pub stderr_bytes: usize,
    /// The most elements one table may grow to (a Rust plugin's function table holds a few
    /// thousand).
    pub table_elements: usize,
    /// A plugin's whole run may return at most `input * run_output_factor +
    /// run_output_slack` bytes, all calls together.
    pub run_output_factor: u64,
    /// See `run_output_factor`.
    pub run_output_slack: u64,
    /// The most bytes of strings and lists one answer of the guest may make the host copy
    /// (wasmtime's hostcall fuel). Checked while the answer is read, so an answer whose
    /// entries all point at the same bytes cannot make the host copy them over and over.
    pub copy_bytes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            memory_bytes: 256 << 20,
            call_timeout: Duration::from_secs(10),
            deadline: None,
            output_factor: 4,
            output_slack: 64 << 10,
            stderr_bytes: 16 << 10,
            table_elements: 100_000,
            run_output_factor: 2,
            run_output_slack: 1 << 20,
            // A plugin's largest honest answer is a push of a 64 KiB block (at most 4x that).
            copy_bytes: 32 << 20,
        }
    }
}

impl Limits {
    /// The time the next call may take: the call timeout, cut by the job deadline.
    fn time_for_next_call(&self) -> Duration {
        match self.deadline {
            Some(deadline) => self
                .call_timeout
                .min(deadline.saturating_duration_since(Instant::now())),
            None => self.call_timeout,
        }
    }

    /// The most output a whole run may return for `input` bytes of input, all calls together.
    pub fn run_output_limit(&self, input: u64) -> u64 {
        input
            .saturating_mul(self.run_output_factor)
            .saturating_add(self.run_output_slack)
    }

    /// The most output a call may return for `input` bytes of input.
    pub fn output_limit(&self, input: usize) -> usize {
        input
            .saturating_mul(self.output_factor)
            .saturating_add(self.output_slack)
    }
}

/// Owns the wasmtime engine and the thread that advances its epoch.
pub struct Runtime {
    engine: Engine,
    ticker_stop: Arc<AtomicBool>,
    cache: Option<ArtifactCache>,
    /// What a plugin may ask the compiler to do.
    caps: CompileCaps,
    /// The embedded artifact's component when it runs in place, shared by every guest of this
    /// runtime (its code can back one component per process).
    in_place: OnceLock<Option<(usize, Component)>>,
}

impl Runtime {
    /// Creates the engine and starts the epoch ticker. `cache` is where compiled plugins (and,
    /// when the embedded artifact does not fit this CPU, the default guest) are kept.
    pub fn new(cache: Option<ArtifactCache>) -> Result<Runtime, GuestError> {
        let mut config = engine_config::config();
        config.with_custom_code_memory(in_place::hook());
        let engine = Engine::new(&config).map_err(|e| GuestError::Load {
            guest: "the wasm engine".into(),
            reason: format!("{e:#}"),
        })?;
        let ticker_stop = Arc::new(AtomicBool::new(false));
        let weak = engine.weak();
        let stop = ticker_stop.clone();
        thread::Builder::new()
            .name("exlogare-epoch".into())
            .spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    thread::sleep(TICK);
                    match weak.upgrade() {
                        Some(engine) => engine.increment_epoch(),
                        None => break,
                    }
                }
            })
            .map_err(|e| GuestError::Load {
                guest: "the wasm engine".into(),
                reason: format!("cannot start the epoch thread: {e}"),
            })?;
        Ok(Runtime {
            engine,
            ticker_stop,
            cache,
            caps: CompileCaps::default(),
            in_place: OnceLock::new(),
        })
    }

    /// The engine.
    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    /// Whether the default guest's code runs where the binary holds it, with no copy at
    /// start-up (x86-64 Linux, one runtime per process at a time); for diagnostics and tests.
    pub fn default_guest_in_place(&self) -> bool {
        matches!(self.in_place.get(), Some(Some(_)))
    }

    /// The caps checked before a plugin is compiled.
    pub fn compile_caps(&self) -> CompileCaps {
        self.caps
    }

    /// Sets the caps checked before a plugin is compiled (a policy may lower them).
    pub fn set_compile_caps(&mut self, caps: CompileCaps) {
        self.caps = caps;
    }

    /// The compiled-artifact cache, if any.
    pub fn cache(&self) -> Option<&ArtifactCache> {
        self.cache.as_ref()
    }

    /// A linker with WASI linked against an empty context: a guest built with Rust's std may
    /// import WASI, but gets no files, sockets, environment or clock through it.
    pub(crate) fn linker(&self) -> Result<Linker<State>, GuestError> {
        let mut linker = Linker::new(&self.engine);
        wasmtime_wasi::p2::add_to_linker_sync(&mut linker).map_err(|e| GuestError::Load {
            guest: "the sandbox".into(),
            reason: format!("{e:#}"),
        })?;
        Ok(linker)
    }

    /// A fresh store for one guest, under `limits`.
    pub(crate) fn store(&self, guest: &str, limits: &Limits) -> GuestStore {
        let stderr = MemoryOutputPipe::new(limits.stderr_bytes);
        let wasi = WasiCtx::builder()
            .stderr(stderr.clone())
            .stdout(MemoryOutputPipe::new(limits.stderr_bytes))
            .wall_clock(FrozenClock)
            .monotonic_clock(FrozenClock)
            .allow_tcp(false)
            .allow_udp(false)
            .allow_ip_name_lookup(false)
            // `get-random-bytes(len)` makes the host allocate `len` bytes.
            .max_random_size(MAX_RANDOM_BYTES as u64)
            .build();
        let store_limits = StoreLimitsBuilder::new()
            .memory_size(limits.memory_bytes)
            .instances(MAX_INSTANCES)
            .tables(MAX_TABLES)
            .table_elements(limits.table_elements)
            .memories(MAX_MEMORIES)
            .trap_on_grow_failure(true)
            .build();
        let mut store = Store::new(
            &self.engine,
            State {
                wasi,
                table: resource_table(),
                limits: store_limits,
            },
        );
        store.limiter(|state| &mut state.limits);
        store.set_hostcall_fuel(limits.copy_bytes);
        store.epoch_deadline_trap();
        GuestStore {
            store,
            guest: guest.to_string(),
            limits: limits.clone(),
            stderr,
        }
    }

    /// Deserializes a component this build precompiled (or that our cache holds), falling
    /// back to compiling `wasm` when the artifact does not fit this engine (another CPU).
    pub(crate) fn load(
        &self,
        guest: &str,
        precompiled: Option<&'static [u8]>,
        wasm: &[u8],
    ) -> Result<Component, GuestError> {
        if let Some(bytes) = precompiled {
            // Keyed by the artifact's address: the cache holds one embedded artifact's component.
            if let Some((artifact, component)) = self.in_place.get_or_init(|| {
                in_place::load(&self.engine, bytes).map(|c| (bytes.as_ptr() as usize, c))
            }) && *artifact == bytes.as_ptr() as usize
            {
                return Ok(component.clone());
            }
            // SAFETY: `bytes` was produced by this build's own build script with the same
            // engine configuration; wasmtime checks compatibility and refuses a mismatch.
            if let Ok(component) = unsafe { Component::deserialize(&self.engine, bytes) } {
                return Ok(component);
            }
        }
        match &self.cache {
            Some(cache) => cache.load_or_compile(&self.engine, guest, wasm),
            None => Component::new(&self.engine, wasm).map_err(|e| GuestError::Load {
                guest: guest.to_string(),
                reason: format!("{e:#}"),
            }),
        }
    }
}

impl Drop for Runtime {
    fn drop(&mut self) {
        self.ticker_stop.store(true, Ordering::Relaxed);
    }
}

/// The state of one guest's store.
pub(crate) struct State {
    wasi: WasiCtx,
    table: ResourceTable,
    limits: StoreLimits,
}

impl WasiView for State {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

/// The host-side table of a guest's WASI handles (streams, pollables...), capped: each entry
/// is host memory, and a guest could otherwise ask for a million of them.
fn resource_table() -> ResourceTable {
    let mut table = ResourceTable::new();
    table.set_max_capacity(MAX_HANDLES);
    table
}

/// A clock that never moves: guests get no clock.
struct FrozenClock;

impl HostWallClock for FrozenClock {
    fn resolution(&self) -> Duration {
        Duration::from_secs(1)
    }
    fn now(&self) -> Duration {
        Duration::ZERO
    }
}

impl HostMonotonicClock for FrozenClock {
    fn resolution(&self) -> u64 {
        1_000_000_000
    }
    fn now(&self) -> u64 {
        0
    }
}

/// One guest's store, with the limits every call into it is held to.
pub(crate) struct GuestStore {
    pub(crate) store: Store<State>,
    guest: String,
    limits: Limits,
    stderr: MemoryOutputPipe,
}

impl GuestStore {
    /// The guest's name, for messages.
    pub(crate) fn guest(&self) -> &str {
        &self.guest
    }

    /// The limits it runs under.
    pub(crate) fn limits(&self) -> &Limits {
        &self.limits
    }

    /// Renames the guest (once a plugin has said who it is).
    pub(crate) fn set_guest(&mut self, guest: String) {
        self.guest = guest;
    }

    /// Runs one call into the guest under the call and job deadlines, turning any failure
    /// into a [`GuestError`].
    pub(crate) fn call<R>(
        &mut self,
        call: &str,
        f: impl FnOnce(&mut Store<State>) -> wasmtime::Result<R>,
    ) -> Result<R, GuestError> {
        let limit = self.limits.time_for_next_call();
        if limit.is_zero() {
            return Err(GuestError::Timeout {
                guest: self.guest.clone(),
                call: call.to_string(),
                limit,
            });
        }
        let ticks = (limit.as_millis() / TICK.as_millis()).max(1) as u64;
        self.store.set_epoch_deadline(ticks);
        f(&mut self.store).map_err(|e| self.classify(call, e, limit))
    }

    /// Checks a call's output against the output cap.
    pub(crate) fn check_output(
        &self,
        call: &str,
        input: usize,
        output: Vec<u8>,
    ) -> Result<Vec<u8>, GuestError> {
        let limit = self.limits.output_limit(input);
        if output.len() > limit {
            return Err(GuestError::OutputTooLarge {
                guest: self.guest.clone(),
                call: call.to_string(),
                got: output.len(),
                limit,
            });
        }
        Ok(output)
    }

    fn classify(&self, call: &str, error: wasmtime::Error, limit: Duration) -> GuestError {
        let guest = self.guest.clone();
        let call = call.to_string();
        if let Some(wasmtime::Trap::Interrupt) = error.downcast_ref::<wasmtime::Trap>() {
            return GuestError::Timeout { guest, call, limit };
        }
        let text = format!("{error:#}");
        if text.contains("forcing trap when growing memory") {
            return GuestError::MemoryLimit {
                guest,
                call,
                limit_mib: self.limits.memory_bytes >> 20,
            };
        }
        if text.contains("fuel allocated for hostcalls has been exhausted") {
            return GuestError::CopyLimit {
                guest,
                call,
                limit_mib: self.limits.copy_bytes >> 20,
            };
        }
        let root = error.root_cause().to_string();
        let over = if text.contains("forcing trap when growing table") {
            Some(format!(
                "it asked for a table of more than {} elements, over its table limit",
                self.limits.table_elements
            ))
        } else if root.contains("instance count too high") {
            Some(format!(
                "it made more than {MAX_INSTANCES} instances, over its instance limit"
            ))
        } else if root.contains("table count too high") {
            Some(format!(
                "it made more than {MAX_TABLES} tables, over its table limit"
            ))
        } else if root.contains("memory count too high") {
            Some(format!(
                "it made more than {MAX_MEMORIES} memories, over its memory limit"
            ))
        } else if root.contains("resource table has no free keys") {
            Some(format!(
                "it held more than {MAX_HANDLES} host handles (streams, pollables) at once, over its handle limit"
            ))
        } else if root.starts_with("requested len") && root.contains(&MAX_RANDOM_BYTES.to_string())
        {
            Some(format!(
                "it asked for more random bytes in one call than its limit of {MAX_RANDOM_BYTES}"
            ))
        } else {
            None
        };
        if let Some(what) = over {
            return GuestError::OverLimit { guest, call, what };
        }
        let stderr = String::from_utf8_lossy(&self.stderr.contents()).into_owned();
        let reason = match error.downcast_ref::<wasmtime::Trap>() {
            Some(trap) => trap.to_string(),
            // The innermost cause says what happened ("resource table has no free keys");
            // the outer lines only say where.
            None => root,
        };
        GuestError::Trap {
            guest,
            call,
            reason,
            stderr,
        }
    }
}
