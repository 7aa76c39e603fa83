//! An example exlogare redaction plugin: ACME Corp API tokens.
//!
//! An ACME token is `acme_` followed by 32 characters from `[a-z0-9]`; the last 4 are a
//! checksum: the first 4 hex digits (lowercase) of the CRC-32 (IEEE, as zlib computes it) of the
//! 28 characters before them. The checksum is what makes the rule safe to run on every log:
//! a random `acme_...` word almost never passes it, so only real tokens are redacted.
//!
//! A token becomes `acme_[REDACTED:acme-token]` (the documented prefix stays, as the built-in
//! rules do). The redactor keeps state across chunks: the end of a chunk that could be the start
//! of a token is held back until the next chunk (or `finish`) says how it ends, so a token is
//! caught wherever the chunk boundaries fall.
//!
//! The token logic is plain Rust ([`Scanner`]), tested natively with `cargo test`; the WIT
//! binding at the bottom is a thin layer over it.

use std::cell::RefCell;

/// What comes before the 32 token characters.
pub const PREFIX: &[u8] = b"acme_";
/// The number of characters after the prefix.
pub const BODY_LEN: usize = 32;
/// The whole token's length.
const TOKEN_LEN: usize = PREFIX.len() + BODY_LEN;
/// The rule name in placeholders and counts.
pub const RULE: &str = "acme-token";

/// `[a-z0-9]`: a token character.
fn is_token_char(b: u8) -> bool {
    b.is_ascii_lowercase() || b.is_ascii_digit()
}

/// A byte that may not touch a token on either side (it would make it part of a longer word).
fn is_word_char(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}

/// CRC-32 (IEEE 802.3, reflected, as in zlib and `crc32fast`).
pub fn crc32(data: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &byte in data {
        crc ^= u32::from(byte);
        for _ in 0..8 {
            let mask = (crc & 1).wrapping_neg();
            crc = (crc >> 1) ^ (0xEDB8_8320 & mask);
        }
    }
    !crc
}

/// The 4-character checksum of a token's first 28 body characters.
pub fn checksum(first28: &[u8]) -> [u8; 4] {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let crc = crc32(first28);
    let mut out = [0u8; 4];
    for (i, slot) in out.iter_mut().enumerate() {
        *slot = HEX[((crc >> (28 - 4 * i)) & 0xf) as usize];
    }
    out
}

/// Whether `body` (the 32 characters after `acme_`) is a valid token body.
pub fn is_valid_body(body: &[u8]) -> bool {
    body.len() == BODY_LEN
        && body.iter().all(|&b| is_token_char(b))
        && checksum(&body[..BODY_LEN - 4]) == body[BODY_LEN - 4..]
}

/// The streaming redactor: push text, get redacted text back; state carries across pushes.
#[derive(Default)]
pub struct Scanner {
    /// Text held back from the last push: it may be the start of a token.
    held: Vec<u8>,
    /// The byte just before `held` (for the left word boundary), if any.
    before: Option<u8>,
    /// Tokens redacted so far.
    pub count: u64,
}

impl Scanner {
    /// Redacts `chunk`, appending to `out` everything that is settled.
    pub fn push(&mut self, chunk: &[u8], out: &mut Vec<u8>) {
        let mut text = std::mem::take(&mut self.held);
        text.extend_from_slice(chunk);
        let settled = self.scan(&text, false, out);
        self.before = settled.checked_sub(1).map(|i| text[i]).or(self.before);
        self.held = text[settled..].to_vec();
    }

    /// Ends the stream: everything still held is settled now.
    pub fn finish(&mut self, out: &mut Vec<u8>) {
        let text = std::mem::take(&mut self.held);
        self.scan(&text, true, out);
    }

    /// Writes the redacted form of `text` up to the point where it is settled, and returns
    /// that point: at the end of the stream everything is; otherwise the tail that could still
    /// grow into a token (or into a longer word after one) is held back.
    fn scan(&mut self, text: &[u8], at_end: bool, out: &mut Vec<u8>) -> usize {
        let mut i = 0;
        let mut copied = 0;
        while i < text.len() {
            let boundary_before = match i {
                0 => self.before.is_none_or(|b| !is_word_char(b)),
                _ => !is_word_char(text[i - 1]),
            };
            if text[i] != b'a' || !boundary_before {
                i += 1;
                continue;
            }
            let rest = &text[i..];
            let visible = rest.len().min(TOKEN_LEN);
            let could_be = rest[..visible.min(PREFIX.len())] == PREFIX[..visible.min(PREFIX.len())]
                && rest[PREFIX.len().min(visible)..visible]
                    .iter()
                    .all(|&b| is_token_char(b));
            if !could_be {
                i += 1;
                continue;
            }
            // The token and the byte after it must be seen before deciding.
            if rest.len() <= TOKEN_LEN && !at_end {
                out.extend_from_slice(&text[copied..i]);
                return i;
            }
            if rest.len() < TOKEN_LEN {
                break; // the stream ended inside it: not a token
            }
            let boundary_after = rest.get(TOKEN_LEN).is_none_or(|&b| !is_word_char(b));
            if boundary_after && is_valid_body(&rest[PREFIX.len()..TOKEN_LEN]) {
                out.extend_from_slice(&text[copied..i]);
                out.extend_from_slice(PREFIX);
                out.extend_from_slice(b"[REDACTED:acme-token]");
                self.count += 1;
                i += TOKEN_LEN;
                copied = i;
            } else {
                i += 1;
            }
        }
        out.extend_from_slice(&text[copied..]);
        text.len()
    }
}

