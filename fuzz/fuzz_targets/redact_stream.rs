//! Arbitrary input, split at arbitrary points: the redactor must not panic, chunked output must
//! equal whole-buffer output, and no known value (or encoding) may survive.
//!
//! Input layout: byte 0 picks how many cut points follow (as u16 pairs), then the log bytes.
//! The known values are fixed, and also planted into the log at fuzzer-chosen offsets.
//!
//! Run: `cargo +nightly fuzz run redact_stream -- -max_total_time=120`.
#![no_main]

use exlogare_redact::{Config, KnownSecret, LeakScanner, Redactor, redact_all};
use libfuzzer_sys::fuzz_target;

const SECRETS: &[&str] = &["Fuzz-S3cret/Value+1", "p@ss word\"json", "ghost-token-4242"];

fuzz_target!(|data: &[u8]| {
    let Some((&n, rest)) = data.split_first() else { return };
    let n = usize::from(n % 8);
    if rest.len() < n * 2 {
        return;
    }
    let (cut_bytes, log) = rest.split_at(n * 2);
    let mut input = log.to_vec();
    // Plant a secret where the byte 0x01 appears, so the fuzzer can place secrets.
    let mut planted = Vec::new();
    for (i, &b) in log.iter().enumerate() {
        if b == 0x01 {
            planted.push((i, SECRETS[i % SECRETS.len()]));
        }
    }
    for &(i, s) in planted.iter().rev().take(16) {
        input.splice(i..i + 1, s.bytes());
    }
    let known: Vec<KnownSecret> = SECRETS
        .iter()
        .enumerate()
        .map(|(i, v)| KnownSecret { name: format!("FUZZ_{i}"), value: (*v).to_string() })
        .collect();
    let config = Config { known: known.clone(), min_secret_len: 8, rules_toml: None };
    let Ok((whole, _)) = redact_all(&config, &input) else { return };

    let mut cuts: Vec<usize> = cut_bytes
        .chunks(2)
        .map(|c| usize::from(u16::from_le_bytes([c[0], c[1]])) % (input.len() + 1))
        .collect();
    cuts.sort_unstable();
    let Ok(mut r) = Redactor::new(&config) else { return };
    let mut out = Vec::new();
    let mut prev = 0;
    for c in cuts {
        r.push(&input[prev..c], &mut out);
        prev = c;
    }
    r.push(&input[prev..], &mut out);
    r.finish(&mut out);
    assert!(out == whole, "chunked output differs from whole-buffer output");
    if let Some(leak) = LeakScanner::new(&known, 8).find(&whole) {
        panic!("known value {} leaked as {}", leak.name, leak.encoding);
    }
});
