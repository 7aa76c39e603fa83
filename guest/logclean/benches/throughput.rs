//! Throughput of the normaliser on synthetic logs, in MB/s.
//!
//! Run with `cargo bench -p exlogare-logclean`. It prints one line per kind of log; compare
//! ratios measured in one run (the machine is noisy). No timing is asserted.

use std::hint::black_box;
use std::time::Instant;

use exlogare_logclean::{Normalizer, Options};

/// The size of each synthetic log.
const SIZE: usize = 64 * 1024 * 1024;
/// The chunk size the host feeds.
const CHUNK: usize = 64 * 1024;

/// Repeats `line` until the log is about `SIZE` bytes.
fn repeat(line: &[u8]) -> Vec<u8> {
    let mut log = Vec::with_capacity(SIZE + line.len());
    while log.len() < SIZE {
        log.extend_from_slice(line);
    }
    log
}

/// Normalises `log` in chunks a few times and prints the best rate.
fn measure(name: &str, log: &[u8]) {
    let mut best = f64::MAX;
    let mut out_len = 0;
    for _ in 0..3 {
        let start = Instant::now();
        let mut normalizer = Normalizer::new(Options::default());
        let mut out = Vec::with_capacity(CHUNK * 2);
        out_len = 0;
        for chunk in log.chunks(CHUNK) {
            out.clear();
            normalizer.push(chunk, &mut out);
            out_len += out.len();
            black_box(&out);
        }
        out.clear();
        normalizer.finish(&mut out);
        out_len += out.len();
        best = best.min(start.elapsed().as_secs_f64());
    }
    let mb = log.len() as f64 / 1e6;
    println!(
        "{name:<14} {:>8.0} MB/s  ({:.0} MB in, {:.0} MB out)",
        mb / best,
        mb,
        out_len as f64 / 1e6
    );
}

fn main() {
    let plain = repeat(b"test result: ok. 42 passed; 0 failed; 0 ignored; finished in 1.23s\n");
    measure("plain ascii", &plain);
    let unicode = repeat("Kompilierung läuft … ✓ fertig — 编译完成 in 1.2s\n".as_bytes());
    measure("unicode", &unicode);
    let ansi = repeat(b"\x1b[32;1m   Compiling\x1b[0m serde v1.0.200 \x1b[2m(registry)\x1b[0m\n");
    measure("ansi colours", &ansi);
    let mut bar = Vec::new();
    for pct in 0..100 {
        bar.extend_from_slice(
            format!("\rDownloading [{:<50}] {pct}%", "#".repeat(pct / 2)).as_bytes(),
        );
    }
    bar.extend_from_slice(b"\r\n");
    measure("progress bars", &repeat(&bar));
    let gitlab = repeat(
        b"\x1b[0Ksection_start:1700000000:step_script\r\x1b[0K\x1b[36;1mExecuting step\x1b[0;m\n$ make\nok\n\x1b[0Ksection_end:1700000000:step_script\r\x1b[0K\n",
    );
    measure("gitlab sections", &gitlab);
}
