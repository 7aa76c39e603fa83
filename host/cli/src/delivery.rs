//! Delivery as the commands see it, shared by `report` and `send`: the uploader built from the
//! settings, the spool directory, and an undelivered payload turned into what to check, which
//! exit code, and where the payload was kept.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use exlogare_deliver::{
    Delivered, DeliveryError, Encoding, Endpoint, Request, RetryPolicy, Spool, SpoolMeta, Stop,
    Undelivered, Uploader, UploaderConfig,
};
use exlogare_settings::Compress;

use crate::context::Context;
use crate::failure::{Failure, Kind};
use crate::report::{human, idempotency_key};
use crate::scrub::Scrubber;

/// Hidden: the first retry's backoff in milliseconds (tests make it short).
const RETRY_BASE_ENV: &str = "EXLOGARE_RETRY_BASE_MS";
/// The log part is never shrunk below this for a 413.
const MIN_SHRINK: usize = 1 << 10;

/// The uploader the settings describe: `--ca-file`/`EXLOGARE_CA_FILE` and `SSL_CERT_FILE`
/// added to the system's trust store, the retry policy, the timeouts.
pub fn uploader(ctx: &Context) -> Result<Uploader, DeliveryError> {
    Uploader::new(&uploader_config(ctx))
}

fn uploader_config(ctx: &Context) -> UploaderConfig {
    let mut ca_files: Vec<PathBuf> = ctx.settings.ca_file.value.iter().cloned().collect();
    if let Some(file) = ctx.var("SSL_CERT_FILE").map(PathBuf::from)
        && !ca_files.contains(&file)
    {
        ca_files.push(file);
    }
    let mut retry = RetryPolicy::default();
    if let Some(ms) = ctx
        .var(RETRY_BASE_ENV)
        .and_then(|v| v.trim().parse::<u64>().ok())
    {
        retry.base = Duration::from_millis(ms);
    }
    UploaderConfig {
        ca_files,
        retry,
        connect_timeout: ctx.settings.connect_timeout.value,
        ..UploaderConfig::default()
    }
}

/// The uploader being built on another thread: loading the system trust store (hundreds of
/// certificate files on Debian) takes milliseconds that every job would otherwise wait for,
/// so `report` starts it before reading the log and collects it when the payload is ready.
pub struct PendingUploader(Pending);

enum Pending {
    Thread(std::thread::JoinHandle<Result<Uploader, DeliveryError>>),
    Ready(Result<Uploader, DeliveryError>),
}

impl PendingUploader {
    /// Starts building the uploader the settings describe (on the calling thread if no thread
    /// can be started).
    pub fn start(ctx: &Context) -> PendingUploader {
        let config = uploader_config(ctx);
        let spawned = std::thread::Builder::new()
            .name("exlogare-http-client".into())
            .spawn({
                let config = config.clone();
                move || Uploader::new(&config)
            });
        PendingUploader(match spawned {
            Ok(handle) => Pending::Thread(handle),
            Err(_) => Pending::Ready(Uploader::new(&config)),
        })
    }

    /// The uploader, once built.
    pub fn wait(self) -> Result<Uploader, DeliveryError> {
        match self.0 {
            Pending::Ready(result) => result,
            Pending::Thread(handle) => handle.join().unwrap_or_else(|_| {
                Err(DeliveryError::Setup(
                    "the HTTP client could not be built (its thread stopped)".into(),
                ))
            }),
        }
    }
}

/// The wire encoding the settings ask for.
pub fn encoding(ctx: &Context) -> Encoding {
    match ctx.settings.compress.value {
        Compress::None => Encoding::Identity,
        Compress::Gzip => Encoding::Gzip,
    }
}

/// The spool: `spool-dir`, else `$CI_PROJECT_DIR/.exlogare-spool`, else `./.exlogare-spool`.
pub fn spool(ctx: &Context) -> Spool {
    let dir = match &ctx.settings.spool_dir.value {
        Some(dir) => dir.clone(),
        None => ctx
            .var("CI_PROJECT_DIR")
            .map(PathBuf::from)
            .unwrap_or_else(|| PathBuf::from("."))
            .join(".exlogare-spool"),
    };
    Spool::new(dir)
}

