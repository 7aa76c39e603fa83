//! Routing decoded text: finding the few bytes that need attention.
//!
//! Almost every byte of a log is plain text that goes straight through. This module finds, with
//! memchr, the next byte that is not: NUL (dropped), ESC (the start of an escape sequence, when
//! stripping) and `\r` (handed to the line stage). Runs between them go to the line stage in
//! bulk; only the bytes inside escape sequences are looked at one by one.

use memchr::{memchr2, memchr3};

use crate::ansi::{EscState, Step};
use crate::lines::Lines;

const ESC: u8 = 0x1b;

/// The stage after UTF-8 decoding: NUL removal, escape stripping, then line assembly.
#[derive(Debug)]
pub(crate) struct Scanner {
    /// Remove escape sequences.
    strip_ansi: bool,
    /// Where we are inside an escape sequence.
    esc: EscState,
    /// The line stage.
    lines: Lines,
    /// NUL bytes dropped.
    pub(crate) nul_bytes: u64,
    /// Escape sequences dropped.
    pub(crate) ansi_sequences: u64,
}

impl Scanner {
    /// Makes a scanner feeding the given line stage.
    pub(crate) fn new(strip_ansi: bool, lines: Lines) -> Self {
        Scanner {
            strip_ansi,
            esc: EscState::Ground,
            lines,
            nul_bytes: 0,
            ansi_sequences: 0,
        }
    }

    /// Takes a piece of valid UTF-8 that starts and ends on character boundaries.
    pub(crate) fn scan(&mut self, text: &[u8], out: &mut Vec<u8>) {
        let mut i = 0;
        while let Some(rest) = text.get(i..).filter(|rest| !rest.is_empty()) {
            if self.esc == EscState::Ground {
                let special = if self.strip_ansi {
                    memchr3(ESC, b'\r', 0, rest)
                } else {
                    memchr2(b'\r', 0, rest)
                };
                let Some(at) = special else {
                    self.lines.text(rest, out);
                    return;
                };
                if at > 0 {
                    self.lines.text(&rest[..at], out);
                }
                match rest[at] {
                    0 => self.nul_bytes += 1,
                    b'\r' => self.lines.carriage_return(out),
                    _ => self.esc = EscState::Escape,
                }
                i += at + 1;
            } else {
                let byte = rest[0];
                if byte == 0 {
                    self.nul_bytes += 1;
                    i += 1;
                    continue;
                }
                match self.esc.step(byte) {
                    Step::Keep => i += 1,
                    Step::End => {
                        self.ansi_sequences += 1;
                        i += 1;
                    }
                    // The byte is read again in the new state.
                    Step::EndReprocess => self.ansi_sequences += 1,
                }
            }
        }
    }

    /// Ends the input: an unfinished escape sequence counts as one, and the last line is
    /// written out.
    pub(crate) fn finish(&mut self, out: &mut Vec<u8>) {
        if self.esc != EscState::Ground {
            self.ansi_sequences += 1;
            self.esc = EscState::Ground;
        }
        self.lines.finish(out);
    }
}
