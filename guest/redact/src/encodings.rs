//! The forms a known secret value can take in a log.
//!
//! This module exists because a secret rarely appears only verbatim: tools print it inside a
//! base64 blob (HTTP Basic auth, Kubernetes secrets, docker `config.json`), percent-encoded in a
//! URL, or escaped inside JSON. For each known value it computes every *needle* (exact byte string)
//! that proves the value is present, whatever text surrounds it.

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD_NO_PAD, URL_SAFE_NO_PAD};
use std::fmt;

/// Which form of a known value was found.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Encoding {
    /// The value itself, trimmed of surrounding whitespace.
    Raw,
    /// Standard base64 (`+`, `/`), at any of the three byte alignments.
    Base64,
    /// URL-safe base64 (`-`, `_`), at any of the three byte alignments.
    Base64Url,
    /// Percent-encoding of reserved characters (upper- or lower-case hex, `+` or `%20` for space).
    UrlEncoded,
    /// Escaped as inside a JSON string (`\"`, `\\`, `\n`, optionally `\/` and `\uXXXX`).
    JsonEscaped,
    /// One line of a multi-line value (such as a PEM key held in a variable).
    Line,
}

impl Encoding {
    /// The short lower-case name used in reports and diagnostics.
    pub fn as_str(self) -> &'static str {
        match self {
            Encoding::Raw => "raw",
            Encoding::Base64 => "base64",
            Encoding::Base64Url => "base64url",
            Encoding::UrlEncoded => "url",
            Encoding::JsonEscaped => "json",
            Encoding::Line => "line",
        }
    }
}

impl fmt::Display for Encoding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One exact byte string to search for, and which form of the value it is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Needle {
    /// The bytes to find.
    pub bytes: Vec<u8>,
    /// The form of the value these bytes are.
    pub encoding: Encoding,
}

/// Every needle for one known value, deduplicated (a variant equal to an earlier one is
/// skipped). Returns nothing when the trimmed value is shorter than `min_len` bytes. Lines of a
/// multi-line value shorter than `min_len` are skipped too.
pub fn needles_for(value: &str, min_len: usize) -> Vec<Needle> {
    let min_len = min_len.max(1);
    let value = value.trim();
    let mut out: Vec<Needle> = Vec::new();
    if value.len() < min_len {
        return out;
    }
    let push = |bytes: Vec<u8>, encoding: Encoding, out: &mut Vec<Needle>| {
        if bytes.is_empty() || bytes.contains(&b'\n') {
            return;
        }
        if out.iter().any(|n| n.bytes == bytes) {
            return;
        }
        out.push(Needle { bytes, encoding });
    };
    let multi = value.contains('\n');
    if multi {
        for line in value.split('\n') {
            let line = line.trim();
            if line.len() >= min_len {
                push(line.as_bytes().to_vec(), Encoding::Line, &mut out);
            }
        }
    } else {
        push(value.as_bytes().to_vec(), Encoding::Raw, &mut out);
    }
    for offset in 0..3 {
        push(
            base64_core(value.as_bytes(), offset, false),
            Encoding::Base64,
            &mut out,
        );
    }
    for offset in 0..3 {
        push(
            base64_core(value.as_bytes(), offset, true),
            Encoding::Base64Url,
            &mut out,
        );
    }
    for v in url_variants(value) {
        push(v, Encoding::UrlEncoded, &mut out);
    }
    for v in json_variants(value) {
        push(v, Encoding::JsonEscaped, &mut out);
    }
    out
}

/// The base64 characters fully determined by `secret` when it starts `offset` bytes (0, 1 or 2)
/// into the encoded stream. Characters that mix bits of the secret with bits of the bytes
/// before or after it are left out, so the needle matches whatever surrounds the secret.
pub fn base64_core(secret: &[u8], offset: usize, url_safe: bool) -> Vec<u8> {
    let offset = offset % 3;
    let mut buf = Vec::with_capacity(secret.len() + 5);
    buf.resize(offset, 0u8);
    buf.extend_from_slice(secret);
    buf.extend_from_slice(&[0, 0]);
    let enc = if url_safe {
        URL_SAFE_NO_PAD.encode(&buf)
    } else {
        STANDARD_NO_PAD.encode(&buf)
    };
    let start_bit = offset * 8;
    let end_bit = start_bit + secret.len() * 8;
    let first = start_bit.div_ceil(6);
    let last = end_bit / 6; // exclusive: char j covers bits [6j, 6j+6)
    if last <= first {
        return Vec::new();
    }
    enc.as_bytes()
        .get(first..last)
        .map(<[u8]>::to_vec)
        .unwrap_or_default()
}

