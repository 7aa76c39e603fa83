//! The HTTP client: POSTs a finished payload, retrying what is worth retrying, and never past
//! the deadline.
//!
//! reqwest with rustls: the trust store is the system's (rustls-native-certs, which also honours
//! `SSL_CERT_FILE`/`SSL_CERT_DIR`) plus the bundled Mozilla roots plus any `--ca-file`.
//! Proxies come from `HTTPS_PROXY`/`HTTP_PROXY`/`ALL_PROXY`/`NO_PROXY` (either case), with
//! credentials taken from the proxy URL; those credentials are scrubbed from every message.

use std::path::PathBuf;
use std::time::{Duration, Instant, SystemTime};

use crate::endpoint::Endpoint;
use crate::retry::{RetryPolicy, Verdict, parse_retry_after, verdict};

/// An attempt is not started with less time than this left.
const MIN_ATTEMPT: Duration = Duration::from_millis(200);

/// How the client is built.
#[derive(Clone, Debug)]
pub struct UploaderConfig {
    /// Extra CA certificates (PEM files), added to the system's trust store.
    pub ca_files: Vec<PathBuf>,
    /// Time to establish a connection (capped by the time left).
    pub connect_timeout: Duration,
    /// Time one attempt may take (capped by the time left).
    pub attempt_timeout: Duration,
    /// The spacing of retries.
    pub retry: RetryPolicy,
    /// The User-Agent.
    pub user_agent: String,
}

impl Default for UploaderConfig {
    fn default() -> Self {
        UploaderConfig {
            ca_files: Vec::new(),
            connect_timeout: Duration::from_secs(10),
            attempt_timeout: Duration::from_secs(60),
            retry: RetryPolicy::default(),
            user_agent: format!("exlogare/{}", env!("CARGO_PKG_VERSION")),
        }
    }
}

/// How the body travels.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Encoding {
    /// As is.
    #[default]
    Identity,
    /// `Content-Encoding: gzip`.
    Gzip,
}

/// One payload to send.
#[derive(Clone, Debug)]
pub struct Request<'a> {
    /// Where.
    pub endpoint: &'a Endpoint,
    /// The bearer token (only ever put in the Authorization header).
    pub token: &'a str,
    /// The JSON body (owned and cheap to clone: every attempt shares it, no copy is made).
    pub body: bytes::Bytes,
    /// Same for every attempt of one payload.
    pub idempotency_key: &'a str,
    /// Compression on the wire.
    pub encoding: Encoding,
}

/// The server accepted the payload.
#[derive(Clone, Debug)]
pub struct Delivered {
    /// HTTP status.
    pub status: u16,
    /// The status's reason phrase.
    pub reason: String,
    /// The start of the response body, for the summary.
    pub body_excerpt: String,
    /// Attempts made.
    pub attempts: u32,
    /// Why each earlier attempt was retried (`HTTP 503`, `connection reset`...).
    pub retried: Vec<String>,
    /// Bytes on the wire (after compression).
    pub wire_bytes: u64,
}

/// Why a payload was not delivered. Never contains the token nor proxy credentials.
#[derive(Debug, thiserror::Error)]
pub enum DeliveryError {
    /// The client could not be set up (bad CA file...).
    #[error("cannot set up the HTTP client: {0}")]
    Setup(String),
    /// No HTTP answer: DNS, connection refused or reset, TLS.
    #[error("could not reach {endpoint}: {reason}")]
    Network { endpoint: String, reason: String },
    /// No answer in time.
    #[error("no answer from {endpoint} within {}", secs(*.after))]
    Timeout { endpoint: String, after: Duration },
    /// The deadline left no time for an attempt.
    #[error("no time was left before the deadline to reach {endpoint}")]
    NoTime { endpoint: String },
    /// The server answered with an error status.
    #[error("{endpoint} answered HTTP {status}{}{}", reason_of(.reason), excerpt_of(.body_excerpt))]
    Http {
        endpoint: String,
        status: u16,
        reason: String,
        body_excerpt: String,
        /// The server's `Retry-After`, if any.
        retry_after: Option<Duration>,
    },
}

impl DeliveryError {
    /// The HTTP status, when the server answered.
    pub fn status(&self) -> Option<u16> {
        match self {
            DeliveryError::Http { status, .. } => Some(*status),
            _ => None,
        }
    }

    /// A few words for the summary of retried attempts.
    fn short(&self) -> String {
        match self {
            DeliveryError::Setup(_) => "setup".into(),
            DeliveryError::Network { reason, .. } => {
                let r = reason.to_ascii_lowercase();
                if r.contains("refused") {
                    "connection refused".into()
                } else if r.contains("reset") || r.contains("closed") || r.contains("incomplete") {
                    "connection closed".into()
                } else {
                    "network error".into()
                }
            }
            DeliveryError::Timeout { .. } => "timeout".into(),
            DeliveryError::NoTime { .. } => "no time left".into(),
            DeliveryError::Http { status, .. } => format!("HTTP {status}"),
        }
    }
}

