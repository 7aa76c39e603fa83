//! Small pure checks that turn a regex hit into a high-confidence finding, or reject it.
//!
//! This module exists so that token rules can prove a candidate (the CRC32 that GitHub and npm
//! tokens carry) and context rules can reject obvious non-secrets (placeholders such as `***` or
//! `${VAR}`, hashes, booleans) without each rule repeating the logic.

const BASE62: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/// `n` in base62 (digits, upper case, lower case), left-padded with `0` to `width` characters.
pub fn base62(mut n: u32, width: usize) -> String {
    let mut digits = Vec::with_capacity(width.max(6));
    while n > 0 {
        digits.push(BASE62[(n % 62) as usize]);
        n /= 62;
    }
    while digits.len() < width {
        digits.push(b'0');
    }
    digits.reverse();
    String::from_utf8(digits).unwrap_or_default()
}

/// Whether `body` (the 36 characters after a GitHub `gh?_` or npm `npm_` prefix) ends with the
/// base62 CRC32 of its first 30 characters, as those token formats specify.
pub fn crc32_base62_ok(body: &[u8]) -> bool {
    if body.len() != 36 || !body.iter().all(u8::is_ascii_alphanumeric) {
        return false;
    }
    let (random, check) = body.split_at(30);
    base62(crc32fast::hash(random), 6).as_bytes() == check
}

/// Makes the 36-character body of a token with a valid checksum from 30 random characters (for
/// tests and the corpus: fake tokens that the CRC-checking rules accept).
pub fn with_crc32_base62(random30: &str) -> String {
    format!(
        "{random30}{}",
        base62(crc32fast::hash(random30.as_bytes()), 6)
    )
}

/// Shannon entropy of `data` in bits per byte (gitleaks' `entropy` semantics).
pub fn shannon_entropy(data: &[u8]) -> f64 {
    if data.is_empty() {
        return 0.0;
    }
    let mut counts = [0u32; 256];
    for &b in data {
        counts[usize::from(b)] += 1;
    }
    let len = data.len() as f64;
    counts
        .iter()
        .filter(|&&c| c > 0)
        .map(|&c| {
            let p = f64::from(c) / len;
            -p * p.log2()
        })
        .sum()
}

/// Whether an assigned value is a placeholder rather than a secret: empty, masked (`***`,
/// `[MASKED]`, `<redacted>`), a variable reference (`$VAR`, `${VAR}`, `$(cmd)`, `%VAR%`,
/// `{{ x }}`), a literal like `null`/`true`, or text with no letter or digit at all.
pub fn is_placeholder(value: &[u8]) -> bool {
    let v = trim_quotes(value);
    if v.is_empty() {
        return true;
    }
    if !v.iter().any(u8::is_ascii_alphanumeric) && v.iter().all(u8::is_ascii) {
        // `***`, `'}'`, `...`, `-----`; but `~!@#%^*()_+` is a password of symbols.
        let mut distinct = v.to_vec();
        distinct.sort_unstable();
        distinct.dedup();
        if v.len() < 6 || distinct.len() <= 2 {
            return true;
        }
    }
    if is_variable(v) || v.starts_with(b"%") && v.ends_with(b"%") {
        return true;
    }
    if v.starts_with(b"{{") || v.starts_with(b"<") && v.ends_with(b">") {
        return true;
    }
    if v.starts_with(b"[") && v.ends_with(b"]") {
        return true; // [MASKED], [REDACTED], [REDACTED:x], [hidden]
    }
    if v.iter()
        .all(|&b| b == b'*' || b == b'x' || b == b'X' || b == b'.')
    {
        return true;
    }
    let lower = v.to_ascii_lowercase();
    const WORDS: &[&[u8]] = &[
        b"null",
        b"none",
        b"nil",
        b"undefined",
        b"true",
        b"false",
        b"yes",
        b"no",
        b"masked",
        b"redacted",
        b"hidden",
        b"secret",
        b"password",
        b"changeme",
        b"required",
        b"optional",
        b"string",
        b"example",
        b"env",
        b"empty",
        b"unset",
        b"not set",
        b"****",
    ];
    // `"token":null}]}`: a bare JSON value runs into the closing brackets.
    let mut word = lower.as_slice();
    while let [rest @ .., b')' | b']' | b'}' | b',' | b'"'] = word {
        word = rest;
    }
    if WORDS.contains(&lower.as_slice()) || WORDS.contains(&word) {
        return true;
    }
    lower.starts_with(b"[redacted")
        || lower.starts_with(b"<redacted")
        || lower.starts_with(b"[masked]")
        || lower.starts_with(b"***")
}

/// `$NAME`, `${NAME...}`, `$(command)`: a reference, not a value (`$9ExRU%1` is a value).
fn is_variable(v: &[u8]) -> bool {
    match v {
        [b'$', b'{' | b'(', ..] => true,
        [b'$', first, rest @ ..] => {
            (first.is_ascii_alphabetic() || *first == b'_')
                && rest.iter().all(|b| b.is_ascii_alphanumeric() || *b == b'_')
        }
        _ => false,
    }
}

fn trim_quotes(v: &[u8]) -> &[u8] {
    let mut v = v;
    while let [b'"' | b'\'' | b'`', rest @ ..] = v {
        v = rest;
    }
    while let [rest @ .., b'"' | b'\'' | b'`' | b',' | b';'] = v {
        v = rest;
    }
    v
}

/// Whether `v` is all hexadecimal digits.
pub fn is_hex(v: &[u8]) -> bool {
    !v.is_empty() && v.iter().all(u8::is_ascii_hexdigit)
}

/// Whether `v` looks like a random key made of several character classes (upper, lower, and
/// digit or symbol), which rules out hashes, words and numbers.
pub fn mixed_case_key(v: &[u8]) -> bool {
    let upper = v.iter().any(u8::is_ascii_uppercase);
    let lower = v.iter().any(u8::is_ascii_lowercase);
    let other = v.iter().any(|b| !b.is_ascii_alphabetic());
    upper && lower && other && !is_hex(v)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base62_pads_and_encodes() {
        assert_eq!(base62(0, 6), "000000");
        assert_eq!(base62(61, 6), "00000z");
        assert_eq!(base62(62, 6), "000010");
        assert_eq!(base62(u32::MAX, 6), "4gfFC3");
    }

    #[test]
    fn crc_round_trip() {
        let body = with_crc32_base62("abcdefghijklmnopqrstuvwxyz0123");
        assert!(crc32_base62_ok(body.as_bytes()));
        let mut bad = body.into_bytes();
        bad[0] = b'Z';
        assert!(!crc32_base62_ok(&bad));
        assert!(!crc32_base62_ok(b"short"));
    }

    #[test]
    fn placeholders() {
        for p in [
            "",
            "***",
            "'}'",
            "[MASKED]",
            "$VAR",
            "${VAR}",
            "$(cat x)",
            "%PASS%",
            "<redacted>",
            "null",
            "\"\"",
            "{{ secrets.X }}",
            "xxxxxx",
            "<your-token>",
            "[REDACTED:x]",
        ] {
            assert!(is_placeholder(p.as_bytes()), "{p}");
        }
        for s in ["hunter2", "s3cr3t-P4ss", "abc123def"] {
            assert!(!is_placeholder(s.as_bytes()), "{s}");
        }
    }

    #[test]
    fn entropy() {
        assert_eq!(shannon_entropy(b"aaaa"), 0.0);
        assert!((shannon_entropy(b"abcd") - 2.0).abs() < 1e-9);
    }
}