/// When delivery must stop so the spool can still be written before the command's deadline.
pub fn delivery_deadline(ctx: &Context, deadline: Instant) -> Instant {
    let reserve = (ctx.settings.deadline.value / 10).min(Duration::from_secs(1));
    deadline.checked_sub(reserve).unwrap_or(deadline)
}

/// The exit-code kind of an undelivered payload.
pub fn kind_of(error: &DeliveryError) -> Kind {
    match error {
        DeliveryError::Setup(_) => Kind::Config,
        DeliveryError::Network { .. }
        | DeliveryError::Timeout { .. }
        | DeliveryError::NoTime { .. } => Kind::Network,
        DeliveryError::Http {
            status: 401 | 403, ..
        } => Kind::Auth,
        DeliveryError::Http {
            status: 404 | 300..=399,
            ..
        } => Kind::Config,
        DeliveryError::Http { .. } => Kind::Server,
    }
}

/// What to check, for an undelivered payload.
pub fn hint_of(undelivered: &Undelivered) -> &'static str {
    match &*undelivered.error {
        DeliveryError::Setup(_) => "fix the file or setting named above",
        DeliveryError::Network { .. } => {
            "check from this runner: the URL (EXLOGARE_URL), DNS, firewalls, proxies (HTTPS_PROXY/NO_PROXY) and, behind an intercepting proxy, its CA (--ca-file / EXLOGARE_CA_FILE)"
        }
        DeliveryError::NoTime { .. } => {
            "reading and redacting the log used up the deadline; allow more time with --deadline / EXLOGARE_DEADLINE, or lower --max-log-bytes"
        }
        DeliveryError::Timeout { .. } => {
            "the service was too slow to answer; resend later, or allow more time with --deadline / EXLOGARE_DEADLINE"
        }
        DeliveryError::Http { status, .. } => match status {
            401 | 403 => {
                "check the token (EXLOGARE_TOKEN or --token-file): it must be a valid Exlogare token with the ingest scope"
            }
            404 => {
                "check the URL (EXLOGARE_URL / --url): it is the API base, like https://api.exlogare.net, to which exlogare adds /api/ingest/log"
            }
            400 | 422 => {
                "the service found the payload invalid: this is a bug in exlogare, please report it with the answer quoted above"
            }
            413 => {
                "the service refused even the smallest payload as too large; lower --max-log-bytes / EXLOGARE_MAX_LOG_BYTES"
            }
            300..=399 => "the URL redirects; set EXLOGARE_URL to the final https:// address",
            408 | 429 | 500..=599 => {
                "the service is having trouble; the payload can be sent again later"
            }
            _ => "check the URL and the token",
        },
    }
}

/// `HTTP 202 Accepted after 3 attempts (retried: HTTP 503, HTTP 503)`.
pub fn describe_delivered(d: &Delivered) -> String {
    let mut text = format!("HTTP {} {}", d.status, d.reason);
    if d.attempts > 1 {
        text.push_str(&format!(
            " after {} attempts (retried: {})",
            d.attempts,
            d.retried.join(", ")
        ));
    }
    text
}

/// Keeps an undelivered payload in the spool and says where, how to keep it as a CI artifact
/// and how to resend it; or says that it could not be kept.
pub fn keep(
    ctx: &Context,
    scrubber: &Scrubber,
    endpoint: &Endpoint,
    body: &[u8],
    key: &str,
    attempts: u32,
    last_error: &str,
) -> String {
    let spool = spool(ctx);
    let meta = SpoolMeta::new(
        endpoint.url().as_str(),
        key,
        attempts,
        &scrubber.scrub(last_error),
        body.len() as u64,
    );
    match spool.write(body, &meta) {
        Ok(path) => {
            let shown = shown_path(ctx, &path);
            let dir = shown_path(ctx, spool.dir());
            format!(
                "the payload is kept in {shown} — keep it with `artifacts: {{when: always, paths: [{dir}/]}}` in the job, and resend it later with `exlogare send` (or `exlogare send {shown}`)"
            )
        }
        Err(e) => format!(
            "the payload could NOT be kept either ({e}); set EXLOGARE_SPOOL_DIR to a writable directory"
        ),
    }
}

