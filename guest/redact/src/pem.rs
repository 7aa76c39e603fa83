//! Multi-line PEM private-key blocks.
//!
//! This module exists because a private key is the one secret that spans lines, and the engine
//! is otherwise line-oriented. It is a small state machine fed one complete line at a time: a
//! `-----BEGIN ... PRIVATE KEY-----` line (after any prefix, such as a timestamp) opens a block;
//! body lines (base64 after the same prefix shape) are replaced, the first by the placeholder
//! and the rest removed; header lines (`Proc-Type:`), blank lines and the `END` line are kept;
//! any other line closes the block, so an unterminated block is redacted only up to the first
//! line that is not PEM body. No line is ever held back for it.

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
    let line = trim_end(line);
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
    let line = trim_end(line);
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
        if rest.len() <= 128
            && rest
                .iter()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'='))
        {
            return BodyLine::Body(s, line.len());
        }
    }
    BodyLine::NotBody
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
