//! Redaction throughput of the same engine natively and through the default guest (wasm, in
//! the sandbox), on log files given on the command line.
//!
//! ```text
//! cargo bench -p exlogare-runtime --bench guest_throughput -- [--known FILE] [--runs N] LOG...
//! ```
//!
//! `--known` holds `NAME=VALUE` lines, the known secrets both engines search for (the bench
//! script writes them with `bench/genlog.py --known`). Each log is cut at line boundaries into
//! 64 KiB chunks, as `exlogare` reads it; only the redaction is timed (the log is in memory).
//! Prints one line per log: `<path> <bytes> native_mbps=.. guest_mbps=.. ratio=..
//! native_cpu_mbps=.. guest_cpu_mbps=.. cpu_ratio=..`, medians of `--runs` runs (default 5):
//! MB per second of wall time, and per second of this thread's CPU time (steadier when other
//! work shares the machine). Figures are for comparing within one run, never asserted.

mod common;

use common::{Args, chunks, median, native, timed};
use exlogare_runtime::{DefaultGuest, Limits, RedactorOptions, Runtime};

fn guest(runtime: &Runtime, options: &RedactorOptions, chunks: &[&[u8]]) -> (f64, f64, usize) {
    let limits = Limits {
        call_timeout: std::time::Duration::from_secs(60),
        ..Limits::default()
    };
    let mut guest = DefaultGuest::new(runtime, &limits).expect("the default guest loads");
    guest
        .start_redactor(options)
        .expect("the bench options are valid");
    timed(|| {
        let mut total = 0;
        for chunk in chunks {
            total += guest.redact(chunk).expect("the guest redacts").len();
        }
        let (rest, _) = guest.redact_finish().expect("the guest finishes");
        total + rest.len()
    })
}

fn main() {
    let args = Args::parse("guest_throughput");
    let config = args.config();
    let options = RedactorOptions {
        known_secrets: args.known.clone(),
        min_secret_length: exlogare_redact::DEFAULT_MIN_SECRET_LEN as u32,
        ..RedactorOptions::default()
    };
    let runtime = Runtime::new(None).expect("the wasm engine starts");
    for path in args.logs {
        let log = std::fs::read(&path).expect("read the log");
        let chunks = chunks(&log);
        let (mut nw, mut nc, mut gw, mut gc) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
        let (mut native_len, mut guest_len) = (0, 0);
        // Alternate, so that load on the machine hits both alike.
        for _ in 0..args.runs {
            let (wall, cpu, n) = native(&config, &chunks);
            native_len = n;
            nw.push(wall);
            nc.push(cpu);
            let (wall, cpu, n) = guest(&runtime, &options, &chunks);
            guest_len = n;
            gw.push(wall);
            gc.push(cpu);
        }
        assert_eq!(
            native_len, guest_len,
            "native and guest output differ in size"
        );
        let mb = log.len() as f64 / 1e6;
        let (native_mbps, guest_mbps) = (mb / median(nw), mb / median(gw));
        let (native_cpu, guest_cpu) = (mb / median(nc), mb / median(gc));
        println!(
            "{path} {} native_mbps={native_mbps:.1} guest_mbps={guest_mbps:.1} ratio={:.2} \
             native_cpu_mbps={native_cpu:.1} guest_cpu_mbps={guest_cpu:.1} cpu_ratio={:.2}",
            log.len(),
            guest_mbps / native_mbps,
            guest_cpu / native_cpu,
        );
    }
}
