//! Small URL helpers: removing credentials, building links from parts.
//!
//! CI variables hold URLs with credentials in them (`CI_REPOSITORY_URL` embeds
//! `gitlab-ci-token:<job token>@`, Azure's repository URI an account name), and some providers
//! give only the parts of a link. No URL library is needed for this, and none is pulled in.

/// Removes the `user:password@` part of a URL's authority, if any. Text that is not a
/// `scheme://` URL is returned as it is.
pub(crate) fn strip_userinfo(url: &str) -> String {
    let Some(scheme_end) = url.find("://") else {
        return url.to_string();
    };
    let authority_start = scheme_end + 3;
    let rest = &url[authority_start..];
    let authority_len = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let authority = &rest[..authority_len];
    match authority.rfind('@') {
        Some(at) => format!(
            "{}{}",
            &url[..authority_start],
            &url[authority_start + at + 1..]
        ),
        None => url.to_string(),
    }
}

/// Percent-encodes one path segment (spaces in an Azure DevOps project name, ...).
pub(crate) fn encode_segment(segment: &str) -> String {
    let mut out = String::with_capacity(segment.len());
    for byte in segment.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// Joins a base URL and a path with exactly one `/` between them.
pub(crate) fn join(base: &str, path: &str) -> String {
    format!(
        "{}/{}",
        base.trim_end_matches('/'),
        path.trim_start_matches('/')
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn userinfo_is_removed() {
        assert_eq!(
            strip_userinfo("https://gitlab-ci-token:glcbt-abc@gitlab.example.com/g/p.git"),
            "https://gitlab.example.com/g/p.git"
        );
        assert_eq!(
            strip_userinfo("https://org@dev.azure.com/org/p/_git/r"),
            "https://dev.azure.com/org/p/_git/r"
        );
        assert_eq!(strip_userinfo("https://host/path@x"), "https://host/path@x");
        assert_eq!(
            strip_userinfo("git@github.com:o/r.git"),
            "git@github.com:o/r.git"
        );
        assert_eq!(strip_userinfo("https://a:b@c"), "https://c");
    }

    #[test]
    fn segments_and_joins() {
        assert_eq!(encode_segment("My Project"), "My%20Project");
        assert_eq!(join("https://x/", "/a"), "https://x/a");
    }
}
