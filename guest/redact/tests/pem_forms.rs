//! Private keys that are not in plain PEM form: a whole PEM block base64-encoded (a Kubernetes
//! Secret `data:` value, a `*_B64` variable, `base64` output wrapped at 76 columns, at each
//! byte offset), and PEM blocks whose lines carry per-line prefixes unlike the BEGIN line's
//! (variable-length timestamps, docker multiplexed-stream headers, `+ ` trace marks, colour
//! codes). The whole body goes, whatever the chunking; what is around it stays.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use exlogare_redact::{Config, Redactor, redact_all};

fn config() -> Config {
    Config {
        known: Vec::new(),
        min_secret_len: 8,
        rules_toml: None,
    }
}

/// A PEM private key with a deterministic pseudo-random body of `lines` 64-column lines and a
/// short last line.
fn pem(kind: &str, seed: u64, lines: usize) -> (String, Vec<String>) {
    const B64: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut x = seed
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407);
    let mut next = || {
        x = x
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        B64[(x >> 58) as usize] as char
    };
    let mut body: Vec<String> = (0..lines)
        .map(|_| (0..64).map(|_| next()).collect())
        .collect();
    body.push((0..28).map(|_| next()).collect::<String>() + "==");
    let text = format!(
        "-----BEGIN {kind}-----\n{}\n-----END {kind}-----\n",
        body.join("\n")
    );
    (text, body)
}

fn redact(input: &[u8]) -> Vec<u8> {
    let (out, _) = redact_all(&config(), input).expect("built-in rules compile");
    out
}

/// The same input pushed one byte at a time.
fn redact_bytewise(input: &[u8]) -> Vec<u8> {
    let mut r = Redactor::new(&config()).expect("built-in rules compile");
    let mut out = Vec::new();
    for b in input {
        r.push(std::slice::from_ref(b), &mut out);
    }
    r.finish(&mut out);
    out
}

/// Fails when any 8-byte window of any `secret` survives in `out`.
fn assert_gone(out: &[u8], secrets: &[impl AsRef<[u8]>]) {
    for s in secrets {
        let s = s.as_ref();
        for w in s.windows(8) {
            assert!(
                !out.windows(8).any(|o| o == w),
                "a piece of the key survived: {:?}\n--- output ---\n{}",
                String::from_utf8_lossy(w),
                String::from_utf8_lossy(out)
            );
        }
    }
}

/// Redacts whole and byte by byte (the same output), checks the secrets are gone and the
/// `kept` lines are all still there, byte for byte.
fn check(input: &[u8], secrets: &[impl AsRef<[u8]>], kept: &[&str]) -> Vec<u8> {
    let out = redact(input);
    assert_eq!(
        out,
        redact_bytewise(input),
        "output depends on the chunking"
    );
    assert_gone(&out, secrets);
    let text = String::from_utf8_lossy(&out);
    for k in kept {
        assert!(text.contains(k), "lost {k:?}:\n{text}");
    }
    out
}

fn wrap76(b64: &str) -> String {
    b64.as_bytes()
        .chunks(76)
        .map(|c| format!("{}\n", String::from_utf8_lossy(c)))
        .collect()
}

#[test]
fn kubernetes_secret_data_value_on_one_line() {
    let (key, _) = pem("RSA PRIVATE KEY", 1, 25);
    let (cert, _) = pem("CERTIFICATE", 2, 20);
    let (kb, cb) = (STANDARD.encode(&key), STANDARD.encode(&cert));
    let input = format!(
        "$ kubectl get secret tls -o yaml\napiVersion: v1\ndata:\n  tls.crt: {cb}\n  tls.key: {kb}\nkind: Secret\ntype: kubernetes.io/tls\n"
    );
    // The markers (`-----BEGIN `, `-----\n`) encode the same in both values: check the body.
    let out = check(
        input.as_bytes(),
        &[&kb[44..kb.len() - 44]],
        &[
            "apiVersion: v1",
            &cb,
            "kind: Secret",
            "type: kubernetes.io/tls",
        ],
    );
    assert!(String::from_utf8_lossy(&out).contains("tls.key: [REDACTED:private-key-base64]"));
}

#[test]
fn kubeconfig_client_key_data_in_json() {
    let (key, _) = pem("EC PRIVATE KEY", 3, 3);
    let kb = STANDARD.encode(&key);
    let input =
        format!("{{\"users\":[{{\"user\":{{\"client-key-data\":\"{kb}\",\"token\":null}}}}]}}\n");
    check(input.as_bytes(), &[&kb], &["\"token\":null"]);
}

#[test]
fn base64_output_wrapped_at_76_columns_every_line_goes() {
    for kind in ["RSA PRIVATE KEY", "OPENSSH PRIVATE KEY", "PRIVATE KEY"] {
        let (key, _) = pem(kind, 4, 12);
        let b64 = STANDARD.encode(&key);
        let input = format!(
            "$ echo \"$DEPLOY_KEY\" | base64\n{}$ ls -la build/\ntotal 8\nOK\n",
            wrap76(&b64)
        );
        let out = check(
            input.as_bytes(),
            &[&b64],
            &["$ ls -la build/", "total 8", "OK"],
        );
        assert_eq!(
            String::from_utf8_lossy(&out)
                .matches("[REDACTED:private-key-base64]")
                .count(),
            1
        );
    }
}

#[test]
fn wrapped_base64_with_indent_or_prefixes() {
    let (key, _) = pem("RSA PRIVATE KEY", 5, 10);
    let b64 = STANDARD.encode(&key);
    let indented: String = wrap76(&b64).lines().map(|l| format!("    {l}\n")).collect();
    let stamped: String = wrap76(&b64)
        .lines()
        .enumerate()
        .map(|(i, l)| format!("2024-05-01T10:00:0{}.{}Z {l}\n", i % 10, 12345 + i * 7))
        .collect();
    for body in [indented, stamped] {
        let input = format!("SSH_KEY_B64:\n{body}\nafter the value\n");
        check(
            input.as_bytes(),
            &[&b64],
            &["SSH_KEY_B64:", "after the value"],
        );
    }
}

