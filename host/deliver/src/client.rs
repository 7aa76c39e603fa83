//! The HTTP client: one POST of a finished payload, its outcome classified.

use std::path::PathBuf;
use std::time::Duration;

use crate::endpoint::Endpoint;

/// How the client is built.
#[derive(Clone, Debug)]
pub struct UploaderConfig {
    /// Extra CA certificates (PEM), added to the system's trust store.
    pub ca_file: Option<PathBuf>,
    /// Time to establish a connection.
    pub connect_timeout: Duration,
    /// Time one attempt may take.
    pub attempt_timeout: Duration,
    /// The User-Agent.
    pub user_agent: String,
}

impl Default for UploaderConfig {
    fn default() -> Self {
        UploaderConfig {
            ca_file: None,
            connect_timeout: Duration::from_secs(10),
            attempt_timeout: Duration::from_secs(60),
            user_agent: format!("exlogare/{}", env!("CARGO_PKG_VERSION")),
        }
    }
}

/// One payload to send.
#[derive(Clone, Debug)]
pub struct Request<'a> {
    /// Where.
    pub endpoint: &'a Endpoint,
    /// The bearer token (only ever put in the Authorization header).
    pub token: &'a str,
    /// The JSON body.
    pub body: &'a [u8],
    /// Same for every attempt of one payload.
    pub idempotency_key: &'a str,
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
}

/// Why a payload was not delivered. Never contains the token.
#[derive(Debug, thiserror::Error)]
pub enum DeliveryError {
    /// The client could not be set up (bad CA file...).
    #[error("cannot set up the HTTP client: {0}")]
    Setup(String),
    /// No HTTP answer: DNS, connection refused or reset, TLS, timeout.
    #[error("could not reach {endpoint}: {reason}")]
    Network { endpoint: String, reason: String },
    /// The server answered with an error status.
    #[error("{endpoint} answered HTTP {status}{}{}", reason_of(.reason), excerpt_of(.body_excerpt))]
    Http {
        endpoint: String,
        status: u16,
        reason: String,
        body_excerpt: String,
    },
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
}

impl Uploader {
    /// Builds the client.
    pub fn new(config: &UploaderConfig) -> Result<Uploader, DeliveryError> {
        let mut builder = reqwest::Client::builder()
            .use_rustls_tls()
            .connect_timeout(config.connect_timeout)
            .timeout(config.attempt_timeout)
            .user_agent(config.user_agent.clone())
            .redirect(reqwest::redirect::Policy::none());
        if let Some(path) = &config.ca_file {
            let pem = std::fs::read(path).map_err(|e| {
                DeliveryError::Setup(format!("cannot read CA file {}: {e}", path.display()))
            })?;
            let certs = reqwest::Certificate::from_pem_bundle(&pem).map_err(|e| {
                DeliveryError::Setup(format!("CA file {} is not PEM certificates: {e}", path.display()))
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
            .map_err(|e| DeliveryError::Setup(error_chain(&e)))?;
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| DeliveryError::Setup(e.to_string()))?;
        Ok(Uploader { client, runtime })
    }

    /// POSTs one payload once.
    pub fn send(&self, request: &Request<'_>) -> Result<Delivered, DeliveryError> {
        self.runtime.block_on(self.attempt(request))
    }

    async fn attempt(&self, request: &Request<'_>) -> Result<Delivered, DeliveryError> {
        let endpoint = request.endpoint.to_string();
        let response = self
            .client
            .post(request.endpoint.url().clone())
            .bearer_auth(request.token)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .header("Idempotency-Key", request.idempotency_key)
            .body(request.body.to_vec())
            .send()
            .await
            .map_err(|e| DeliveryError::Network {
                endpoint: endpoint.clone(),
                reason: error_chain(&e),
            })?;
        let status = response.status();
        let reason = status.canonical_reason().unwrap_or("").to_string();
        let body = response.bytes().await.unwrap_or_default();
        let body_excerpt = excerpt(&body);
        if status.is_success() {
            Ok(Delivered {
                status: status.as_u16(),
                reason,
                body_excerpt,
                attempts: 1,
            })
        } else {
            Err(DeliveryError::Http {
                endpoint,
                status: status.as_u16(),
                reason,
                body_excerpt,
            })
        }
    }
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
