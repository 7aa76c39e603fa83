//! Multi-line PEM private-key blocks.
//!
//! This module exists because a private key is the one secret that spans lines, and the engine
//! is otherwise line-oriented. It is a small state machine fed one complete line at a time: a
//! `-----BEGIN ... PRIVATE KEY-----` line (after any prefix, such as a timestamp) opens a block;
//! body lines (base64 after the same prefix shape) are replaced, the first by the placeholder
//! and the rest removed; header lines (`Proc-Type:`), blank lines and the `END` line are kept;
//! any other line closes the block, so an unterminated block is redacted only up to the first
//! line that is not PEM body. No line is ever held back for it.
//!
//! Body lines may carry a per-line prefix unlike the BEGIN line's: a timestamp whose length
//! varies (RFC 3339 with trimmed fractions), a docker multiplexed-stream header (`\x01` and a
//! length byte once its NUL bytes are removed), a `+ ` trace mark, a colour code. Such a line is
//! body when it ends in a base64 run and what comes before the run is *prefix-like*: short, and
//! made of digits, blanks, control and punctuation bytes (letters only those of the BEGIN
//! line's own prefix, and the `T`/`Z` of timestamps).
//!
//! A whole PEM block base64-encoded (a Kubernetes Secret `data:` value, a `*_B64` variable,
//! `base64` output wrapped at 76 columns) is found by the `private-key-base64` rule on its
//! first line; when that value runs to the end of its line, the [`PemState::Base64`] state
//! removes the base64 lines that continue it.

/// State carried from one line to the next.
#[derive(Clone, Debug, Default)]
pub(crate) enum PemState {
    /// Not inside a block.
    #[default]
    Outside,
    /// Inside a block opened by a BEGIN line.
    Inside {
        /// The BEGIN line's prefix with digits mapped to `0` (timestamps differ per line).
        prefix_shape: Vec<u8>,
        /// Whether the placeholder was already written for this block.
        placed: bool,
    },
    /// After a line whose base64-encoded PEM value ran to its end: the value's next lines.
    Base64 {
        /// The length of the first continuation line (`base64` wraps every line but the last
        /// at the same width); a shorter line is the last one.
        width: Option<usize>,
    },
}

/// How one line inside a block is treated.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum BodyLine {
    /// The END marker: kept, and the block ends.
    End,
    /// A header, or a blank line: kept, the block goes on.
    Keep,
    /// Base64 body at this byte range of the line: replaced, the block goes on.
    Body(usize, usize),
    /// Anything else: the block ends and the line is processed normally.
    NotBody,
}

fn shape(prefix: &[u8]) -> Vec<u8> {
    prefix
        .iter()
        .map(|&b| if b.is_ascii_digit() { b'0' } else { b })
        .collect()
}

fn trim_end(line: &[u8]) -> &[u8] {
    let mut end = line.len();
    while end > 0 && matches!(line[end - 1], b' ' | b'\t' | b'\r') {
        end -= 1;
    }
    &line[..end]
}

/// [`trim_end`], also dropping colour codes (`ESC [ digits ; m`) and non-ASCII bytes (such as
/// the U+FFFD left by invalid UTF-8) at the end of the line.
pub(crate) fn trim_end_ansi(line: &[u8]) -> &[u8] {
    let mut line = trim_end(line);
    while let Some(n) = line.iter().rev().position(|&b| b < 0x80).filter(|&n| n > 0) {
        line = trim_end(&line[..line.len() - n]);
    }
    while line.last() == Some(&b'm') {
        let params = line[..line.len() - 1]
            .iter()
            .rev()
            .take_while(|b| b.is_ascii_digit() || **b == b';')
            .count();
        let open = line.len() - 1 - params;
        if open >= 2 && &line[open - 2..open] == b"\x1b[" {
            line = trim_end(&line[..open - 2]);
        } else {
            break;
        }
    }
    line
}

fn is_base64(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'=')
}

/// The longest per-line prefix considered.
const MAX_PREFIX: usize = 64;

