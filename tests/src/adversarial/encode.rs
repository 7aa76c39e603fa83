//! The encodings a secret value is found in (base64 at the three alignments, URL and JSON
//! forms) and the strict leak rule's windows over them.

use base64::Engine;

/// The length of the windows of the strict leak rule: any 8 bytes of a secret that survive
/// are a leak.
pub const WINDOW: usize = 8;

/// Standard base64 with padding.
pub fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// The part of base64(`pad` bytes + `value`) that depends on `value` alone, for `pad` in 0..3:
/// what any base64 text holding `value` at that alignment must contain.
pub fn b64_at_offset(value: &[u8], pad: usize) -> String {
    let mut input = vec![0u8; pad];
    input.extend_from_slice(value);
    let enc = b64(&input);
    let enc = enc.trim_end_matches('=');
    let start = [0, 2, 3][pad % 3];
    let end = match (pad + value.len()) % 3 {
        0 => enc.len(),
        _ => enc.len().saturating_sub(1),
    };
    enc.get(start..end).unwrap_or("").to_string()
}

/// Percent-encoding of everything but unreserved characters (Python's `quote(safe="")`).
pub fn url(value: &str) -> String {
    let mut out = String::new();
    for b in value.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// The JSON string escaping of `value`, without the quotes.
pub fn json(value: &str) -> String {
    let quoted = serde_json::to_string(value).unwrap_or_default();
    quoted
        .get(1..quoted.len().saturating_sub(1))
        .unwrap_or("")
        .to_string()
}

/// Every form of a known value the strict rule checks: raw, base64 at three offsets, URL and
/// JSON (duplicates removed).
pub fn known_forms(value: &str) -> Vec<Vec<u8>> {
    let mut forms = vec![value.as_bytes().to_vec()];
    for pad in 0..3 {
        forms.push(b64_at_offset(value.as_bytes(), pad).into_bytes());
    }
    forms.push(url(value).into_bytes());
    forms.push(json(value).into_bytes());
    forms.sort();
    forms.dedup();
    forms.retain(|f| f.len() >= WINDOW);
    forms
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_offsets_are_found_inside_any_encoding_of_the_value() {
        let value = b"Sup3r-S3cret%pass!";
        for pad in 0..3 {
            for prefix in [&b"u:"[..], b"ab:", b"xyz:", b"k"] {
                if prefix.len() % 3 != pad {
                    continue;
                }
                let mut whole = prefix.to_vec();
                whole.extend_from_slice(value);
                whole.extend_from_slice(b"@tail");
                let core = b64_at_offset(value, pad);
                assert!(core.len() >= 16, "{core}");
                assert!(b64(&whole).contains(&core), "pad {pad}: {core}");
            }
        }
        assert_eq!(url("a b%"), "a%20b%25");
        assert_eq!(json("a\"b\\"), "a\\\"b\\\\");
    }
}
