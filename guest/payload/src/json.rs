//! Streaming JSON string escaping for the log.
//!
//! The log is the one field too large to hold: it is written piece by piece, each piece escaped
//! on its own. Escaping touches only ASCII (quotes, backslashes, control characters), so a piece
//! may end in the middle of a UTF-8 character. The text should already be valid UTF-8; should a
//! host send anything else, invalid bytes become U+FFFD (an incomplete character at a piece's
//! end is carried to the next), so the body is valid JSON whatever arrives, and the same
//! whatever the piece boundaries.

/// U+FFFD REPLACEMENT CHARACTER, UTF-8 encoded.
const REPLACEMENT: &[u8] = "\u{FFFD}".as_bytes();

/// Escapes the inside of one JSON string, given in pieces.
#[derive(Debug, Default)]
pub(crate) struct StringEscaper {
    /// The start of a multi-byte character whose end has not arrived yet (at most 3 bytes).
    carry: [u8; 4],
    carry_len: usize,
}

impl StringEscaper {
    /// Appends the escaped form of `piece` to `out`.
    pub(crate) fn push(&mut self, piece: &[u8], out: &mut Vec<u8>) {
        out.reserve(piece.len() + piece.len() / 8);
        let start = self.complete_carry(piece, out);
        let mut rest = piece.get(start..).unwrap_or_default();
        loop {
            match std::str::from_utf8(rest) {
                Ok(text) => {
                    escape_into(text.as_bytes(), out);
                    return;
                }
                Err(error) => {
                    let (valid, after) = rest.split_at(error.valid_up_to());
                    escape_into(valid, out);
                    match error.error_len() {
                        Some(len) => {
                            out.extend_from_slice(REPLACEMENT);
                            rest = after.get(len..).unwrap_or_default();
                        }
                        None => {
                            let keep = after.len().min(3);
                            self.carry[..keep].copy_from_slice(&after[..keep]);
                            self.carry_len = keep;
                            return;
                        }
                    }
                }
            }
        }
    }

    /// Ends the string: an incomplete character left over becomes U+FFFD.
    pub(crate) fn finish(&mut self, out: &mut Vec<u8>) {
        if self.carry_len > 0 {
            out.extend_from_slice(REPLACEMENT);
            self.carry_len = 0;
        }
    }

    /// Completes (or rejects) the carried partial character with bytes from `piece`; returns
    /// how many bytes of `piece` it used.
    fn complete_carry(&mut self, piece: &[u8], out: &mut Vec<u8>) -> usize {
        let (mut used, mut pushed) = (0, 0);
        while self.carry_len > 0 && self.carry_len < self.carry.len() {
            let Some(&byte) = piece.get(used) else {
                return used;
            };
            self.carry[self.carry_len] = byte;
            self.carry_len += 1;
            used += 1;
            pushed += 1;
            let held = &self.carry[..self.carry_len];
            match std::str::from_utf8(held) {
                Ok(_) => {
                    out.extend_from_slice(held);
                    self.carry_len = 0;
                }
                Err(error) => {
                    let Some(len) = error.error_len() else {
                        continue;
                    };
                    let valid = error.valid_up_to();
                    escape_into(&held[..valid], out);
                    out.extend_from_slice(REPLACEMENT);
                    // What followed the invalid part came from `piece`: read it again.
                    let leftover = (self.carry_len - valid - len).min(pushed);
                    self.carry_len = 0;
                    return used - leftover;
                }
            }
        }
        used
    }
}

/// Whether a byte must be escaped inside a JSON string.
fn needs_escape(byte: u8) -> bool {
    byte < 0x20 || byte == b'"' || byte == b'\\'
}

/// Appends valid UTF-8 `text`, escaped, to `out`.
fn escape_into(text: &[u8], out: &mut Vec<u8>) {
    let mut start = 0;
    for (i, &byte) in text.iter().enumerate() {
        if !needs_escape(byte) {
            continue;
        }
        out.extend_from_slice(&text[start..i]);
        match byte {
            b'"' => out.extend_from_slice(b"\\\""),
            b'\\' => out.extend_from_slice(b"\\\\"),
            b'\n' => out.extend_from_slice(b"\\n"),
            b'\r' => out.extend_from_slice(b"\\r"),
            b'\t' => out.extend_from_slice(b"\\t"),
            0x08 => out.extend_from_slice(b"\\b"),
            0x0c => out.extend_from_slice(b"\\f"),
            _ => {
                const HEX: &[u8; 16] = b"0123456789abcdef";
                out.extend_from_slice(b"\\u00");
                out.push(HEX[usize::from(byte >> 4)]);
                out.push(HEX[usize::from(byte & 0x0f)]);
            }
        }
        start = i + 1;
    }
    out.extend_from_slice(&text[start..]);
}

#[cfg(test)]
mod tests {
    use super::StringEscaper;

    fn escape(pieces: &[&[u8]]) -> String {
        let mut escaper = StringEscaper::default();
        let mut out = Vec::new();
        for piece in pieces {
            escaper.push(piece, &mut out);
        }
        escaper.finish(&mut out);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn escapes_ascii_only() {
        assert_eq!(
            escape(&[b"a\"b\\c\n\t\x01\x1b", "é".as_bytes()]),
            "a\\\"b\\\\c\\n\\t\\u0001\\u001bé"
        );
    }

    #[test]
    fn split_character_and_invalid_bytes() {
        let euro = "€".as_bytes();
        assert_eq!(escape(&[&euro[..1], &euro[1..2], &euro[2..]]), "€");
        assert_eq!(
            escape(&[b"\xe2\x82", b"\"", b"\xff"]),
            "\u{FFFD}\\\"\u{FFFD}"
        );
        assert_eq!(escape(&[b"x\xf0\x9f"]), "x\u{FFFD}");
    }
}