/// Why delivery stopped.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stop {
    /// The server refused the payload for good (400, 401, 403, 404, 422...), or the client
    /// could not be set up.
    Permanent,
    /// The server refused it as too large (413): shrink and try again.
    TooLarge,
    /// Out of time: the deadline came before an attempt succeeded.
    Deadline,
    /// The server asked to come back (`Retry-After`) later than the deadline allows.
    RetryAfterTooLong(Duration),
}

/// A payload that was not delivered.
#[derive(Debug)]
pub struct Undelivered {
    /// The last attempt's error.
    pub error: Box<DeliveryError>,
    /// Attempts made.
    pub attempts: u32,
    /// Why there is no further attempt.
    pub stop: Stop,
    /// Why each earlier attempt was retried.
    pub retried: Vec<String>,
}

impl std::fmt::Display for Undelivered {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.error)?;
        let tries = if self.attempts == 1 {
            "1 attempt".to_string()
        } else {
            format!("{} attempts", self.attempts)
        };
        match self.stop {
            Stop::Permanent | Stop::TooLarge => write!(f, " ({tries}; not retried)"),
            Stop::Deadline => write!(f, " ({tries}; gave up at the deadline)"),
            Stop::RetryAfterTooLong(wait) => write!(
                f,
                " ({tries}; the server asked to retry after {}, past the deadline)",
                secs(wait)
            ),
        }
    }
}

fn secs(d: Duration) -> String {
    format!("{:.1} s", d.as_secs_f64())
}

fn reason_of(reason: &str) -> String {
    if reason.is_empty() {
        String::new()
    } else {
        format!(" {reason}")
    }
}

fn excerpt_of(excerpt: &str) -> String {
    if excerpt.trim().is_empty() {
        String::new()
    } else {
        format!(": {}", excerpt.trim())
    }
}

/// Sends payloads.
pub struct Uploader {
    client: reqwest::Client,
    runtime: tokio::runtime::Runtime,
    config: UploaderConfig,
    /// Proxy credentials found in the environment, scrubbed from every message.
    hidden: Vec<String>,
}

