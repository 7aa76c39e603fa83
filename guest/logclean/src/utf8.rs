//! Incremental lossy UTF-8 decoding.
//!
//! Logs are raw bytes and arrive in chunks cut anywhere, but everything after this step (the
//! redactors, the JSON payload) wants valid UTF-8. This module turns bytes into valid text the
//! way `String::from_utf8_lossy` does (one U+FFFD per maximal invalid subpart), and carries an
//! incomplete multi-byte sequence from the end of one chunk to the next, so the result never
//! depends on where the chunks were cut.

/// U+FFFD REPLACEMENT CHARACTER, UTF-8 encoded.
const REPLACEMENT: &[u8] = "\u{FFFD}".as_bytes();

/// Streaming lossy decoder: feed it bytes, it hands out pieces of valid UTF-8.
///
/// Every piece it emits is valid UTF-8 on its own and ends on a character boundary.
#[derive(Debug, Default)]
pub(crate) struct Utf8Decoder {
    /// The start of a multi-byte character whose end has not arrived yet (at most 3 bytes).
    carry: [u8; 4],
    carry_len: usize,
    /// Input bytes that were replaced by U+FFFD so far.
    invalid_bytes: u64,
}

impl Utf8Decoder {
    /// Bytes of invalid UTF-8 replaced so far.
    pub(crate) fn invalid_bytes(&self) -> u64 {
        self.invalid_bytes
    }

    /// Decodes the next chunk, calling `emit` with each piece of valid text in order.
    pub(crate) fn feed(&mut self, input: &[u8], emit: &mut impl FnMut(&[u8])) {
        let start = self.complete_carry(input, emit);
        let mut rest = input.get(start..).unwrap_or_default();
        loop {
            match std::str::from_utf8(rest) {
                Ok(text) => {
                    if !text.is_empty() {
                        emit(text.as_bytes());
                    }
                    return;
                }
                Err(error) => {
                    let (valid, after) = rest.split_at(error.valid_up_to());
                    if !valid.is_empty() {
                        emit(valid);
                    }
                    match error.error_len() {
                        Some(len) => {
                            emit(REPLACEMENT);
                            self.invalid_bytes += len as u64;
                            rest = after.get(len..).unwrap_or_default();
                        }
                        None => {
                            // An incomplete character at the very end: keep it for later.
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

    /// Ends the input: an incomplete character left over becomes one U+FFFD.
    pub(crate) fn finish(&mut self, emit: &mut impl FnMut(&[u8])) {
        if self.carry_len > 0 {
            emit(REPLACEMENT);
            self.invalid_bytes += self.carry_len as u64;
            self.carry_len = 0;
        }
    }

    /// Completes (or rejects) the carried partial character with bytes from `input`, one at a
    /// time. Returns how many bytes of `input` are used up; the caller decodes the rest.
    fn complete_carry(&mut self, input: &[u8], emit: &mut impl FnMut(&[u8])) -> usize {
        let mut used = 0;
        let mut pushed = 0;
        while self.carry_len > 0 && self.carry_len < self.carry.len() {
            let Some(&byte) = input.get(used) else {
                return used;
            };
            self.carry[self.carry_len] = byte;
            self.carry_len += 1;
            used += 1;
            pushed += 1;
            let held = &self.carry[..self.carry_len];
            match std::str::from_utf8(held) {
                Ok(_) => {
                    emit(held);
                    self.carry_len = 0;
                }
                Err(error) => {
                    let Some(len) = error.error_len() else {
                        continue; // still a valid prefix: wait for more
                    };
                    let valid = error.valid_up_to();
                    if valid > 0 {
                        emit(&held[..valid]);
                    }
                    emit(REPLACEMENT);
                    self.invalid_bytes += len as u64;
                    // The bytes after the invalid part came from `input` (the carried prefix
                    // was valid on its own): decode them again as ordinary input.
                    let leftover = (self.carry_len - valid - len).min(pushed);
                    self.carry_len = 0;
                    return used - leftover;
                }
            }
        }
        used
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode(chunks: &[&[u8]]) -> (Vec<u8>, u64) {
        let mut decoder = Utf8Decoder::default();
        let mut out = Vec::new();
        for chunk in chunks {
            decoder.feed(chunk, &mut |piece| out.extend_from_slice(piece));
        }
        decoder.finish(&mut |piece| out.extend_from_slice(piece));
        (out, decoder.invalid_bytes())
    }

    #[test]
    fn euro_split_everywhere() {
        let euro = "€".as_bytes();
        for cut in 0..=euro.len() {
            let (out, bad) = decode(&[&euro[..cut], &euro[cut..]]);
            assert_eq!(out, euro);
            assert_eq!(bad, 0);
        }
    }

    #[test]
    fn broken_carry_is_replaced_and_rest_kept() {
        let (out, bad) = decode(&[b"a\xE2\x82", b"b"]);
        assert_eq!(String::from_utf8(out).unwrap(), "a\u{FFFD}b");
        assert_eq!(bad, 2);
    }

    #[test]
    fn incomplete_at_end_is_one_replacement() {
        let (out, bad) = decode(&[b"x\xF0\x9F", b"\x98"]);
        assert_eq!(String::from_utf8(out).unwrap(), "x\u{FFFD}");
        assert_eq!(bad, 3);
    }
}
