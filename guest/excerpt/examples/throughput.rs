//! Throughput and memory of the excerpt builder on a generated log of N MiB (default 1024):
//! `cargo run --release -p exlogare-excerpt --example throughput -- [MIB]`, under
//! `/usr/bin/time -v` for the peak RSS. The log is generated piece by piece (never held
//! whole): build output with a test failure and a stack trace every few thousand lines, and
//! the budgets `report` uses by default (8 MiB for the log, 8 KiB for the excerpt).

use std::time::Instant;

const WORDS: [&str; 13] = [
    "alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel", "india", "juliet",
    "kilo", "lima", "mike",
];

fn main() {
    let mib: u64 = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(1024);
    // The log budget in KiB (default 8 MiB, as `report`).
    let budget: usize = std::env::args()
        .nth(2)
        .and_then(|a| a.parse::<usize>().ok())
        .map_or(8 << 20, |k| k << 10);
    let mut builder = match exlogare_excerpt::Builder::new(&[budget, 8 << 10]) {
        Ok(b) => b,
        Err(e) => {
            eprintln!("{e}");
            return;
        }
    };
    let target = mib << 20;
    let mut written = 0u64;
    let mut chunk = String::with_capacity(70 << 10);
    let mut i = 0u64;
    let start = Instant::now();
    while written < target {
        chunk.clear();
        while chunk.len() < 64 << 10 {
            i += 1;
            match i % 5000 {
                0 => chunk.push_str("[ERROR] Tests run: 3, Failures: 1, Errors: 0 <<< FAILURE!\n"),
                1 => chunk.push_str("java.lang.AssertionError: expected:<1> but was:<2>\n"),
                2..=30 => chunk.push_str(&format!(
                    "\tat org.example.Case{}.run(Case.java:{i})\n",
                    i % 97
                )),
                // Lines that differ in words, so that they are not collapsed as repeats.
                _ => chunk.push_str(&format!(
                    "[INFO] compiling module {} with {} from the {} sources ({} bytes)\n",
                    WORDS[(i % 13) as usize],
                    WORDS[(i / 13 % 13) as usize],
                    WORDS[(i / 169 % 13) as usize],
                    i
                )),
            }
        }
        builder.push(chunk.as_bytes());
        written += chunk.len() as u64;
    }
    let fed = start.elapsed();
    let finished = builder.finish();
    let total = start.elapsed();
    let secs = total.as_secs_f64();
    println!(
        "{} MiB in {:.2} s ({:.0} MiB/s; finish {:.0} ms); log selection {} bytes in {} ranges, excerpt {} bytes",
        written >> 20,
        secs,
        (written >> 20) as f64 / secs,
        (total - fed).as_secs_f64() * 1000.0,
        finished.excerpts[0].text.len(),
        finished.excerpts[0].manifest.ranges.len(),
        finished.excerpts[1].text.len(),
    );
}