impl Uploader {
    /// Builds the client.
    pub fn new(config: &UploaderConfig) -> Result<Uploader, DeliveryError> {
        let hidden = proxy_credentials();
        let mut builder = reqwest::Client::builder()
            .use_rustls_tls()
            .connect_timeout(config.connect_timeout)
            .user_agent(config.user_agent.clone())
            .redirect(reqwest::redirect::Policy::none());
        for path in &config.ca_files {
            let pem = std::fs::read(path).map_err(|e| {
                DeliveryError::Setup(format!("cannot read CA file {}: {e}", path.display()))
            })?;
            let certs = reqwest::Certificate::from_pem_bundle(&pem).map_err(|e| {
                DeliveryError::Setup(format!(
                    "CA file {} is not PEM certificates: {e}",
                    path.display()
                ))
            })?;
            if certs.is_empty() {
                return Err(DeliveryError::Setup(format!(
                    "CA file {} holds no certificate",
                    path.display()
                )));
            }
            for cert in certs {
                builder = builder.add_root_certificate(cert);
            }
        }
        let client = builder
            .build()
            .map_err(|e| DeliveryError::Setup(scrub(&error_chain(&e), &hidden)))?;
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| DeliveryError::Setup(e.to_string()))?;
        Ok(Uploader {
            client,
            runtime,
            config: config.clone(),
            hidden,
        })
    }

    /// Delivers one payload: attempts, and retries what is worth retrying with a jittered
    /// exponential backoff (or the server's `Retry-After`), until it is accepted, refused for
    /// good, or `deadline` comes. Returns by `deadline` (give or take a few milliseconds).
    pub fn deliver(
        &self,
        request: &Request<'_>,
        deadline: Instant,
    ) -> Result<Delivered, Undelivered> {
        // Every attempt shares the caller's body (or one gzipped copy of it): `Bytes` clones
        // never copy a body of up to the size budget.
        let wire: bytes::Bytes = match request.encoding {
            Encoding::Identity => request.body.clone(),
            Encoding::Gzip => gzip(&request.body)
                .map_err(|e| Undelivered {
                    error: Box::new(DeliveryError::Setup(format!(
                        "cannot gzip the payload: {e}"
                    ))),
                    attempts: 0,
                    stop: Stop::Permanent,
                    retried: Vec::new(),
                })?
                .into(),
        };
        self.runtime
            .block_on(self.deliver_async(request, &wire, deadline))
    }

    async fn deliver_async(
        &self,
        request: &Request<'_>,
        wire: &bytes::Bytes,
        deadline: Instant,
    ) -> Result<Delivered, Undelivered> {
        let mut attempts = 0u32;
        let mut retried: Vec<String> = Vec::new();
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            attempts += 1;
            let timeout = self.config.attempt_timeout.min(left);
            let result = self.attempt(request, wire, timeout).await;
            let error = match result {
                Ok(mut delivered) => {
                    delivered.attempts = attempts;
                    delivered.retried = retried;
                    return Ok(delivered);
                }
                Err(e) => e,
            };
            let give_up = |error, stop, retried| {
                Err(Undelivered {
                    error: Box::new(error),
                    attempts,
                    stop,
                    retried,
                })
            };
            let (v, retry_after) = match &error {
                DeliveryError::Setup(_) => (Verdict::Permanent, None),
                DeliveryError::Network { .. }
                | DeliveryError::Timeout { .. }
                | DeliveryError::NoTime { .. } => (Verdict::Retry, None),
                DeliveryError::Http {
                    status,
                    retry_after,
                    ..
                } => (verdict(*status), *retry_after),
            };
            match v {
                Verdict::Done | Verdict::Permanent => {
                    return give_up(error, Stop::Permanent, retried);
                }
                Verdict::TooLarge => return give_up(error, Stop::TooLarge, retried),
                Verdict::Retry => {}
            }
            let wait = retry_after.unwrap_or_else(|| self.config.retry.backoff(attempts));
            let left = deadline.saturating_duration_since(Instant::now());
            if wait + MIN_ATTEMPT > left {
                let stop = match retry_after {
                    Some(asked) if asked + MIN_ATTEMPT > left && left > MIN_ATTEMPT => {
                        Stop::RetryAfterTooLong(asked)
                    }
                    _ => Stop::Deadline,
                };
                return give_up(error, stop, retried);
            }
            retried.push(error.short());
            tokio::time::sleep(wait).await;
        }
    }

    /// One POST, within `timeout`.
    async fn attempt(
        &self,
        request: &Request<'_>,
        wire: &bytes::Bytes,
        timeout: Duration,
    ) -> Result<Delivered, DeliveryError> {
        let endpoint = request.endpoint.to_string();
        if timeout < MIN_ATTEMPT {
            return Err(DeliveryError::NoTime { endpoint });
        }
        let mut builder = self
            .client
            .post(request.endpoint.url().clone())
            .timeout(timeout)
            .bearer_auth(request.token)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .header("Idempotency-Key", request.idempotency_key);
        if request.encoding == Encoding::Gzip {
            builder = builder.header(reqwest::header::CONTENT_ENCODING, "gzip");
        }
        let started = Instant::now();
        let exchange = async {
            let response = builder.body(wire.clone()).send().await?;
            let status = response.status();
            let retry_after = response
                .headers()
                .get(reqwest::header::RETRY_AFTER)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| parse_retry_after(v, SystemTime::now()));
            let body = response.bytes().await.unwrap_or_default();
            Ok::<_, reqwest::Error>((status, retry_after, body))
        };
        // reqwest's timeout covers the whole exchange; this outer one is a belt and braces.
        let outcome =
            match tokio::time::timeout(timeout + Duration::from_millis(50), exchange).await {
                Ok(outcome) => outcome,
                Err(_) => {
                    return Err(DeliveryError::Timeout {
                        endpoint,
                        after: started.elapsed(),
                    });
                }
            };
        let (status, retry_after, body) = outcome.map_err(|e| {
            if e.is_timeout() {
                DeliveryError::Timeout {
                    endpoint: endpoint.clone(),
                    after: started.elapsed(),
                }
            } else {
                DeliveryError::Network {
                    endpoint: endpoint.clone(),
                    reason: scrub(&error_chain(&e), &self.hidden),
                }
            }
        })?;
        let reason = status.canonical_reason().unwrap_or("").to_string();
        let body_excerpt = scrub(&excerpt(&body), &self.hidden);
        if status.is_success() {
            Ok(Delivered {
                status: status.as_u16(),
                reason,
                body_excerpt,
                attempts: 1,
                retried: Vec::new(),
                wire_bytes: wire.len() as u64,
            })
        } else {
            Err(DeliveryError::Http {
                endpoint,
                status: status.as_u16(),
                reason,
                body_excerpt,
                retry_after,
            })
        }
    }
}

