//! Chunk independence and no-leak properties of the streaming redactor.
//!
//! (a) Whatever the chunk boundaries, the output equals whole-buffer redaction.
//! (b) No known value, nor any of its encodings, survives in the output.

use base64::Engine as _;
use exlogare_redact::{Config, KnownSecret, LeakScanner, Redactor, redact_all, with_crc32_base62};
use proptest::prelude::*;

fn chunked(config: &Config, input: &[u8], cuts: &[usize]) -> Vec<u8> {
    let mut r = Redactor::new(config).expect("config");
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
    out
}

fn every_size(config: &Config, input: &[u8], sizes: &[usize]) {
    let (whole, _) = redact_all(config, input).expect("config");
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
    }
}

#[derive(Clone, Debug)]
enum Enc {
    Raw,
    B64(usize),
    B64Url(usize),
    Url,
    Json,
}

fn encode(value: &str, enc: &Enc) -> String {
    let b = base64::engine::general_purpose::STANDARD;
    let u = base64::engine::general_purpose::URL_SAFE;
    match enc {
        Enc::Raw => value.to_string(),
        Enc::B64(pre) => b.encode(format!("{}{value}:tail", "u".repeat(*pre))),
        Enc::B64Url(pre) => u.encode(format!("{}{value}", "x".repeat(*pre))),
        Enc::Url => value
            .bytes()
            .map(|c| {
                if c.is_ascii_alphanumeric() {
                    (c as char).to_string()
                } else {
                    format!("%{c:02X}")
                }
            })
            .collect(),
        Enc::Json => value
            .replace('\\', "\\\\")
            .replace('"', "\\\"")
            .replace('/', "\\/"),
    }
}

fn secret_strategy() -> impl Strategy<Value = String> {
    proptest::string::string_regex("[A-Za-z0-9][A-Za-z0-9@#%/+=!\"\\\\ _.-]{7,30}[A-Za-z0-9]")
        .expect("regex")
}

fn enc_strategy() -> impl Strategy<Value = Enc> {
    prop_oneof![
        Just(Enc::Raw),
        (0usize..3).prop_map(Enc::B64),
        (0usize..3).prop_map(Enc::B64Url),
        Just(Enc::Url),
        Just(Enc::Json),
    ]
}

const TEMPLATES: &[&str] = &[
    "   Compiling serde v1.0.200",
    "2024-05-01T10:00:00.123Z INFO request done in 12ms",
    "npm WARN deprecated glob@7.2.3: Glob versions prior to v9 are no longer supported",
    "commit 3f786850e387550fdab836ed7e6dc881de23001b",
    "Digest: sha256:9b2a3f1c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f708192a3b4c5d6e7f8",
    "password=hunter2-long",
    "Authorization: Bearer abcdefghijklmnop",
    "https://user:pass1234@example.com/x",
    "-----BEGIN RSA PRIVATE KEY-----",
    "MIIEowIBAAKCAQEAu1SU1LfVLPHCozMxH2Mo4lgOEePzNm0tRgeLezV6ffAt0gun",
    "-----END RSA PRIVATE KEY-----",
    "",
    "token: ",
    "glpat-AbCdEfGhIjKlMnOpQrSt",
    "{\"key\": \"-----BEGIN PRIVATE KEY-----\\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\\n-----END PRIVATE KEY-----\\n\"}",
];

