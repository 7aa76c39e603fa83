//! Recognising terminal escape sequences, one byte at a time.
//!
//! CI logs are written for terminals: colours (SGR), cursor moves and line erases (CSI), window
//! titles and hyperlinks (OSC), and a few rarer kinds. None of it is readable in a payload. This
//! module is the state machine that tells, byte by byte, where such a sequence starts and ends,
//! so the scanner can drop it without ever buffering it: a sequence split across chunks, or an
//! unterminated one, costs no memory.
//!
//! The grammar follows ECMA-48 as terminals parse it, made forgiving for logs: a byte that
//! cannot continue a sequence ends it and is then read as ordinary text, and string sequences
//! (OSC, DCS, ...) also end at a line break, so that a stray `ESC ]` cannot swallow the log.

/// Where the parser is inside an escape sequence.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) enum EscState {
    /// Not inside a sequence.
    #[default]
    Ground,
    /// Just after ESC.
    Escape,
    /// After ESC and one or more intermediate bytes (`ESC ( B`).
    Intermediate,
    /// Inside a control sequence (`ESC [ ... final`).
    Csi,
    /// Inside a string sequence (OSC `ESC ]`, DCS `ESC P`, SOS, PM, APC), up to BEL or ST.
    Str,
    /// Inside a string sequence, just after an ESC that may start ST (`ESC \`).
    StrEsc,
}

/// What one byte did to the sequence being parsed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Step {
    /// The byte belongs to the sequence, which goes on.
    Keep,
    /// The byte ended the sequence and belongs to it.
    End,
    /// The sequence ended before this byte; the byte must be read again in the new state.
    EndReprocess,
}

const ESC: u8 = 0x1b;
const BEL: u8 = 0x07;

impl EscState {
    /// Advances over one byte (never NUL: the scanner drops those before) and says what it did.
    pub(crate) fn step(&mut self, byte: u8) -> Step {
        let (next, step) = match *self {
            EscState::Ground => (EscState::Escape, Step::Keep),
            EscState::Escape => match byte {
                b'[' => (EscState::Csi, Step::Keep),
                b']' | b'P' | b'X' | b'^' | b'_' => (EscState::Str, Step::Keep),
                0x20..=0x2f => (EscState::Intermediate, Step::Keep),
                0x30..=0x7e => (EscState::Ground, Step::End),
                _ => (EscState::Ground, Step::EndReprocess),
            },
            EscState::Intermediate => match byte {
                0x20..=0x2f => (EscState::Intermediate, Step::Keep),
                0x30..=0x7e => (EscState::Ground, Step::End),
                _ => (EscState::Ground, Step::EndReprocess),
            },
            EscState::Csi => match byte {
                0x20..=0x3f => (EscState::Csi, Step::Keep),
                0x40..=0x7e => (EscState::Ground, Step::End),
                _ => (EscState::Ground, Step::EndReprocess),
            },
            EscState::Str => match byte {
                BEL => (EscState::Ground, Step::End),
                ESC => (EscState::StrEsc, Step::Keep),
                b'\n' | b'\r' => (EscState::Ground, Step::EndReprocess),
                _ => (EscState::Str, Step::Keep),
            },
            EscState::StrEsc => match byte {
                b'\\' => (EscState::Ground, Step::End),
                // The ESC ended the string and starts a sequence of its own.
                _ => (EscState::Escape, Step::EndReprocess),
            },
        };
        *self = next;
        step
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Feeds `bytes` after an ESC and returns the steps.
    fn run(bytes: &[u8]) -> (Vec<Step>, EscState) {
        let mut state = EscState::Escape;
        let steps = bytes.iter().map(|&b| state.step(b)).collect();
        (steps, state)
    }

    #[test]
    fn sgr_ends_at_m() {
        let (steps, state) = run(b"[1;31m");
        assert_eq!(steps.last(), Some(&Step::End));
        assert_eq!(state, EscState::Ground);
    }

    #[test]
    fn osc_ends_at_st() {
        let (steps, state) = run(b"]8;;http://x\x1b\\");
        assert_eq!(steps.last(), Some(&Step::End));
        assert_eq!(state, EscState::Ground);
    }

    #[test]
    fn osc_ends_at_newline_which_is_kept() {
        let (steps, state) = run(b"]0;title\n");
        assert_eq!(steps.last(), Some(&Step::EndReprocess));
        assert_eq!(state, EscState::Ground);
    }

    #[test]
    fn csi_broken_by_text() {
        let (steps, _) = run("[3é".as_bytes());
        assert_eq!(steps[2], Step::EndReprocess);
    }
}
