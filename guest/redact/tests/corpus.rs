//! The evidence corpus (`tests/corpus/` at the repository root): realistic tool output with
//! fake secrets planted. Prints recall per rule and per encoding, and the keep-rate of hashes
//! and ids; both must be 100%.

use exlogare_redact::{Config, DEFAULT_MIN_SECRET_LEN, KnownSecret, Redactor, redact_all};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::PathBuf;

#[derive(Deserialize)]
struct Manifest {
    file: Vec<FileEntry>,
}

#[derive(Deserialize)]
struct FileEntry {
    path: String,
    #[serde(default)]
    known: Vec<Known>,
    #[serde(default)]
    keep: Vec<String>,
    #[serde(default)]
    secret: Vec<Planted>,
}

#[derive(Deserialize)]
struct Known {
    name: String,
    value: String,
}

#[derive(Deserialize)]
struct Planted {
    text: String,
    rule: String,
    encoding: String,
}

fn corpus_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/corpus")
}

fn count(hay: &str, needle: &str) -> usize {
    hay.matches(needle).count()
}

#[test]
fn corpus_recall_and_keep_rate_are_100_percent() {
    let dir = corpus_dir();
    let text = std::fs::read_to_string(dir.join("manifest.toml")).expect("read manifest");
    let manifest: Manifest = toml::from_str(&text).expect("parse manifest");
    let mut by_rule: BTreeMap<String, (u32, u32)> = BTreeMap::new();
    let mut by_encoding: BTreeMap<String, (u32, u32)> = BTreeMap::new();
    let (mut kept, mut keep_total) = (0u32, 0u32);
    let mut failures = Vec::new();
    for f in &manifest.file {
        let input = std::fs::read(dir.join(&f.path)).expect("read corpus file");
        let config = Config {
            known: f
                .known
                .iter()
                .map(|k| KnownSecret {
                    name: k.name.clone(),
                    value: k.value.clone(),
                })
                .collect(),
            min_secret_len: DEFAULT_MIN_SECRET_LEN,
            rules_toml: None,
        };
        let (out, report) = redact_all(&config, &input).expect("config");
        // The same result line by line and byte by byte.
        for size in [1usize, 7, 64, 4096] {
            let mut r = Redactor::new(&config).expect("config");
            let mut o = Vec::new();
            for piece in input.chunks(size) {
                r.push(piece, &mut o);
            }
            r.finish(&mut o);
            assert!(o == out, "{}: chunks of {size} differ", f.path);
        }
        let out = String::from_utf8(out).expect("utf8");
        let input = String::from_utf8(input).expect("utf8");
        let reported: BTreeMap<&str, u64> = report.iter().map(|(k, v)| (k.as_str(), *v)).collect();
        for s in &f.secret {
            let gone = !out.contains(&s.text);
            let counted = reported.get(s.rule.as_str()).copied().unwrap_or(0) > 0;
            let ok = gone && counted;
            let e = by_rule.entry(s.rule.clone()).or_default();
            e.1 += 1;
            if ok {
                e.0 += 1;
            }
            let enc = if s.encoding.is_empty() {
                "rule".to_string()
            } else {
                s.encoding.clone()
            };
            let e = by_encoding.entry(enc).or_default();
            e.1 += 1;
            if ok {
                e.0 += 1;
            }
            if !ok {
                failures.push(format!(
                    "{}: planted {} (expected {}) {}",
                    f.path,
                    s.rule,
                    s.encoding,
                    if gone {
                        "not counted in the report"
                    } else {
                        "survived"
                    }
                ));
            }
        }
        for k in &f.keep {
            keep_total += 1;
            let before = count(&input, k);
            let after = count(&out, k);
            if before > 0 && after == before {
                kept += 1;
            } else {
                failures.push(format!(
                    "{}: `{k}` must survive ({before} in input, {after} in output)",
                    f.path
                ));
            }
        }
        eprintln!("--- {} ---\n{out}", f.path);
    }
    println!("recall per rule:");
    for (rule, (hit, total)) in &by_rule {
        println!(
            "  {rule:<32} {hit}/{total} ({:.0}%)",
            100.0 * f64::from(*hit) / f64::from(*total)
        );
    }
    println!("recall per encoding:");
    for (enc, (hit, total)) in &by_encoding {
        println!(
            "  {enc:<32} {hit}/{total} ({:.0}%)",
            100.0 * f64::from(*hit) / f64::from(*total)
        );
    }
    println!(
        "keep-rate: {kept}/{keep_total} ({:.0}%)",
        100.0 * f64::from(kept) / f64::from(keep_total.max(1))
    );
    assert!(
        failures.is_empty(),
        "corpus failures:\n{}",
        failures.join("\n")
    );
}