#[test]
fn base64_value_at_every_byte_offset() {
    let (key, _) = pem("RSA PRIVATE KEY", 6, 8);
    for lead in ["", "\n", "  "] {
        let b64 = STANDARD.encode(format!("{lead}{key}"));
        let input = format!("export DEPLOY_KEY_B64={b64}\necho done\n");
        check(
            input.as_bytes(),
            &[&b64],
            &["export DEPLOY_KEY_B64=", "echo done"],
        );
    }
}

#[test]
fn base64_of_public_material_stays() {
    for kind in ["CERTIFICATE", "PUBLIC KEY", "CERTIFICATE REQUEST"] {
        let (text, _) = pem(kind, 7, 6);
        let b64 = STANDARD.encode(&text);
        let input = format!("certificate-authority-data: {b64}\n{}", wrap76(&b64));
        assert_eq!(redact(input.as_bytes()), input.as_bytes(), "{kind} changed");
    }
}

#[test]
fn variable_length_timestamps_on_every_line() {
    let (key, body) = pem("RSA PRIVATE KEY", 8, 20);
    // RFC 3339 with nanoseconds and trailing zeros trimmed: the prefix length varies.
    let fracs = ["123456789", "12345678", "1234567", "5", "98"];
    let input: String = key
        .lines()
        .enumerate()
        .map(|(i, l)| format!("2024-05-01T10:00:{:02}.{}Z {l}\n", i % 60, fracs[i % 5]))
        .chain(["2024-05-01T10:00:59.1Z Deploy finished\n".to_string()])
        .collect();
    let out = check(
        input.as_bytes(),
        &body,
        &[
            "-----BEGIN RSA PRIVATE KEY-----",
            "-----END RSA PRIVATE KEY-----",
            "Deploy finished",
        ],
    );
    assert_eq!(
        String::from_utf8_lossy(&out)
            .matches("[REDACTED:private-key]")
            .count(),
        1
    );
}

/// Docker's multiplexed stream: 8-byte headers (stream, 0, 0, 0, u32 BE length) before each
/// frame. After the log clean-up removes the NUL bytes, `\x01` and the length byte remain; the
/// length byte may itself be a newline or a base64 letter (65 = `A`, a 64-column line).
fn docker_frames(text: &str) -> Vec<u8> {
    let mut v = Vec::new();
    for line in text.split_inclusive('\n') {
        v.push(1);
        v.extend_from_slice(&(line.len() as u32).to_be_bytes());
        v.extend_from_slice(line.as_bytes());
    }
    v.into_iter().filter(|&b| b != 0).collect()
}

#[test]
fn docker_multiplexed_stream_headers() {
    // 9 = a tab, 10 = a newline, 13 = `\r`, 65 = `A`: every line length lands on a byte.
    let mut text = String::from("Step 4/7 : RUN ./deploy.sh\n");
    let (key, body) = pem("OPENSSH PRIVATE KEY", 9, 12);
    text.push_str(&key);
    text.push_str("abcdefgh\nSuccessfully built 1f2e3d4c\n");
    let mut short = body.clone();
    short.push("x".repeat(9)); // 10-byte frame: the header's length byte is a newline
    let input = docker_frames(&text);
    let out = check(&input, &body, &["Successfully built 1f2e3d4c", "abcdefgh"]);
    let framed = docker_frames(&format!("{key}{}\n", "Q".repeat(9)));
    assert_gone(&redact(&framed), &short);
    assert!(String::from_utf8_lossy(&out).contains("RUN ./deploy.sh"));
}

#[test]
fn trace_marks_and_colour_codes_on_every_line() {
    let (key, body) = pem("RSA PRIVATE KEY", 10, 15);
    let traced: String = key.lines().map(|l| format!("+ {l}\n")).collect();
    let coloured: String = key
        .lines()
        .map(|l| format!("\x1b[36m{l}\x1b[0m\n"))
        .collect();
    let mixed: String = key
        .lines()
        .enumerate()
        .map(|(i, l)| {
            if i % 2 == 0 {
                format!("\x1b[2m2024-05-01 10:00:0{}\x1b[0m | {l}\n", i % 10)
            } else {
                format!("2024-05-01 10:00:{} | {l}\n", 10 + i)
            }
        })
        .collect();
    for block in [traced, coloured, mixed] {
        let input = format!("{block}running tests\n");
        check(input.as_bytes(), &body, &["running tests"]);
    }
}

#[test]
fn block_lines_after_the_end_are_text_again() {
    let (key, body) = pem("RSA PRIVATE KEY", 11, 4);
    let prefixed: String = key.lines().map(|l| format!("[12:00:01] {l}\n")).collect();
    let input = format!("{prefixed}[12:00:02] ABCDEFGHIJKLMNOP\nIMAGE_SHA=0123456789abcdef\n");
    check(
        input.as_bytes(),
        &body,
        &["[12:00:02] ABCDEFGHIJKLMNOP", "IMAGE_SHA=0123456789abcdef"],
    );
}

#[test]
fn an_unterminated_block_ends_at_the_first_text_line() {
    let (key, body) = pem("RSA PRIVATE KEY", 12, 4);
    let cut: String = key.lines().take(4).map(|l| format!("{l}\n")).collect();
    let input = format!("{cut}error: the key was cut off here\nnext step\n");
    check(
        input.as_bytes(),
        &body[..3],
        &["error: the key was cut off here", "next step"],
    );
}
