//! What the redaction benches share: their command line, the known secrets as both engines
//! take them, the log cut into chunks as the CLI reads it, and CPU timing.

use std::time::Instant;

use exlogare_redact::{Config, KnownSecret, Redactor};

/// The parsed command line: `[--known FILE] [--runs N] LOG...`.
pub struct Args {
    /// `NAME=VALUE` pairs from the `--known` file.
    pub known: Vec<(String, String)>,
    /// Runs per engine and log (default 5); the medians are printed.
    pub runs: usize,
    /// The log files.
    pub logs: Vec<String>,
}

impl Args {
    /// Parses the process's arguments; prints the usage of `bench` and exits without logs.
    pub fn parse(bench: &str) -> Args {
        let mut args = std::env::args().skip(1);
        let mut parsed = Args {
            known: Vec::new(),
            runs: 5,
            logs: Vec::new(),
        };
        while let Some(arg) = args.next() {
            match arg.as_str() {
                "--bench" => {}
                "--known" => {
                    let path = args.next().expect("--known FILE");
                    let text = std::fs::read_to_string(&path).expect("read the --known file");
                    for line in text.lines() {
                        if let Some((name, value)) = line.split_once('=') {
                            parsed.known.push((name.to_string(), value.to_string()));
                        }
                    }
                }
                "--runs" => {
                    parsed.runs = args.next().and_then(|n| n.parse().ok()).expect("--runs N")
                }
                _ => parsed.logs.push(arg),
            }
        }
        if parsed.logs.is_empty() {
            eprintln!("usage: {bench} [--known FILE] [--runs N] LOG...");
            std::process::exit(2);
        }
        parsed
    }

    /// The native engine's configuration: the known secrets and the built-in rules.
    pub fn config(&self) -> Config {
        Config {
            known: self
                .known
                .iter()
                .map(|(name, value)| KnownSecret {
                    name: name.clone(),
                    value: value.clone(),
                })
                .collect(),
            min_secret_len: exlogare_redact::DEFAULT_MIN_SECRET_LEN,
            rules_toml: None,
        }
    }
}

/// Chunks like the CLI's log reader: at most 64 KiB, ending at a newline where one is near.
pub fn chunks(log: &[u8]) -> Vec<&[u8]> {
    const BLOCK: usize = 64 << 10;
    let mut out = Vec::new();
    let mut rest = log;
    while !rest.is_empty() {
        let end = if rest.len() <= BLOCK {
            rest.len()
        } else {
            match rest[..BLOCK].iter().rposition(|&b| b == b'\n') {
                Some(pos) => pos + 1,
                None => BLOCK,
            }
        };
        out.push(&rest[..end]);
        rest = &rest[end..];
    }
    out
}

/// This thread's CPU time (user + system), in seconds.
pub fn thread_cpu() -> f64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid, writable timespec; the clock id is a constant Linux knows.
    unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    ts.tv_sec as f64 + ts.tv_nsec as f64 * 1e-9
}

/// The median of `v` (not empty).
pub fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// Wall and CPU seconds of `f`, and its result.
pub fn timed<R>(f: impl FnOnce() -> R) -> (f64, f64, R) {
    let (wall, cpu) = (Instant::now(), thread_cpu());
    let r = f();
    (wall.elapsed().as_secs_f64(), thread_cpu() - cpu, r)
}

/// Redacts every chunk with a fresh native redactor (built before the clocks start): wall and
/// CPU seconds, and the output's length.
pub fn native(config: &Config, chunks: &[&[u8]]) -> (f64, f64, usize) {
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
