//! What epoch interruption costs the default guest's redaction: the same embedded component,
//! compiled twice by Cranelift, once with epoch interruption on (as exlogare always runs it)
//! and once with it off, beside the native engine, on the log files given.
//!
//! ```text
//! cargo bench -p exlogare-runtime --bench sandbox_costs -- [--known FILE] [--runs N] LOG...
//! ```
//!
//! exlogare never turns epoch interruption off: it is what stops a guest that loops or runs
//! past its deadline (invariant 3). This bench exists to measure what that safety costs, so the
//! guest/native ratio of `guest_throughput` can be read against it. Each log is cut into the
//! same 64 KiB line-aligned chunks; only redaction is timed, in CPU seconds of this thread.
//! Prints one line per log: `<path> <bytes> native_cpu_mbps=.. epoch_on_cpu_mbps=..
//! epoch_off_cpu_mbps=.. on_ratio=.. off_ratio=.. epoch_cost=..`, medians of `--runs` runs
//! (default 5), the three engines taking turns. Figures are for comparing within one run,
//! never asserted.

mod common;

use common::{Args, chunks, median, native, timed};
use wasmtime::component::{Component, Linker, ResourceAny, ResourceTable};
use wasmtime::{Engine, Store};
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};

mod bindings {
    wasmtime::component::bindgen!({
        path: "../../wit",
        world: "default-guest",
    });
}

use bindings::exports::exlogare::ingest::redaction;

/// A store's data: WASI with an empty context, as the runtime links it.
struct State {
    wasi: WasiCtx,
    table: ResourceTable,
}

impl WasiView for State {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

/// The default guest compiled for one configuration.
struct Guest {
    engine: Engine,
    component: Component,
    linker: Linker<State>,
}

/// A fresh instance of a [`Guest`] with a redactor started: nothing compiled or cached by an
/// earlier run carries over, as for the native engine's fresh `Redactor`.
struct Instance {
    store: Store<State>,
    bindings: bindings::DefaultGuest,
    redactor: ResourceAny,
}

impl Guest {
    /// Compiles the embedded default guest with the runtime's engine configuration, epoch
    /// interruption on or off.
    fn new(epoch: bool) -> Guest {
        let mut config = exlogare_runtime::engine_config();
        config.epoch_interruption(epoch);
        let engine = Engine::new(&config).expect("the wasm engine starts");
        let component = Component::new(&engine, exlogare_runtime::default_guest_wasm())
            .expect("the default guest compiles");
        let mut linker = Linker::new(&engine);
        wasmtime_wasi::p2::add_to_linker_sync(&mut linker).expect("WASI links");
        Guest {
            engine,
            component,
            linker,
        }
    }

    /// A new instance with a redactor for `options`.
    fn instance(&self, options: &redaction::Options) -> Instance {
        let mut store = Store::new(
            &self.engine,
            State {
                wasi: WasiCtx::builder().build(),
                table: ResourceTable::new(),
            },
        );
        // No ticker runs, so the epoch never reaches this deadline: the checks are made (that
        // is their cost) but never fire.
        store.set_epoch_deadline(u64::MAX / 2);
        let bindings =
            bindings::DefaultGuest::instantiate(&mut store, &self.component, &self.linker)
                .expect("the default guest instantiates");
        let redactor = bindings
            .exlogare_ingest_redaction()
            .redactor()
            .call_create(&mut store, options)
            .expect("the call returns")
            .expect("the bench options are valid");
        Instance {
            store,
            bindings,
            redactor,
        }
    }
}

impl Instance {
    /// Redacts every chunk and finishes; returns the output's length.
    fn run(&mut self, chunks: &[&[u8]]) -> usize {
        let api = self.bindings.exlogare_ingest_redaction().redactor();
        let mut total = 0;
        for chunk in chunks {
            total += api
                .call_push(&mut self.store, self.redactor, chunk)
                .expect("the guest redacts")
                .len();
        }
        total
            + api
                .call_finish(&mut self.store, self.redactor)
                .expect("the guest finishes")
                .len()
    }
}

/// Redacts every chunk with a fresh instance of `guest`; its CPU seconds and output length.
fn guest(guest: &Guest, options: &redaction::Options, chunks: &[&[u8]]) -> (f64, usize) {
    let mut instance = guest.instance(options);
    let (_, cpu, len) = timed(|| instance.run(chunks));
    (cpu, len)
}

fn main() {
    let args = Args::parse("sandbox_costs");
    let config = args.config();
    let options = redaction::Options {
        known_secrets: args
            .known
            .iter()
            .map(|(name, value)| redaction::KnownSecret {
                name: name.clone(),
                value: value.clone(),
            })
            .collect(),
        min_secret_length: exlogare_redact::DEFAULT_MIN_SECRET_LEN as u32,
        rules_toml: None,
        settings: Vec::new(),
    };
    for path in args.logs {
        let log = std::fs::read(&path).expect("read the log");
        let chunks = chunks(&log);
        let (on, off) = (Guest::new(true), Guest::new(false));
        let (_, _, expected) = native(&config, &chunks);
        let (mut n, mut a, mut b) = (Vec::new(), Vec::new(), Vec::new());
        for _ in 0..args.runs {
            let (_, t, len) = native(&config, &chunks);
            assert_eq!(len, expected);
            n.push(t);
            let (t, len) = guest(&on, &options, &chunks);
            assert_eq!(
                len, expected,
                "the guest's output differs from the native engine's"
            );
            a.push(t);
            let (t, len) = guest(&off, &options, &chunks);
            assert_eq!(
                len, expected,
                "the guest's output differs from the native engine's"
            );
            b.push(t);
        }
        let mb = log.len() as f64 / 1e6;
        let (n, a, b) = (mb / median(n), mb / median(a), mb / median(b));
        println!(
            "{path} {} native_cpu_mbps={n:.1} epoch_on_cpu_mbps={a:.1} epoch_off_cpu_mbps={b:.1} \
             on_ratio={:.2} off_ratio={:.2} epoch_cost={:.0}%",
            log.len(),
            a / n,
            b / n,
            (1.0 - a / b) * 100.0,
        );
    }
}