/// Whether `prefix` looks like a per-line prefix (a timestamp, a docker stream header, a trace
/// mark, a colour code, a `[job]` tag) rather than text: see the module comment. `begin_prefix`
/// is the BEGIN line's own prefix, whose letters are allowed.
fn prefix_like(prefix: &[u8], begin_prefix: &[u8]) -> bool {
    if prefix.len() > MAX_PREFIX {
        return false;
    }
    let mut i = 0;
    while i < prefix.len() {
        let b = prefix[i];
        if b == 0x1b && prefix.get(i + 1) == Some(&b'[') {
            // A colour code: ESC [ parameters final-letter.
            let params = prefix[i + 2..]
                .iter()
                .take_while(|b| b.is_ascii_digit() || **b == b';')
                .count();
            if prefix
                .get(i + 2 + params)
                .is_some_and(u8::is_ascii_alphabetic)
            {
                i += 3 + params;
                continue;
            }
        }
        let ok = b.is_ascii_digit()
            || b <= b' '
            || b >= 0x7f
            || b"-:.,+[](){}|>#*/_@=~<'\"".contains(&b)
            || b == b'T'
            || b == b'Z'
            || (b.is_ascii_alphabetic() && begin_prefix.contains(&b));
        if !ok {
            return false;
        }
        i += 1;
    }
    true
}

/// The start of the END marker of `line` when only a prefix-like prefix comes before it.
fn end_after_prefix(line: &[u8], begin_prefix: &[u8]) -> Option<usize> {
    let pos = memchr::memmem::find(line, b"END ")?;
    let mut start = pos;
    if start > 0 && line[start - 1] == b' ' {
        start -= 1;
    }
    while start > 0 && line[start - 1] == b'-' && pos - start < 6 {
        start -= 1;
    }
    marker(line, start, b"END ")?;
    prefix_like(&line[..start], begin_prefix).then_some(start)
}

/// Finds a dash marker such as `-----BEGIN ` or `---- BEGIN ` at `line[at..]`; returns its end.
fn marker(line: &[u8], at: usize, word: &[u8]) -> Option<usize> {
    let rest = line.get(at..)?;
    let dashes = rest.iter().take_while(|&&b| b == b'-').count();
    if !(4..=5).contains(&dashes) {
        return None;
    }
    let mut i = dashes;
    if rest.get(i) == Some(&b' ') {
        i += 1;
    }
    if rest.get(i..)?.starts_with(word) {
        Some(at + i + word.len())
    } else {
        None
    }
}

/// If `line` (without its newline) is a BEGIN line of a private key ending the line, returns
/// the byte length of the prefix before the marker.
pub(crate) fn begin_line(line: &[u8]) -> Option<usize> {
    let line = trim_end_ansi(line);
    if !(line.ends_with(b"PRIVATE KEY-----")
        || line.ends_with(b"PRIVATE KEY BLOCK-----")
        || line.ends_with(b"PRIVATE KEY ----")
        || line.ends_with(b"PRIVATE KEY ----")
        || line.ends_with(b"PRIVATE KEY----"))
    {
        return None;
    }
    let pos = memchr::memmem::find(line, b"BEGIN ")?;
    // Walk back over the dashes (and one space) before BEGIN.
    let mut start = pos;
    if start > 0 && line[start - 1] == b' ' {
        start -= 1;
    }
    while start > 0 && line[start - 1] == b'-' && pos - start < 6 {
        start -= 1;
    }
    let end = marker(line, start, b"BEGIN ")?;
    let middle = &line[end..];
    if !middle
        .iter()
        .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b" -".contains(b))
    {
        return None;
    }
    Some(start)
}

/// Opens a block for a BEGIN line whose prefix is `line[..prefix_len]`.
pub(crate) fn open(line: &[u8], prefix_len: usize) -> PemState {
    PemState::Inside {
        prefix_shape: shape(line.get(..prefix_len).unwrap_or_default()),
        placed: false,
    }
}

/// Classifies one line (without its newline) inside a block with this prefix shape.
pub(crate) fn classify(line: &[u8], prefix_shape: &[u8]) -> BodyLine {
    let line = trim_end_ansi(line);
    let same_prefix =
        line.len() >= prefix_shape.len() && shape(&line[..prefix_shape.len()]) == prefix_shape;
    if !line.is_empty() && shape(line) == trim_end(prefix_shape) {
        return BodyLine::Keep; // the prefix alone: a blank line of the block
    }
    let mut candidates = Vec::with_capacity(2);
    if same_prefix {
        candidates.push(prefix_shape.len());
    }
    // Also accept body lines that carry no prefix at all (`key: -----BEGIN ...` then the body).
    let indent = line
        .iter()
        .take_while(|&&b| b == b' ' || b == b'\t')
        .count();
    candidates.push(indent);
    for start in candidates {
        let rest = &line[start..];
        let lead = rest
            .iter()
            .take_while(|&&b| b == b' ' || b == b'\t')
            .count();
        let s = start + lead;
        let rest = &line[s..];
        if rest.is_empty() {
            return BodyLine::Keep;
        }
        if marker(line, s, b"END ").is_some() {
            return BodyLine::End;
        }
        if is_header(rest) {
            return BodyLine::Keep;
        }
        if rest.len() <= 128 && rest.iter().all(|&b| is_base64(b)) {
            return BodyLine::Body(s, line.len());
        }
    }
    // A prefix unlike the BEGIN line's (see the module comment).
    if end_after_prefix(line, prefix_shape).is_some() {
        return BodyLine::End;
    }
    let run = line.iter().rev().take_while(|&&b| is_base64(b)).count();
    let s = line.len() - run;
    if run <= 128 && prefix_like(&line[..s], prefix_shape) {
        return if run == 0 {
            BodyLine::Keep // a prefix alone: a blank line of the block
        } else {
            BodyLine::Body(s, line.len())
        };
    }
    BodyLine::NotBody
}

