//! Known values wrapped across lines: terminal and `column` wraps, `kubectl describe`
//! continuations, table cells continued behind a border, base64 wrapped at 76 columns, in
//! every encoding, whatever the chunking.

use base64::Engine as _;
use exlogare_redact::{Config, KnownSecret, LeakScanner, Redactor, redact_all};
use proptest::prelude::*;

fn config(values: &[&str]) -> Config {
    Config {
        known: values
            .iter()
            .enumerate()
            .map(|(i, v)| KnownSecret {
                name: format!("SECRET_{i}"),
                value: (*v).to_string(),
            })
            .collect(),
        min_secret_len: 8,
        rules_toml: None,
    }
}

fn red(values: &[&str], input: &str) -> String {
    let (out, _) = redact_all(&config(values), input.as_bytes()).expect("config");
    String::from_utf8(out).expect("utf-8")
}

/// The output with every line break and the wrap junk around it taken out: what a reader
/// (or a model) joining the lines would see.
fn joined(out: &[u8]) -> Vec<u8> {
    let mut v = Vec::new();
    let text = String::from_utf8_lossy(out);
    for line in text.split('\n') {
        let line = line.trim_start_matches([' ', '\t', '|', '│', '┃', '║', '\r']);
        let line = line.trim_end_matches([' ', '\t', '|', '│', '┃', '║', '\r']);
        v.extend_from_slice(line.as_bytes());
    }
    v
}

const VALUE: &str = "Wr4pped-Secret-Value/with+Symbols=0123456789abcdefXYZ";

#[test]
fn terminal_wrap_at_a_column() {
    let line = format!("DEPLOY_KEY is {VALUE} (from vault)");
    let wrapped: String = line
        .as_bytes()
        .chunks(20)
        .map(|c| format!("{}\n", String::from_utf8_lossy(c)))
        .collect();
    let out = red(&[VALUE], &wrapped);
    assert!(out.contains("[REDACTED:SECRET_0]"), "{out}");
    assert!(
        !joined(out.as_bytes())
            .windows(8)
            .any(|w| VALUE.as_bytes().windows(8).any(|s| s == w)),
        "{out}"
    );
    assert!(
        out.starts_with("DEPLOY_KEY is "),
        "text before the value stays: {out}"
    );
    assert!(
        out.contains("(from vault)"),
        "text after the value stays: {out}"
    );
}

#[test]
fn kubectl_describe_continuation() {
    let (a, b) = VALUE.split_at(30);
    let input =
        format!("Environment:\n  SECRET_TOKEN:  {a}\n                 {b}\nMounts: <none>\n");
    let out = red(&[VALUE], &input);
    assert_eq!(
        out,
        "Environment:\n  SECRET_TOKEN:  [REDACTED:SECRET_0]\n                 \nMounts: <none>\n"
    );
}

#[test]
fn table_cell_continued_behind_its_border() {
    let (a, rest) = VALUE.split_at(20);
    let (b, c) = rest.split_at(20);
    let input = format!(
        "| name       | value                |\n| api_key    | {a} |\n|            | {b} |\n|            | {c}            |\n| region     | eu-west-1            |\n"
    );
    let out = red(&[VALUE], &input);
    assert!(
        !out.contains(a) && !out.contains(b) && !out.contains(c),
        "{out}"
    );
    assert_eq!(out.matches("[REDACTED:SECRET_0]").count(), 1, "{out}");
    assert!(out.contains("| region     | eu-west-1"), "{out}");
    assert!(out.contains("| name       | value"), "{out}");
}

#[test]
fn box_drawing_borders_and_crlf() {
    let (a, b) = VALUE.split_at(11);
    let input = format!("│ key │ {a} │\r\n│     │ {b} │\r\nok\r\n");
    let out = red(&[VALUE], &input);
    assert!(!out.contains(a) && !out.contains(b), "{out}");
    assert!(out.contains("[REDACTED:SECRET_0]"), "{out}");
}