/// Percent-encodings of `value`: every byte outside the unreserved set (RFC 3986), and the
/// looser `encodeURIComponent` set; upper and lower hex; form style (`+` for space).
fn url_variants(value: &str) -> Vec<Vec<u8>> {
    fn enc(value: &str, keep: &[u8], upper: bool, plus_space: bool) -> Vec<u8> {
        let hex: &[u8; 16] = if upper {
            b"0123456789ABCDEF"
        } else {
            b"0123456789abcdef"
        };
        let mut out = Vec::with_capacity(value.len() * 3);
        for &b in value.as_bytes() {
            if b.is_ascii_alphanumeric() || keep.contains(&b) {
                out.push(b);
            } else if plus_space && b == b' ' {
                out.push(b'+');
            } else {
                out.push(b'%');
                out.push(hex[usize::from(b >> 4)]);
                out.push(hex[usize::from(b & 15)]);
            }
        }
        out
    }
    let rfc3986: &[u8] = b"-._~";
    let uri_component: &[u8] = b"-_.!~*'()";
    let python_quote: &[u8] = b"-._~/";
    let mut out = Vec::new();
    for keep in [rfc3986, uri_component, python_quote] {
        for upper in [true, false] {
            for plus in [false, true] {
                out.push(enc(value, keep, upper, plus));
            }
        }
    }
    out
}

/// JSON-escaped forms of `value`: minimal escaping, with `\/`, and with `\uXXXX` for
/// non-ASCII characters (as Python's `json.dumps` does).
fn json_variants(value: &str) -> Vec<Vec<u8>> {
    fn enc(value: &str, slash: bool, ascii_only: bool) -> Vec<u8> {
        let mut out = String::with_capacity(value.len() + 8);
        for c in value.chars() {
            match c {
                '"' => out.push_str("\\\""),
                '\\' => out.push_str("\\\\"),
                '\n' => out.push_str("\\n"),
                '\r' => out.push_str("\\r"),
                '\t' => out.push_str("\\t"),
                '\u{8}' => out.push_str("\\b"),
                '\u{c}' => out.push_str("\\f"),
                '/' if slash => out.push_str("\\/"),
                c if (c as u32) < 0x20 || (ascii_only && !c.is_ascii()) => {
                    let mut units = [0u16; 2];
                    for u in c.encode_utf16(&mut units) {
                        out.push_str(&format!("\\u{:04x}", u));
                    }
                }
                c => out.push(c),
            }
        }
        out.into_bytes()
    }
    vec![
        enc(value, false, false),
        enc(value, true, false),
        enc(value, false, true),
        enc(value, true, true),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::engine::general_purpose::STANDARD;

    #[test]
    fn base64_core_is_found_at_every_alignment_and_surrounding() {
        let secret = b"hunter2-is-a-secret";
        for prefix_len in 0..6 {
            for suffix_len in 0..4 {
                let mut data = vec![b'x'; prefix_len];
                data.extend_from_slice(secret);
                data.extend(std::iter::repeat_n(b'y', suffix_len));
                let enc = STANDARD.encode(&data);
                let core = base64_core(secret, prefix_len % 3, false);
                assert!(core.len() >= 20, "core too short: {}", core.len());
                assert!(
                    memchr::memmem::find(enc.as_bytes(), &core).is_some(),
                    "prefix {prefix_len} suffix {suffix_len}"
                );
            }
        }
    }

    #[test]
    fn variants_are_deduplicated_and_short_values_skipped() {
        assert!(needles_for("short", 8).is_empty());
        assert!(needles_for("   short   ", 8).is_empty());
        let n = needles_for("abcdefgh12345", 8);
        let raws: Vec<_> = n.iter().filter(|n| n.encoding == Encoding::Raw).collect();
        assert_eq!(raws.len(), 1);
        // A plain alphanumeric value has no distinct URL or JSON form.
        assert!(!n.iter().any(|n| n.encoding == Encoding::UrlEncoded));
        assert!(!n.iter().any(|n| n.encoding == Encoding::JsonEscaped));
        for (i, a) in n.iter().enumerate() {
            for b in &n[i + 1..] {
                assert_ne!(a.bytes, b.bytes);
            }
        }
    }

    #[test]
    fn url_and_json_forms() {
        let n = needles_for("p@ss/w\"rd 1234", 8);
        let has = |s: &str| n.iter().any(|n| n.bytes == s.as_bytes());
        assert!(has("p%40ss%2Fw%22rd%201234"));
        assert!(has("p%40ss%2fw%22rd%201234"));
        assert!(has("p%40ss%2Fw%22rd+1234"));
        assert!(has("p%40ss/w%22rd%201234"));
        assert!(has("p@ss/w\\\"rd 1234"));
        assert!(has("p@ss\\/w\\\"rd 1234"));
    }

    #[test]
    fn multi_line_values_give_lines() {
        let n = needles_for("first-line-long\nshort\n  third-line-long  ", 8);
        let lines: Vec<_> = n.iter().filter(|n| n.encoding == Encoding::Line).collect();
        assert_eq!(lines.len(), 2);
        assert!(
            n.iter()
                .any(|n| n.bytes == b"first-line-long\\nshort\\n  third-line-long")
        );
    }
}