#[cfg(target_arch = "wasm32")]
mod component {
    //! The WIT binding: the `redactor-plugin` world of `exlogare:ingest@0.1.0`.

    use super::*;

    wit_bindgen::generate!({
        world: "redactor-plugin",
        path: "../../wit",
    });

    use exports::exlogare::ingest::redaction;

    struct Plugin;

    export!(Plugin);

    impl redaction::Guest for Plugin {
        type Redactor = Redactor;

        fn info() -> redaction::PluginInfo {
            redaction::PluginInfo {
                name: env!("CARGO_PKG_NAME").to_string(),
                version: env!("CARGO_PKG_VERSION").to_string(),
                description: env!("CARGO_PKG_DESCRIPTION").to_string(),
            }
        }
    }

    /// One redaction run.
    struct Redactor {
        scanner: RefCell<Scanner>,
    }

    impl redaction::GuestRedactor for Redactor {
        fn create(_options: redaction::Options) -> Result<redaction::Redactor, String> {
            Ok(redaction::Redactor::new(Redactor {
                scanner: RefCell::new(Scanner::default()),
            }))
        }

        fn push(&self, chunk: Vec<u8>) -> Vec<u8> {
            let mut out = Vec::with_capacity(chunk.len());
            self.scanner.borrow_mut().push(&chunk, &mut out);
            out
        }

        fn finish(&self) -> Vec<u8> {
            let mut out = Vec::new();
            self.scanner.borrow_mut().finish(&mut out);
            out
        }

        fn report(&self) -> Vec<redaction::RuleCount> {
            vec![redaction::RuleCount {
                rule: RULE.to_string(),
                count: self.scanner.borrow().count,
            }]
        }
    }
}

// Keeps `RefCell` used on native builds too (it is only needed by the binding).
#[cfg(not(target_arch = "wasm32"))]
const _: Option<RefCell<()>> = None;

#[cfg(test)]
mod tests {
    use super::*;

    /// A valid token from 28 body characters.
    fn token(first28: &str) -> String {
        let sum = checksum(first28.as_bytes());
        format!("acme_{first28}{}", std::str::from_utf8(&sum).unwrap())
    }

    fn redact_in_pieces(text: &str, piece: usize) -> (String, u64) {
        let mut s = Scanner::default();
        let mut out = Vec::new();
        for part in text.as_bytes().chunks(piece.max(1)) {
            s.push(part, &mut out);
        }
        s.finish(&mut out);
        (String::from_utf8(out).unwrap(), s.count)
    }

    #[test]
    fn crc32_matches_the_standard_check_value() {
        assert_eq!(crc32(b"123456789"), 0xCBF4_3926);
    }

    #[test]
    fn a_valid_token_is_redacted_wherever_the_chunks_fall() {
        let t = token("0123456789abcdefghijklmnopqr");
        let text = format!("key={t} and again ({t})\nend {t}");
        let want = "key=acme_[REDACTED:acme-token] and again (acme_[REDACTED:acme-token])\nend acme_[REDACTED:acme-token]";
        for piece in 1..=text.len() {
            assert_eq!(
                redact_in_pieces(&text, piece),
                (want.to_string(), 3),
                "piece {piece}"
            );
        }
    }

    #[test]
    fn a_bad_checksum_or_a_longer_word_is_kept() {
        let t = token("0123456789abcdefghijklmnopqr");
        let mut bad = t.clone();
        bad.replace_range(t.len() - 1.., if t.ends_with('0') { "1" } else { "0" });
        for text in [
            bad.clone(),
            format!("{t}x"),
            format!("x{t}"),
            format!("{t}_"),
        ] {
            for piece in [1, 7, 100] {
                assert_eq!(redact_in_pieces(&text, piece), (text.clone(), 0), "{text}");
            }
        }
    }
}