#[test]
fn base64_wrapped_at_76_columns() {
    let secret = "a-database-password-that-is-long-enough!";
    let blob = base64::engine::general_purpose::STANDARD.encode(format!(
        "{{\"user\":\"svc\",\"password\":\"{secret}\",\"host\":\"db.internal\",\"port\":5432}}"
    ));
    let wrapped: String = blob
        .as_bytes()
        .chunks(76)
        .map(|c| format!("{}\n", String::from_utf8_lossy(c)))
        .collect();
    let (out, report) = redact_all(&config(&[secret]), wrapped.as_bytes()).expect("config");
    let scanner = LeakScanner::new(&config(&[secret]).known, 8);
    assert!(
        scanner.find(&joined(&out)).is_none(),
        "{}",
        String::from_utf8_lossy(&out)
    );
    assert_eq!(report, vec![("known:SECRET_0".to_string(), 1)]);
}

#[test]
fn json_escaped_value_wrapped() {
    let secret = "quote\"and\\back/slash-secret";
    let json = serde_like_escape(secret);
    let (a, b) = json.split_at(9);
    let input = format!("  \"password\": \"{a}\n      {b}\",\n");
    let out = red(&[secret], &input);
    assert!(!out.contains(a) && !out.contains(b), "{out}");
}

fn serde_like_escape(s: &str) -> String {
    s.replace('\\', "\\\\").replace('"', "\\\"")
}

#[test]
fn ordinary_neighbouring_lines_are_untouched() {
    let input = "commit 3f786850e387550fdab836ed7e6dc881de23001b\nWr4pped-Secret is a name\n  Value/with+Symbols\n";
    assert_eq!(red(&[VALUE], input), input);
}

#[test]
fn a_value_split_into_one_byte_pieces_is_found() {
    let wrapped: String = VALUE.chars().map(|c| format!("{c}\n")).collect();
    let out = red(&[VALUE], &wrapped);
    assert!(out.contains("[REDACTED:SECRET_0]"), "{out}");
    assert!(joined(out.as_bytes()).len() < 30, "{out}");
}

#[test]
fn blank_and_long_lines_break_a_wrap() {
    let (a, b) = VALUE.split_at(25);
    let blank = format!("x {a}\n\n{b} y\n");
    assert_eq!(red(&[VALUE], &blank), blank);
    let long = format!("x {a}\n{}{b}\n", "z".repeat(5000));
    assert_eq!(red(&[VALUE], &long), long);
}

#[test]
fn many_linked_lines_stay_bounded_and_find_late_values() {
    // Thousands of short lines that all link (pieces of the value), then the value wrapped.
    let (a, b) = VALUE.split_at(17);
    let mut input = String::new();
    for i in 0..20_000 {
        input.push_str(&VALUE[i % 40..i % 40 + 4]);
        input.push('\n');
    }
    input.push_str(&format!("{a}\n{b}\n"));
    let out = red(&[VALUE], &input);
    assert!(
        out.ends_with("[REDACTED:SECRET_0]\n\n"),
        "{}",
        &out[out.len() - 80..]
    );
    every_chunking_agrees(
        &config(&[VALUE]),
        input.as_bytes(),
        &[1, 7, 64, 4096, 65_536],
    );
}

fn every_chunking_agrees(config: &Config, input: &[u8], sizes: &[usize]) {
    let (whole, whole_report) = redact_all(config, input).expect("config");
    for &size in sizes {
        let mut r = Redactor::new(config).expect("config");
        let mut out = Vec::new();
        for piece in input.chunks(size) {
            r.push(piece, &mut out);
        }
        r.finish(&mut out);
        assert!(
            out == whole,
            "chunk size {size} differs from whole-buffer output"
        );
        assert_eq!(r.report(), whole_report, "chunk size {size}");
    }
}

/// How the pieces of a wrapped value are separated.
#[derive(Clone, Debug)]
enum Junk {
    Nothing,
    Indent(usize),
    Border,
    BoxBorder,
    CrLf,
}