/// A path as the user will use it: relative to `CI_PROJECT_DIR` (as GitLab's artifact paths
/// are) when under it.
fn shown_path(ctx: &Context, path: &Path) -> String {
    if let Some(project) = ctx.var("CI_PROJECT_DIR")
        && let Ok(rel) = path.strip_prefix(project)
    {
        return rel.display().to_string();
    }
    path.strip_prefix(".").unwrap_or(path).display().to_string()
}

/// Asks for a smaller payload after a 413: given the log bytes in the current one, returns the
/// rebuilt body and its log bytes, or `None` when it cannot get smaller.
pub type Shrink<'a> = dyn FnMut(usize) -> Result<Option<(Vec<u8>, usize)>, Failure> + 'a;

/// Delivers the payload of `report`: retries within the deadline, shrinks the log on 413,
/// and keeps the payload in the spool when it finally fails. Returns the summary line.
#[allow(clippy::too_many_arguments)]
pub fn deliver_report(
    ctx: &Context,
    scrubber: &Scrubber,
    endpoint: &Endpoint,
    token: &str,
    deadline: Instant,
    body: Vec<u8>,
    mut log_bytes: usize,
    facts: &mut Vec<String>,
    shrink: &mut Shrink<'_>,
    uploader: PendingUploader,
) -> Result<String, Failure> {
    let until = delivery_deadline(ctx, deadline);
    let encoding = encoding(ctx);
    let give_up = |u: Undelivered, body: &[u8], key: &str, attempts: u32, facts: &[String]| {
        let kept = keep(ctx, scrubber, endpoint, body, key, attempts, &u.to_string());
        Failure::new(
            kind_of(&u.error),
            format!("NOT sent: {u}; {kept}; {}", facts.join("; ")),
        )
        .hint(hint_of(&u))
    };
    let uploader = match uploader.wait() {
        Ok(uploader) => uploader,
        Err(error) => {
            let key = idempotency_key(&body);
            let u = Undelivered {
                error: Box::new(error),
                attempts: 0,
                stop: Stop::Permanent,
                retried: Vec::new(),
            };
            return Err(give_up(u, &body, &key, 0, facts));
        }
    };
    // Owned once and shared by every attempt (and the spool, if it comes to that).
    let mut body = exlogare_deliver::Bytes::from(body);
    let mut attempts = 0u32;
    loop {
        let key = idempotency_key(&body);
        let outcome = uploader.deliver(
            &Request {
                endpoint,
                token,
                body: body.clone(),
                idempotency_key: &key,
                encoding,
            },
            until,
        );
        match outcome {
            Ok(delivered) => {
                let mut line = format!(
                    "sent {} payload to {endpoint}: {}",
                    human(body.len() as u64),
                    describe_delivered(&delivered)
                );
                if encoding == Encoding::Gzip {
                    facts.push(format!("gzip: {} on the wire", human(delivered.wire_bytes)));
                }
                line.push_str("; ");
                line.push_str(&facts.join("; "));
                return Ok(line);
            }
            Err(u) => {
                attempts += u.attempts;
                if u.stop == Stop::TooLarge
                    && log_bytes > MIN_SHRINK
                    && let Some((smaller, smaller_log)) = shrink((log_bytes / 2).max(MIN_SHRINK))?
                {
                    facts.push(format!(
                        "the server refused the {} payload as too large (HTTP 413), so the log was cut to {} (its head and tail kept) and sent again",
                        human(body.len() as u64),
                        human(smaller_log as u64)
                    ));
                    // The refused body is released here, before the next attempt.
                    body = exlogare_deliver::Bytes::from(smaller);
                    log_bytes = smaller_log;
                    continue;
                }
                return Err(give_up(u, &body, &key, attempts, facts));
            }
        }
    }
}
