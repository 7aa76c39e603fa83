//! The ingest endpoint: `{base}/api/ingest/log`, checked before anything is sent.

use std::net::IpAddr;

/// The path of the ingest API under the base URL.
pub const INGEST_PATH: &str = "/api/ingest/log";

/// A checked ingest endpoint.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Endpoint {
    url: reqwest::Url,
}

/// Why a base URL cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum EndpointError {
    /// Not a URL.
    #[error(
        "`{url}` is not a valid URL ({reason}); expected something like https://api.exlogare.net"
    )]
    Invalid { url: String, reason: String },
    /// Not http(s).
    #[error(
        "`{url}` uses the scheme `{scheme}`; only https:// (or http:// to a loopback address) is supported"
    )]
    Scheme { url: String, scheme: String },
    /// Plain http to a non-loopback host.
    #[error(
        "`{url}` is plain http:// to a non-loopback host, which would send the token in clear; use https://, or pass --allow-http if you really mean it"
    )]
    PlainHttp { url: String },
    /// Credentials in the URL.
    #[error("the URL has a user name or password in it; pass the token in EXLOGARE_TOKEN instead")]
    Userinfo,
}

impl Endpoint {
    /// Checks `base` and appends the ingest path.
    pub fn from_base(base: &str, allow_http: bool) -> Result<Endpoint, EndpointError> {
        let trimmed = base.trim();
        let mut url = reqwest::Url::parse(trimmed).map_err(|e| EndpointError::Invalid {
            url: trimmed.to_string(),
            reason: e.to_string(),
        })?;
        if !url.username().is_empty() || url.password().is_some() {
            return Err(EndpointError::Userinfo);
        }
        match url.scheme() {
            "https" => {}
            "http" => {
                if !allow_http && !is_loopback(&url) {
                    return Err(EndpointError::PlainHttp {
                        url: trimmed.to_string(),
                    });
                }
            }
            other => {
                return Err(EndpointError::Scheme {
                    url: trimmed.to_string(),
                    scheme: other.to_string(),
                });
            }
        }
        if url.host_str().is_none() {
            return Err(EndpointError::Invalid {
                url: trimmed.to_string(),
                reason: "it has no host".into(),
            });
        }
        let path = format!("{}{}", url.path().trim_end_matches('/'), INGEST_PATH);
        url.set_path(&path);
        url.set_query(None);
        url.set_fragment(None);
        Ok(Endpoint { url })
    }

    /// Uses `url` as is (for re-sending a spooled payload to where it was meant to go).
    pub fn from_full_url(url: &str, allow_http: bool) -> Result<Endpoint, EndpointError> {
        let mut endpoint = Endpoint::from_base(url, allow_http)?;
        // from_base appended the ingest path; undo that for a full URL.
        let path = endpoint
            .url
            .path()
            .trim_end_matches(INGEST_PATH)
            .to_string();
        endpoint.url.set_path(&path);
        Ok(endpoint)
    }

    /// The URL.
    pub fn url(&self) -> &reqwest::Url {
        &self.url
    }

    /// Whether the host is a loopback address.
    pub fn is_loopback(&self) -> bool {
        is_loopback(&self.url)
    }
}

impl std::fmt::Display for Endpoint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.url.as_str())
    }
}

fn is_loopback(url: &reqwest::Url) -> bool {
    match url.host() {
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => IpAddr::V4(ip).is_loopback(),
        Some(url::Host::Ipv6(ip)) => IpAddr::V6(ip).is_loopback(),
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn appends_the_ingest_path() {
        let e = Endpoint::from_base("https://api.exlogare.net", false).unwrap();
        assert_eq!(e.url().as_str(), "https://api.exlogare.net/api/ingest/log");
        let e = Endpoint::from_base("https://x.example/prefix/", false).unwrap();
        assert_eq!(e.url().as_str(), "https://x.example/prefix/api/ingest/log");
    }

    #[test]
    fn refuses_plain_http_except_to_loopback() {
        assert!(Endpoint::from_base("http://127.0.0.1:8080", false).is_ok());
        assert!(Endpoint::from_base("http://localhost:8080", false).is_ok());
        assert!(Endpoint::from_base("http://[::1]:8080", false).is_ok());
        assert!(matches!(
            Endpoint::from_base("http://example.com", false),
            Err(EndpointError::PlainHttp { .. })
        ));
        assert!(Endpoint::from_base("http://example.com", true).is_ok());
        assert!(matches!(
            Endpoint::from_base("ftp://example.com", true),
            Err(EndpointError::Scheme { .. })
        ));
        assert!(matches!(
            Endpoint::from_base("not a url", true),
            Err(EndpointError::Invalid { .. })
        ));
        assert!(matches!(
            Endpoint::from_base("https://u:p@example.com", true),
            Err(EndpointError::Userinfo)
        ));
    }
}