fn log_strategy() -> impl Strategy<Value = (Vec<KnownSecret>, Vec<u8>)> {
    let secrets = proptest::collection::vec(secret_strategy(), 1..4);
    secrets.prop_flat_map(|values| {
        let n = values.len();
        let values2 = values.clone();
        let line = prop_oneof![
            3 => (0..TEMPLATES.len()).prop_map(|i| TEMPLATES[i].to_string()),
            2 => "[ -~]{0,60}",
            3 => (0..n, enc_strategy(), "[ -~]{0,10}", "[ -~]{0,10}").prop_map(move |(i, e, a, b)| {
                format!("{a}{}{b}", encode(&values2[i], &e))
            }),
        ];
        let nl = prop_oneof![4 => Just("\n"), 1 => Just("\r\n"), 1 => Just("")];
        (Just(values), proptest::collection::vec((line, nl), 0..40))
    })
    .prop_map(|(values, lines)| {
        let known = values
            .iter()
            .enumerate()
            .map(|(i, v)| KnownSecret { name: format!("SECRET_{i}"), value: v.clone() })
            .collect();
        let mut log = Vec::new();
        for (l, nl) in lines {
            log.extend_from_slice(l.as_bytes());
            log.extend_from_slice(nl.as_bytes());
        }
        (known, log)
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn chunking_never_changes_output_and_nothing_known_leaks(
        (known, log) in log_strategy(),
        cuts in proptest::collection::vec(any::<usize>(), 0..12),
    ) {
        let config = Config { known: known.clone(), min_secret_len: 8, rules_toml: None };
        let (whole, _) = redact_all(&config, &log).expect("config");
        let parts = chunked(&config, &log, &cuts);
        prop_assert!(parts == whole, "chunked output differs");
        let scanner = LeakScanner::new(&known, 8);
        let leak = scanner.find(&whole);
        prop_assert!(leak.is_none(), "leak {:?} in {:?}", leak, String::from_utf8_lossy(&whole));
    }

    #[test]
    fn arbitrary_bytes_any_chunking(
        log in proptest::collection::vec(any::<u8>(), 0..2000),
        cuts in proptest::collection::vec(any::<usize>(), 0..8),
    ) {
        let config = Config {
            known: vec![KnownSecret { name: "K".into(), value: "s3cr3t-value".into() }],
            min_secret_len: 8,
            rules_toml: None,
        };
        let (whole, _) = redact_all(&config, &log).expect("config");
        prop_assert!(chunked(&config, &log, &cuts) == whole);
    }
}

fn long_line_config() -> Config {
    Config {
        known: vec![KnownSecret {
            name: "DEPLOY_KEY".into(),
            value: "Kx9#mQ2$vL7pR4wZ".into(),
        }],
        min_secret_len: 8,
        rules_toml: None,
    }
}

#[test]
fn ten_mib_line_without_newline() {
    let config = long_line_config();
    let ghp = format!(
        "ghp_{}",
        with_crc32_base62("Zq3X9kLm2Pw8Rt5Yv1Bn7Cd4Fg6Hj0")
    );
    let filler = b"0123456789abcdef ".repeat(10 * 1024 * 1024 / 17);
    let mut line = filler.clone();
    // Plant secrets around every plausible window boundary (multiples of 64 KiB and beyond).
    let mut positions = Vec::new();
    for k in 1..40usize {
        for delta in [0usize, 3, 17, 40] {
            positions.push((k * 65536).saturating_sub(delta));
            positions.push(k * 81920 + delta);
            positions.push(k * 98304 - delta * 2);
        }
    }
    positions.sort_unstable();
    positions.dedup();
    let mut planted = 0;
    let mut last_end = 0;
    for (n, &p) in positions.iter().enumerate() {
        if p < last_end + 50 || p + 60 >= line.len() {
            continue;
        }
        let s = if n % 2 == 0 {
            "Kx9#mQ2$vL7pR4wZ".to_string()
        } else {
            ghp.clone()
        };
        line[p] = b' ';
        line[p + 1..p + 1 + s.len()].copy_from_slice(s.as_bytes());
        line[p + 1 + s.len()] = b' ';
        last_end = p + s.len() + 2;
        planted += 1;
    }
    let (whole, report) = redact_all(&config, &line).expect("config");
    let total: u64 = report.iter().map(|(_, c)| c).sum();
    assert_eq!(
        total, planted,
        "every planted secret redacted exactly once: {report:?}"
    );
    assert!(memchr::memmem::find(&whole, b"Kx9#mQ2$vL7pR4wZ").is_none());
    assert!(memchr::memmem::find(&whole, ghp.as_bytes()).is_none());
    every_size(&config, &line, &[1 << 20, 65536, 65537, 4093, 100_003]);
    // The same line with a newline and more text after it.
    let mut two = line.clone();
    two.extend_from_slice(b"\nsecond line Kx9#mQ2$vL7pR4wZ\n");
    every_size(&config, &two, &[65536, 77777]);
}

#[test]
fn secret_split_across_every_boundary() {
    let config = long_line_config();
    let input = b"line one\nexport TOKEN=Kx9#mQ2$vL7pR4wZ more\n-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZW\nQyNTUxOQAAACDw\n-----END OPENSSH PRIVATE KEY-----\nAuthorization: Bearer abcdefgh12345678\nend";
    let (whole, _) = redact_all(&config, input).expect("config");
    for a in 0..=input.len() {
        for b in [a, a + 1, a + 2, a + 5, a + 13, a + 31, a + 64, input.len()] {
            let out = chunked(&config, input, &[a, b.min(input.len())]);
            assert!(out == whole, "cuts at {a}, {b}");
        }
    }
    let text = String::from_utf8_lossy(&whole);
    assert!(!text.contains("Kx9#"), "{text}");
    assert!(!text.contains("b3BlbnNz"), "{text}");
    assert!(text.contains("[REDACTED:private-key]"), "{text}");
}

#[test]
fn pem_across_chunks_with_long_body_stream() {
    let mut input = String::new();
    for i in 0..200 {
        input.push_str(&format!("2024-01-01T00:00:{:02}Z step {i}\n", i % 60));
        if i % 50 == 7 {
            input.push_str("2024-01-01T00:00:00Z -----BEGIN EC PRIVATE KEY-----\n");
            for j in 0..5 {
                input.push_str(&format!("2024-01-01T00:00:0{j}Z MHcCAQEEIBkg4LVWM9nuwNSk3yByxZpYRTBnVJk5oBRRbXb5xE5ToAoGCCqGSM49\n"));
            }
            input.push_str("2024-01-01T00:00:09Z -----END EC PRIVATE KEY-----\n");
        }
    }
    let config = Config::default();
    let (whole, report) = redact_all(&config, input.as_bytes()).expect("config");
    assert_eq!(report, vec![("private-key".to_string(), 4)]);
    assert!(memchr::memmem::find(&whole, b"MHcCAQ").is_none());
    every_size(
        &config,
        input.as_bytes(),
        &[1, 2, 3, 7, 64, 100, 1000, 4096],
    );
}

/// A redactor sharing another's engine redacts exactly like a new one, from a fresh state
/// (even while the first is mid-line or inside a PEM block) and with counts of its own.
#[test]
fn a_redactor_sharing_an_engine_starts_fresh_and_redacts_alike() {
    let config = Config {
        known: vec![KnownSecret {
            name: "DB_PASSWORD".into(),
            value: "Sup3r-S3cret-DB-pass!".into(),
        }],
        min_secret_len: 8,
        rules_toml: None,
    };
    let log = b"db=Sup3r-S3cret-DB-pass! token: ghp_0123456789abcdefghijklmnopqrstuvwxyz\n\
-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEAtest\n-----END RSA PRIVATE KEY-----\n\
url https://deploy:hunter2hunter2@git.example.com/x.git\n";
    let (expected, expected_report) = redact_all(&config, log).expect("config");
    let text = String::from_utf8_lossy(&expected);
    assert!(text.contains("[REDACTED:DB_PASSWORD]") && !text.contains("hunter2hunter2"));

    let mut first = Redactor::new(&config).expect("config");
    let mut out = Vec::new();
    // Leave the first redactor inside a PEM block, mid-line.
    first.push(b"-----BEGIN RSA PRIVATE KEY-----\nMIIEow", &mut out);
    let mut second = first.with_same_engine();
    let mut got = Vec::new();
    second.push(log, &mut got);
    second.finish(&mut got);
    assert_eq!(
        String::from_utf8_lossy(&got),
        String::from_utf8_lossy(&expected)
    );
    assert_eq!(second.report(), expected_report);
    // The first one's counts are its own: its block has not ended, nothing counted yet
    // beyond what it saw.
    assert_ne!(first.report(), second.report());
}
