//! GitLab collapsible-section markers.
//!
//! gitlab-runner (and scripts following GitLab's docs) write
//! `ESC[0Ksection_start:<unix time>:<name>[collapsed=true]\rESC[0K<header>` and
//! `ESC[0Ksection_end:<unix time>:<name>\rESC[0K`. GitLab's web view folds them away; in a
//! payload they are noise that hides where a step began. This module recognises one such
//! marker in a line segment (the text before its `\r`) and renders the readable header that
//! replaces it. The timestamp is dropped: it is the same for every line of the section.

/// The ESC[0K (erase line) that usually precedes a marker, when escape codes are kept.
const ERASE_LINE: &[u8] = b"\x1b[0K";

/// Parses `segment` as a whole section marker; returns the header line (without its newline)
/// that replaces it, or `None` when the segment is anything else.
pub(crate) fn header(segment: &[u8]) -> Option<Vec<u8>> {
    let mut rest = segment;
    while let Some(after) = rest.strip_prefix(ERASE_LINE) {
        rest = after;
    }
    let (prefix, rest) = if let Some(rest) = rest.strip_prefix(b"section_start:") {
        (&b"--- section "[..], rest)
    } else if let Some(rest) = rest.strip_prefix(b"section_end:") {
        (&b"--- end "[..], rest)
    } else {
        return None;
    };
    let digits = rest.iter().take_while(|b| b.is_ascii_digit()).count();
    if digits == 0 {
        return None;
    }
    let rest = rest.get(digits..)?.strip_prefix(b":")?;
    let name_len = rest.iter().take_while(|&&b| is_name_byte(b)).count();
    if name_len == 0 {
        return None;
    }
    let (name, options) = rest.split_at(name_len);
    if !options.is_empty() {
        let inner = options.strip_prefix(b"[")?.strip_suffix(b"]")?;
        if !inner.iter().all(|&b| is_option_byte(b)) {
            return None;
        }
    }
    let mut line = Vec::with_capacity(prefix.len() + name.len() + 4);
    line.extend_from_slice(prefix);
    line.extend_from_slice(name);
    line.extend_from_slice(b" ---");
    Some(line)
}

/// The characters GitLab allows in a section name.
fn is_name_byte(byte: u8) -> bool {
    byte.is_ascii_alphanumeric() || matches!(byte, b'_' | b'.' | b'-')
}

/// The characters of section options such as `collapsed=true,hide_duration=true`.
fn is_option_byte(byte: u8) -> bool {
    byte.is_ascii_alphanumeric() || matches!(byte, b'_' | b'=' | b',')
}

#[cfg(test)]
mod tests {
    use super::header;

    fn text(segment: &[u8]) -> Option<String> {
        header(segment).map(|h| String::from_utf8(h).unwrap())
    }

    #[test]
    fn start_and_end() {
        assert_eq!(
            text(b"section_start:1700000000:build_script[collapsed=true]").as_deref(),
            Some("--- section build_script ---")
        );
        assert_eq!(
            text(b"\x1b[0Ksection_end:1700000000:build_script").as_deref(),
            Some("--- end build_script ---")
        );
    }

    #[test]
    fn not_markers() {
        for s in [
            &b"section_start::x"[..],
            b"section_start:12:",
            b"section_start:12:a b",
            b"section_start:12:ab[x",
            b"echo section_start:12:ab",
            b"",
        ] {
            assert_eq!(text(s), None, "{:?}", String::from_utf8_lossy(s));
        }
    }
}