fn junk_strategy() -> impl Strategy<Value = Junk> {
    prop_oneof![
        Just(Junk::Nothing),
        (1usize..20).prop_map(Junk::Indent),
        Just(Junk::Border),
        Just(Junk::BoxBorder),
        Just(Junk::CrLf),
    ]
}

fn wrap_with(text: &str, cuts: &[usize], junk: &Junk) -> String {
    let mut cuts: Vec<usize> = cuts
        .iter()
        .map(|c| c % (text.len() + 1))
        .filter(|&c| c > 0 && c < text.len() && text.is_char_boundary(c))
        .collect();
    cuts.sort_unstable();
    cuts.dedup();
    let (end, start) = match junk {
        Junk::Nothing => (String::new(), String::new()),
        Junk::Indent(n) => (String::new(), " ".repeat(*n)),
        Junk::Border => (" |".to_string(), "|    | ".to_string()),
        Junk::BoxBorder => (" │".to_string(), "│ ".to_string()),
        Junk::CrLf => ("\r".to_string(), "\t".to_string()),
    };
    let mut out = String::new();
    let mut prev = 0;
    for c in cuts {
        out.push_str(&text[prev..c]);
        out.push_str(&end);
        out.push('\n');
        out.push_str(&start);
        prev = c;
    }
    out.push_str(&text[prev..]);
    out
}

fn encoded(value: &str, form: usize) -> String {
    let b64 = base64::engine::general_purpose::STANDARD;
    match form {
        0 => value.to_string(),
        1..=3 => b64.encode(format!("{}{value}", "p".repeat(form - 1))),
        4 => value
            .bytes()
            .map(|c| {
                if c.is_ascii_alphanumeric() {
                    (c as char).to_string()
                } else {
                    format!("%{c:02X}")
                }
            })
            .collect(),
        _ => serde_like_escape(value),
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 384, ..ProptestConfig::default() })]

    /// A value wrapped at random points with random junk, in a random encoding, among other
    /// lines: nothing of it is left once the output's lines are joined again, and any chunking
    /// gives the same output.
    #[test]
    fn random_wraps_and_chunkings(
        value in "[A-Za-z0-9][A-Za-z0-9@#%/+=!~\"_.-]{7,60}[A-Za-z0-9]",
        form in 0usize..6,
        wraps in proptest::collection::vec(any::<usize>(), 1..6),
        junk in junk_strategy(),
        before in "[ -~]{0,30}",
        after in "[ -~]{0,30}",
        other in proptest::collection::vec("[ -~]{0,50}", 0..4),
        cuts in proptest::collection::vec(any::<usize>(), 0..10),
    ) {
        let text = format!("{before}{}{after}", encoded(&value, form));
        let mut log = String::new();
        for o in &other {
            log.push_str(o);
            log.push('\n');
        }
        log.push_str(&wrap_with(&text, &wraps, &junk));
        log.push('\n');
        for o in other.iter().rev() {
            log.push_str(o);
            log.push('\n');
        }
        let config = config(&[value.as_str()]);
        let (whole, _) = redact_all(&config, log.as_bytes()).expect("config");
        let scanner = LeakScanner::new(&config.known, 8);
        let leak = scanner.find(&joined(&whole));
        prop_assert!(leak.is_none(), "{:?} left in {:?}", leak, String::from_utf8_lossy(&whole));

        let input = log.as_bytes();
        let mut r = Redactor::new(&config).expect("config");
        let mut out = Vec::new();
        let mut cuts: Vec<usize> = cuts.iter().map(|c| c % (input.len() + 1)).collect();
        cuts.sort_unstable();
        let mut prev = 0;
        for c in cuts {
            r.push(&input[prev..c], &mut out);
            prev = c;
        }
        r.push(&input[prev..], &mut out);
        r.finish(&mut out);
        prop_assert!(out == whole, "chunked output differs");
    }
}
