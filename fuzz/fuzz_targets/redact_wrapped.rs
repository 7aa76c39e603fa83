//! The wrapped-value matcher under arbitrary input: known values planted in fuzzer-chosen text
//! and broken across lines at fuzzer-chosen points, with fuzzer-chosen wrap junk (indentation,
//! table borders, `\r`, box drawing) around each break. The redactor must not panic, chunked
//! output must equal whole-buffer output, and once the output's lines are joined again (each
//! line with its wrap junk taken off, as the matcher documents) no known value or encoding of
//! one may survive.
//!
//! Input layout: byte 0 picks how many chunk cuts follow (u16 pairs), byte 1 how many wrap
//! points (u16 pairs into the planted text, each followed by a junk selector byte), then the log
//! bytes; each 0x01 byte in the log is replaced by a known value (at most 8).
//!
//! Run: `cargo +nightly fuzz run redact_wrapped -- -max_total_time=120`.
#![no_main]

use exlogare_redact::{Config, KnownSecret, LeakScanner, Redactor, redact_all};
use libfuzzer_sys::fuzz_target;

const SECRETS: &[&str] = &["Wr4p-S3cret/Value+1", "p@ss word\"json~9", "gh0st-token-4242-abcdef"];

/// Wrap junk a terminal, `kubectl describe` or a table printer puts around a line break.
const JUNK: &[(&str, &str)] = &[
    ("", ""),
    ("", "  "),
    ("  ", ""),
    (" |", "| "),
    ("\r", "\t"),
    (" │", "│ "),
    ("   ", "    "),
];

/// The output's lines joined again, each without the wrap junk around its break.
fn joined(out: &[u8]) -> Vec<u8> {
    let text = String::from_utf8_lossy(out);
    let junk: &[char] = &[' ', '\t', '|', '│', '┃', '║', '\r'];
    let mut v = Vec::new();
    for line in text.split('\n') {
        v.extend_from_slice(line.trim_matches(junk).as_bytes());
    }
    v
}

fuzz_target!(|data: &[u8]| {
    let [n_cuts, n_wraps, rest @ ..] = data else { return };
    let (n_cuts, n_wraps) = (usize::from(n_cuts % 8), usize::from(n_wraps % 8));
    if rest.len() < n_cuts * 2 + n_wraps * 3 {
        return;
    }
    let (cut_bytes, rest) = rest.split_at(n_cuts * 2);
    let (wrap_bytes, log) = rest.split_at(n_wraps * 3);
    // Log text with no line breaks of its own inside the planted values: keep it to one line
    // per fuzzer newline, and plant the values.
    let mut text = Vec::new();
    let mut spans = Vec::new();
    for (i, &b) in log.iter().enumerate() {
        if b == 0x01 && spans.len() < 8 {
            let s = SECRETS[i % SECRETS.len()];
            spans.push((text.len(), text.len() + s.len()));
            text.extend_from_slice(s.as_bytes());
        } else {
            text.push(b);
        }
    }
    // Break the planted values: each wrap point is a position inside one of them.
    let mut breaks: Vec<(usize, usize)> = Vec::new();
    if !spans.is_empty() {
        for w in wrap_bytes.chunks(3) {
            let (s, e) = spans[usize::from(w[0]) % spans.len()];
            let at = s + 1 + usize::from(w[1]) % (e - s - 1);
            breaks.push((at, usize::from(w[2]) % JUNK.len()));
        }
    }
    breaks.sort_unstable();
    breaks.dedup_by_key(|b| b.0);
    let mut input = Vec::with_capacity(text.len() + breaks.len() * 8);
    let mut prev = 0;
    for &(at, j) in &breaks {
        input.extend_from_slice(&text[prev..at]);
        let (before, after) = JUNK[j];
        input.extend_from_slice(before.as_bytes());
        input.push(b'\n');
        input.extend_from_slice(after.as_bytes());
        prev = at;
    }
    input.extend_from_slice(&text[prev..]);

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
    let scanner = LeakScanner::new(&known, 8);
    if let Some(leak) = scanner.find(&whole) {
        panic!("known value {} leaked as {}", leak.name, leak.encoding);
    }
    if let Some(leak) = scanner.find(&joined(&whole)) {
        panic!("known value {} leaked across lines as {}", leak.name, leak.encoding);
    }
});
