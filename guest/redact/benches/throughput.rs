//! Throughput of the redaction engine on generated, realistic CI logs (native).
//!
//! `cargo bench -p exlogare-redact --bench throughput` prints MB/s for 1, 10 and 100 MiB logs.
//! `EXLOGARE_BENCH_SIZES_MIB=1,4` chooses the sizes (CI runs it small). Plain `std::time`: the
//! figures are medians of a few runs, to compare in one run on one machine, never asserted.

use exlogare_redact::{Config, KnownSecret, Redactor, with_crc32_base62};
use std::time::Instant;

const LINES: &[&str] = &[
    "   Compiling serde_json v1.0.117",
    "   Compiling tokio v1.37.0 (/builds/group/project/vendor/tokio)",
    "2024-05-01T10:00:00.123456Z 01O test tests::parses_config ... ok",
    "npm WARN deprecated inflight@1.0.6: This module is not supported, and leaks memory.",
    "added 1423 packages, and audited 1424 packages in 37s",
    "#12 [builder 4/9] RUN cargo build --release --locked",
    "#12 sha256:9b2a3f1c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f708192a3b4c5d6e7f8 12.3MB / 45.6MB 2.1s",
    "Step 7/12 : COPY --from=builder /app/target/release/app /usr/local/bin/app",
    " ---> Running in 4c3d2e1f0a9b",
    "[INFO] Downloading from central: https://repo.maven.apache.org/maven2/org/slf4j/slf4j-api/2.0.13/slf4j-api-2.0.13.pom",
    "tests/test_api.py::test_create_user[postgres] PASSED                      [ 42%]",
    "E       AssertionError: assert 500 == 200",
    "aws_instance.web: Creating...",
    "go: downloading golang.org/x/sys v0.20.0",
    "deployment.apps/web configured",
    "Running with gitlab-runner 17.0.0 (44feccdf) on docker-runner-3 xyz, system ID: s_0123456789ab",
    "  \"integrity\": \"sha512-z4PhNX7vuL3xVChQ1m2AB9Yg5AULVxXcg/SpIdNs6c5H0NE8XYXysP+DGNKHfuwvY7kxvUdBeoGlODJ6+SfaPg==\",",
    "warning: unused variable: `token_count`",
    "    at Object.<anonymous> (/builds/group/project/node_modules/jest-circus/build/utils.js:231:10)",
    "Fetching changes with git depth set to 20... HEAD is now at 3f786850 Merge branch 'feature/login' into 'main'",
];

fn make_log(size: usize) -> Vec<u8> {
    let ghp = format!(
        "ghp_{}",
        with_crc32_base62("Zq3X9kLm2Pw8Rt5Yv1Bn7Cd4Fg6Hj0")
    );
    let secrets = [
        "export DB_PASSWORD=Sup3r-S3cret-Value!".to_string(),
        format!("git remote set-url origin https://x:{ghp}@github.com/o/r.git"),
        "Authorization: Bearer 9f8e7d6c5b4a39281706f5e4d3c2b1a0".to_string(),
        "token glpat-AbCdEfGhIjKlMnOpQrSt used".to_string(),
    ];
    let mut out = Vec::with_capacity(size + 200);
    let mut i: usize = 0;
    while out.len() < size {
        if i % 5000 == 4999 {
            out.extend_from_slice(secrets[(i / 5000) % secrets.len()].as_bytes());
        } else {
            out.extend_from_slice(LINES[(i * 7 + i / 3) % LINES.len()].as_bytes());
        }
        out.push(b'\n');
        i += 1;
    }
    out.truncate(size);
    out
}

fn main() {
    let sizes: Vec<usize> = std::env::var("EXLOGARE_BENCH_SIZES_MIB")
        .ok()
        .map(|s| s.split(',').filter_map(|x| x.trim().parse().ok()).collect())
        .unwrap_or_else(|| vec![1, 10, 100]);
    let mut config = Config {
        known: (0..10)
            .map(|i| KnownSecret {
                name: format!("SECRET_{i}"),
                value: format!("known-secret-value-{i}-Xy7#pQ"),
            })
            .chain(std::iter::once(KnownSecret {
                name: "DB_PASSWORD".into(),
                value: "Sup3r-S3cret-Value!".into(),
            }))
            .collect(),
        min_secret_len: 8,
        rules_toml: None,
    };
    if std::env::var_os("EXLOGARE_BENCH_NO_KNOWN").is_some() {
        config.known.clear();
    }
    let t = Instant::now();
    let _ = Redactor::new(&config).expect("config");
    println!("engine build: {:.1} ms", t.elapsed().as_secs_f64() * 1e3);
    // `EXLOGARE_BENCH_LOG=FILE` measures that log instead (e.g. one from bench/genlog.py).
    let file = std::env::var_os("EXLOGARE_BENCH_LOG")
        .map(|p| std::fs::read(&p).expect("read EXLOGARE_BENCH_LOG"));
    let sizes = if file.is_some() { vec![0] } else { sizes };
    for mib in sizes {
        let log = match &file {
            Some(bytes) => bytes.clone(),
            None => make_log(mib << 20),
        };
        let mut times = Vec::new();
        let mut redactions = 0;
        for _ in 0..3 {
            let mut r = Redactor::new(&config).expect("config");
            let mut out = Vec::with_capacity(log.len() + 4096);
            let t = Instant::now();
            for chunk in log.chunks(64 * 1024) {
                r.push(chunk, &mut out);
            }
            r.finish(&mut out);
            times.push(t.elapsed().as_secs_f64());
            redactions = r.report().iter().map(|(_, c)| c).sum::<u64>();
        }
        times.sort_by(f64::total_cmp);
        let median = times[times.len() / 2];
        println!(
            "{:>4} MiB in 64 KiB chunks: {:>8.1} MB/s (median of {}, {redactions} redactions)",
            log.len() >> 20,
            log.len() as f64 / median / 1e6,
            times.len()
        );
    }
}