/// Gzips a body.
fn gzip(body: &[u8]) -> std::io::Result<Vec<u8>> {
    use std::io::Write;
    let mut gz = flate2::write::GzEncoder::new(
        Vec::with_capacity(body.len() / 4),
        flate2::Compression::default(),
    );
    gz.write_all(body)?;
    gz.finish()
}

/// The first 200 characters of a response body, on one line.
fn excerpt(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    let one_line: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    one_line.chars().take(200).collect()
}

/// An error and its causes, on one line (reqwest's Display alone says little).
fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        if !text.contains(&cause_text) {
            text.push_str(": ");
            text.push_str(&cause_text);
        }
        source = cause.source();
    }
    text
}

/// The user:password parts of the proxy URLs in the environment (both spellings, raw and
/// percent-decoded), longest first.
fn proxy_credentials() -> Vec<String> {
    let mut found = Vec::new();
    for name in [
        "HTTPS_PROXY",
        "https_proxy",
        "HTTP_PROXY",
        "http_proxy",
        "ALL_PROXY",
        "all_proxy",
    ] {
        let Some(value) = std::env::var_os(name) else {
            continue;
        };
        let value = value.to_string_lossy().into_owned();
        let with_scheme = if value.contains("://") {
            value.clone()
        } else {
            format!("http://{value}")
        };
        if let Ok(url) = reqwest::Url::parse(&with_scheme)
            && let Some(password) = url.password().filter(|p| !p.is_empty())
        {
            found.push(password.to_string());
            if let Ok(decoded) = percent_decode(password) {
                found.push(decoded);
            }
        }
        // The raw userinfo, in case a message quotes the URL.
        if let Some((userinfo, _)) = with_scheme
            .split_once("://")
            .and_then(|(_, rest)| rest.rsplit_once('@'))
            .filter(|(u, _)| u.contains(':'))
        {
            found.push(userinfo.to_string());
        }
    }
    found.retain(|s| s.len() >= 3);
    found.sort_by_key(|s| std::cmp::Reverse(s.len()));
    found.dedup();
    found
}

fn percent_decode(text: &str) -> Result<String, std::string::FromUtf8Error> {
    let hex = |b: u8| (b as char).to_digit(16).map(|d| d as u8);
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && i + 2 < bytes.len()
            && let (Some(hi), Some(lo)) = (hex(bytes[i + 1]), hex(bytes[i + 2]))
        {
            out.push(hi << 4 | lo);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8(out)
}

/// `text` with each of `hidden` replaced by `***`.
fn scrub(text: &str, hidden: &[String]) -> String {
    let mut out = text.to_string();
    for h in hidden {
        if out.contains(h.as_str()) {
            out = out.replace(h.as_str(), "***");
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scrubs_and_decodes() {
        assert_eq!(percent_decode("p%40ss").unwrap(), "p@ss");
        assert_eq!(percent_decode("100%").unwrap(), "100%");
        assert_eq!(
            scrub(
                "proxy u:p@ss@h failed, p@ss",
                &["u:p@ss".into(), "p@ss".into()]
            ),
            "proxy ***@h failed, ***"
        );
    }

    #[test]
    fn a_passed_deadline_sends_nothing_and_says_so() {
        let uploader = Uploader::new(&UploaderConfig::default()).unwrap();
        // Nothing listens on port 9 of 127.0.0.1, and nothing is tried anyway.
        let endpoint = Endpoint::from_base("http://127.0.0.1:9", false).unwrap();
        let request = Request {
            endpoint: &endpoint,
            token: "t",
            body: bytes::Bytes::from_static(b"{}"),
            idempotency_key: "k",
            encoding: Encoding::Identity,
        };
        let started = Instant::now();
        let u = uploader.deliver(&request, Instant::now()).unwrap_err();
        assert!(started.elapsed() < Duration::from_millis(100));
        assert!(matches!(*u.error, DeliveryError::NoTime { .. }), "{u}");
        assert_eq!(u.stop, Stop::Deadline);
        assert!(
            u.to_string()
                .contains("no time was left before the deadline"),
            "{u}"
        );
    }

    #[test]
    fn the_system_trust_store_is_found() {
        // rustls-native-certs reads what reqwest reads; on a machine with a CA bundle it
        // must find certificates, or https to public hosts would fail.
        let bundle = [
            "/etc/ssl/certs/ca-certificates.crt",
            "/etc/pki/tls/certs/ca-bundle.crt",
        ]
        .iter()
        .any(|p| std::path::Path::new(p).is_file());
        let found = rustls_native_certs::load_native_certs();
        if bundle {
            assert!(
                !found.certs.is_empty(),
                "no system root certificates: {:?}",
                found.errors
            );
        }
        assert!(Uploader::new(&UploaderConfig::default()).is_ok());
    }
}
