//! The adversarial corpus (tests/src/adversarial): every secret kind × every context in real
//! tool output, run through the built binary as a new user would (`exlogare redact FILE`, the
//! known values as the job's secret-named variables), scored by the strict rule. Targets of
//! issue 15: known values 100%, overall at least 99.5%, keep-rate 100%, collateral at most 2%
//! of the secret bytes.
//!
//! `ADVERSARIAL_SEED=n` scores another corpus; `ADVERSARIAL_OUT=dir` keeps the log, the
//! variables and the output there. Run with `-- --nocapture` to see the table.

use exlogare_tests::Dir;
use exlogare_tests::adversarial::{corpus, score};

#[test]
fn adversarial_corpus_meets_the_redaction_targets() {
    let seed = std::env::var("ADVERSARIAL_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(15);
    let c = corpus::generate(seed);
    let log = c.log.bytes();
    let dir = Dir::new();
    let path = dir.create("job.log", &log);
    let mut cmd = dir.command();
    cmd.args(["redact".as_ref(), path.as_os_str()]);
    for (k, v) in &c.env {
        cmd.env(k, v);
    }
    let run = cmd.ok();
    let out = &run.output.stdout;
    if let Some(keep) = std::env::var_os("ADVERSARIAL_OUT") {
        let keep = std::path::PathBuf::from(keep);
        std::fs::create_dir_all(&keep).expect("ADVERSARIAL_OUT is creatable");
        std::fs::write(keep.join("job.log"), &log).expect("write the log");
        std::fs::write(keep.join("redacted.log"), out).expect("write the output");
        let env: String = c.env.iter().map(|(k, v)| format!("{k}={v}\n")).collect();
        std::fs::write(keep.join("variables.env"), env).expect("write the variables");
    }
    let s = score::score(&c, out);
    println!(
        "adversarial corpus, seed {seed}: {} bytes, {} secrets, {} known values, {} must-keep tokens\n{}",
        log.len(),
        s.overall.planted,
        c.env.len(),
        s.keep.0,
        s.table()
    );
    assert!(s.overall.planted > 500, "the corpus is too small to score");
    assert_eq!(
        s.known.recall(),
        1.0,
        "a known value leaked:\n{}",
        s.table()
    );
    assert!(
        s.overall.recall() >= 0.995,
        "overall recall below 99.5%:\n{}",
        s.table()
    );
    assert_eq!(
        s.keep_rate(),
        1.0,
        "a must-keep token was changed:\n{}",
        s.table()
    );
    assert!(
        s.collateral_share() <= 0.02,
        "collateral above 2%:\n{}",
        s.table()
    );
}
