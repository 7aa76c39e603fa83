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

use std::time::Instant;

use exlogare_redact::{Config, KnownSecret, Redactor};
use exlogare_runtime::{DefaultGuest, Limits, RedactorOptions, Runtime};

/// Chunks like the CLI's log reader: at most 64 KiB, ending at a newline where one is near.
fn chunks(log: &[u8]) -> Vec<&[u8]> {
    const BLOCK: usize = 64 << 10;
    let mut out = Vec::new();
    let mut rest = log;
    while !rest.is_empty() {
        let end = if rest.len() <= BLOCK {
            rest.len()
        } else {
            match memrchr(b'\n', &rest[..BLOCK]) {
                Some(pos) => pos + 1,
                None => BLOCK,
            }
        };
        out.push(&rest[..end]);
        rest = &rest[end..];
    }
    out
}

fn memrchr(needle: u8, hay: &[u8]) -> Option<usize> {
    hay.iter().rposition(|&b| b == needle)
}

/// This thread's CPU time (user + system), in seconds.
fn thread_cpu() -> f64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid, writable timespec; the clock id is a constant Linux knows.
    unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    ts.tv_sec as f64 + ts.tv_nsec as f64 * 1e-9
}

/// Wall and CPU seconds of `f`, and its result.
fn timed<R>(f: impl FnOnce() -> R) -> (f64, f64, R) {
    let (wall, cpu) = (Instant::now(), thread_cpu());
    let r = f();
    (wall.elapsed().as_secs_f64(), thread_cpu() - cpu, r)
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn native(config: &Config, chunks: &[&[u8]]) -> (f64, f64, usize) {
    let mut redactor = Redactor::new(config).expect("the bench config is valid");
    let mut out = Vec::with_capacity(128 << 10);
    timed(|| {
        let mut total = 0;
        for chunk in chunks {
            out.clear();
            redactor.push(chunk, &mut out);
            total += out.len();
        }
        out.clear();
        redactor.finish(&mut out);
        total + out.len()
    })
}

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
    let mut args = std::env::args().skip(1);
    let mut known = Vec::new();
    let mut runs = 5usize;
    let mut logs = Vec::new();
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--bench" => {}
            "--known" => {
                let path = args.next().expect("--known FILE");
                let text = std::fs::read_to_string(&path).expect("read the --known file");
                for line in text.lines() {
                    if let Some((name, value)) = line.split_once('=') {
                        known.push((name.to_string(), value.to_string()));
                    }
                }
            }
            "--runs" => runs = args.next().and_then(|n| n.parse().ok()).expect("--runs N"),
            _ => logs.push(arg),
        }
    }
    if logs.is_empty() {
        eprintln!("usage: guest_throughput [--known FILE] [--runs N] LOG...");
        std::process::exit(2);
    }
    let config = Config {
        known: known
            .iter()
            .map(|(name, value)| KnownSecret {
                name: name.clone(),
                value: value.clone(),
            })
            .collect(),
        min_secret_len: exlogare_redact::DEFAULT_MIN_SECRET_LEN,
        rules_toml: None,
    };
    let options = RedactorOptions {
        known_secrets: known,
        min_secret_length: exlogare_redact::DEFAULT_MIN_SECRET_LEN as u32,
        ..RedactorOptions::default()
    };
    let runtime = Runtime::new(None).expect("the wasm engine starts");
    for path in logs {
        let log = std::fs::read(&path).expect("read the log");
        let chunks = chunks(&log);
        let (mut nw, mut nc, mut gw, mut gc) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
        let (mut native_len, mut guest_len) = (0, 0);
        // Alternate, so that load on the machine hits both alike.
        for _ in 0..runs {
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
