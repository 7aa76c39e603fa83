//! Neutralising characters that could mislead a reader of the log, human or model.
//!
//! The log is untrusted text that the root-cause service hands to a language model. Bidi
//! overrides can make text read differently from what it is, zero-width characters can hide
//! words inside words, and control characters can rewrite a terminal. Each one is replaced by a
//! visible marker such as `<U+202E>` and counted, so the service sees them and knows they were
//! there. Tabs, line feeds and a carriage return right before a line feed are kept.

/// How many characters of each kind were replaced.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Neutralised {
    /// Bidi controls: U+202A–U+202E, U+2066–U+2069, U+200E, U+200F, U+061C.
    pub bidi: u64,
    /// Zero-width and invisible formatting characters: U+200B–U+200D, U+2060–U+2064, U+FEFF,
    /// U+180E, U+00AD.
    pub zero_width: u64,
    /// Other control characters: C0 except tab and line feed, DEL, C1.
    pub control: u64,
}

impl Neutralised {
    /// All replaced characters.
    pub fn total(&self) -> u64 {
        self.bidi + self.zero_width + self.control
    }
}

/// What kind of character `c` is, if it must be neutralised.
fn kind(c: char) -> Option<Kind> {
    match c {
        '\u{202A}'..='\u{202E}'
        | '\u{2066}'..='\u{2069}'
        | '\u{200E}'
        | '\u{200F}'
        | '\u{061C}' => Some(Kind::Bidi),
        '\u{200B}'..='\u{200D}'
        | '\u{2060}'..='\u{2064}'
        | '\u{FEFF}'
        | '\u{180E}'
        | '\u{00AD}' => Some(Kind::ZeroWidth),
        '\t' | '\n' => None,
        '\u{0}'..='\u{1F}' | '\u{7F}'..='\u{9F}' => Some(Kind::Control),
        _ => None,
    }
}

#[derive(Clone, Copy)]
enum Kind {
    Bidi,
    ZeroWidth,
    Control,
}

/// Appends `line` to `out` with every suspicious character replaced by `<U+XXXX>`, and counts
/// them. A `\r` right before the line's `\n`, or as its last character, is part of the line
/// end and kept.
///
/// With `keep_terminal` the escape character and carriage returns are kept too: the user asked
/// for the log's terminal codes (`--keep-ansi`).
pub fn neutralise_into(
    line: &str,
    out: &mut String,
    counts: &mut Neutralised,
    keep_terminal: bool,
) {
    // Fast path: nothing to replace in plain ASCII text without controls (one pass).
    let bytes = line.as_bytes();
    if bytes
        .iter()
        .all(|&b| (0x20..0x7F).contains(&b) || b == b'\t' || b == b'\n')
    {
        out.push_str(line);
        return;
    }
    let crlf_at = line
        .strip_suffix("\r\n")
        .map(str::len)
        .or_else(|| line.strip_suffix('\r').map(str::len));
    if bytes
        .iter()
        .all(|&b| (0x20..0x7F).contains(&b) || b == b'\t' || b == b'\n' || b == b'\r')
        && !bytes
            .iter()
            .enumerate()
            .any(|(i, &b)| b == b'\r' && Some(i) != crlf_at)
    {
        out.push_str(line);
        return;
    }
    for (i, c) in line.char_indices() {
        if (c == '\r' && Some(i) == crlf_at) || (keep_terminal && (c == '\r' || c == '\u{1b}')) {
            out.push(c);
            continue;
        }
        match kind(c) {
            None => out.push(c),
            Some(k) => {
                match k {
                    Kind::Bidi => counts.bidi += 1,
                    Kind::ZeroWidth => counts.zero_width += 1,
                    Kind::Control => counts.control += 1,
                }
                out.push_str(&format!("<U+{:04X}>", c as u32));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(s: &str) -> (String, Neutralised) {
        let mut out = String::new();
        let mut n = Neutralised::default();
        neutralise_into(s, &mut out, &mut n, false);
        (out, n)
    }

    #[test]
    fn plain_text_is_unchanged() {
        assert_eq!(run("error: x\tfailed\n").0, "error: x\tfailed\n");
        assert_eq!(run("crlf line\r\n").0, "crlf line\r\n");
        assert_eq!(run("übung ✓\n").0, "übung ✓\n");
    }

    #[test]
    fn keep_ansi_keeps_escapes_and_carriage_returns_only() {
        let mut out = String::new();
        let mut n = Neutralised::default();
        neutralise_into(
            "\u{1b}[31merr\u{1b}[0m 10%\r55%\u{202E}\n",
            &mut out,
            &mut n,
            true,
        );
        assert_eq!(out, "\u{1b}[31merr\u{1b}[0m 10%\r55%<U+202E>\n");
        assert_eq!(n.total(), 1);
    }

    #[test]
    fn bidi_zero_width_and_controls_are_marked_and_counted() {
        let (out, n) = run("a\u{202E}b\u{200B}c\u{7}d\u{1b}e\rf\n");
        assert_eq!(out, "a<U+202E>b<U+200B>c<U+0007>d<U+001B>e<U+000D>f\n");
        assert_eq!(
            n,
            Neutralised {
                bidi: 1,
                zero_width: 1,
                control: 3
            }
        );
        assert_eq!(n.total(), 5);
    }
}