/// Classifies one line after a base64-encoded PEM value that ran to the end of its line:
/// `Body` when it is the value's next line (base64 after a prefix-like prefix or an indent,
/// no longer than `width` when set), else `NotBody`. A `Body` line ending in `=` padding or
/// shorter than `width` is the value's last: the caller closes the block after it.
pub(crate) fn classify_base64(line: &[u8], width: Option<usize>) -> BodyLine {
    let line = trim_end_ansi(line);
    let run = line.iter().rev().take_while(|&&b| is_base64(b)).count();
    let s = line.len() - run;
    if run == 0 || run > 128 || width.is_some_and(|w| run > w) || !prefix_like(&line[..s], b"") {
        return BodyLine::NotBody;
    }
    // Padding only at the end.
    let body = &line[s..];
    let pad = body.iter().rev().take_while(|&&b| b == b'=').count();
    if pad > 2 || body[..body.len() - pad].contains(&b'=') {
        return BodyLine::NotBody;
    }
    BodyLine::Body(s, line.len())
}

/// Whether the base64 body `line[s..e]` (from [`classify_base64`]) ends the value.
pub(crate) fn base64_last(line: &[u8], (s, e): (usize, usize), width: Option<usize>) -> bool {
    line[..e].ends_with(b"=") || width.is_some_and(|w| e - s < w)
}

/// `Proc-Type: 4,ENCRYPTED`, `DEK-Info: ...`, `Version: ...`, `Comment: ...`.
fn is_header(rest: &[u8]) -> bool {
    let name_len = rest
        .iter()
        .take_while(|b| b.is_ascii_alphanumeric() || **b == b'-')
        .count();
    (2..=32).contains(&name_len)
        && rest.get(name_len) == Some(&b':')
        && rest.first().is_some_and(u8::is_ascii_alphabetic)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn begin_lines() {
        assert_eq!(begin_line(b"-----BEGIN RSA PRIVATE KEY-----"), Some(0));
        assert_eq!(begin_line(b"-----BEGIN PRIVATE KEY-----\r"), Some(0));
        assert_eq!(
            begin_line(b"2024-01-02T03:04:05Z -----BEGIN OPENSSH PRIVATE KEY-----"),
            Some(21)
        );
        assert_eq!(
            begin_line(b"-----BEGIN PGP PRIVATE KEY BLOCK-----"),
            Some(0)
        );
        assert_eq!(
            begin_line(b"---- BEGIN SSH2 ENCRYPTED PRIVATE KEY ----"),
            Some(0)
        );
        assert_eq!(begin_line(b"-----BEGIN CERTIFICATE-----"), None);
        assert_eq!(begin_line(b"-----BEGIN PUBLIC KEY-----"), None);
        assert_eq!(begin_line(b"-----BEGIN RSA PRIVATE KEY----- MIIEabc"), None);
    }

    #[test]
    fn classify_lines() {
        let p = shape(b"2024-01-02T03:04:05Z ");
        assert_eq!(
            classify(b"2024-01-02T03:04:06Z MIIEowIBAAKCAQEA", &p),
            BodyLine::Body(21, 37)
        );
        assert_eq!(
            classify(b"2024-01-02T03:04:06Z -----END RSA PRIVATE KEY-----", &p),
            BodyLine::End
        );
        assert_eq!(
            classify(b"2024-01-02T03:04:06Z Proc-Type: 4,ENCRYPTED", &p),
            BodyLine::Keep
        );
        assert_eq!(classify(b"2024-01-02T03:04:06Z", &p), BodyLine::Keep);
        assert_eq!(
            classify(b"2024-01-02T03:04:06Z build finished ok", &p),
            BodyLine::NotBody
        );
        assert_eq!(
            classify(b"MIIEowIBAAKCAQEA", &shape(b"key: ")),
            BodyLine::Body(0, 16)
        );
    }
}
