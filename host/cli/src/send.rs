//! `exlogare send [FILES...]`: deliver payloads kept in the spool after a failed delivery.
//!
//! Each file is re-sent as it was spooled (same body, same idempotency key, so a payload that
//! did arrive after all is not duplicated), with the same retries, deadline, TLS and proxy
//! options as `report`, and removed only once the server has accepted it. One line per file.

use std::io::Write;
use std::path::PathBuf;
use std::time::Instant;

use clap::Args;
use exlogare_deliver::{Endpoint, Request, spool};
use exlogare_settings::{Layer, Source};

use crate::Finish;
use crate::cli::{CommonArgs, DeliveryArgs};
use crate::context::Context;
use crate::delivery;
use crate::failure::{Failure, Kind};
use crate::report::human;
use crate::scrub::Scrubber;

/// `exlogare send`.
#[derive(Args, Debug, Clone, Default)]
pub struct SendArgs {
    #[command(flatten)]
    pub common: CommonArgs,
    /// Spooled payloads to send [default: every one in the spool directory]
    #[arg(value_name = "FILES")]
    pub files: Vec<PathBuf>,
    /// Send to this base URL instead of the one each payload was meant for [env: none]
    #[arg(long, value_name = "URL")]
    pub url: Option<String>,
    #[command(flatten)]
    pub delivery: DeliveryArgs,
}

fn flags(args: &SendArgs) -> Result<Layer, Failure> {
    Ok(args.delivery.layer(Layer::default())?)
}

/// Runs `send`.
pub fn run(args: &SendArgs, started: Instant) -> Finish {
    let layer = match flags(args) {
        Ok(layer) => layer,
        Err(f) => return Finish::failed(f, args.common.strict, None),
    };
    let ctx = match Context::load(&args.common, layer, args.delivery.token_file.as_deref()) {
        Ok(ctx) => ctx,
        Err(f) => return Finish::failed(f, args.common.strict, None),
    };
    let strict = ctx.settings.strict.value;
    let scrubber = Scrubber::new(&ctx.secret_pairs(), ctx.settings.min_secret_length.value);
    match send(args, &ctx, &scrubber, started) {
        Ok(line) => Finish::ok(line, Some(scrubber)),
        Err(f) => Finish::failed(f, strict, Some(scrubber)),
    }
}

fn send(
    args: &SendArgs,
    ctx: &Context,
    scrubber: &Scrubber,
    started: Instant,
) -> Result<String, Failure> {
    let deadline = started + ctx.settings.deadline.value;
    let spool = delivery::spool(ctx);
    let files = if args.files.is_empty() {
        spool
            .list()
            .map_err(|e| Failure::new(Kind::Input, e.to_string()))?
    } else {
        args.files.clone()
    };
    if files.is_empty() {
        return Ok(format!(
            "nothing to send: no payload is kept in {}",
            spool.dir().display()
        ));
    }
    let Some(token) = ctx.token.as_deref() else {
        return Err(Failure::new(
            Kind::Auth,
            format!("EXLOGARE_TOKEN is not set, so none of the {} kept payloads was sent; they are still there", files.len()),
        )
        .hint("set EXLOGARE_TOKEN (or use --token-file)"));
    };
    // Neither --url nor the endpoint a spool file records goes through the settings, so each
    // is checked against the policy's allowed endpoints here.
    let base = args.url.as_deref().map(|url| {
        ctx.policies
            .check_endpoint(url, Source::Flag("--url".into()))
            .map_err(Failure::from)?;
        Endpoint::from_base(url, ctx.settings.allow_http.value)
            .map_err(|e| Failure::new(Kind::Config, format!("bad --url: {e}")))
    });
    let base = base.transpose()?;
    let uploader = delivery::uploader(ctx).map_err(|e| {
        Failure::new(
            Kind::Config,
            format!("{e}; nothing was sent, the payloads are still kept"),
        )
    })?;
    let encoding = delivery::encoding(ctx);
    let until = delivery::delivery_deadline(ctx, deadline);

    let mut sent = 0usize;
    let mut first_failure: Option<Kind> = None;
    let mut stderr = std::io::stderr().lock();
    for file in &files {
        let shown = file.display();
        let outcome: Result<String, (Kind, String)> = (|| {
            let (meta, body) = spool::read(file).map_err(|e| (Kind::Input, e.to_string()))?;
            let body = exlogare_deliver::Bytes::from(body);
            if let Some(leak) = scrubber.scanner().find(&body) {
                return Err((
                    Kind::Redaction,
                    format!(
                        "it holds the value of {} ({} form), so it was not sent; delete it",
                        leak.name, leak.encoding
                    ),
                ));
            }
            let endpoint = match &base {
                Some(endpoint) => endpoint.clone(),
                None => ctx
                    .policies
                    .check_endpoint(&meta.endpoint, Source::File(file.clone()))
                    .map_err(|e| (Kind::Config, format!("{e}; it is kept")))
                    .and_then(|()| {
                        Endpoint::from_full_url(&meta.endpoint, ctx.settings.allow_http.value)
                            .map_err(|e| {
                                (
                                    Kind::Config,
                                    format!("its endpoint cannot be used: {e}; pass --url"),
                                )
                            })
                    })?,
            };
            let request = Request {
                endpoint: &endpoint,
                token,
                body: body.clone(),
                idempotency_key: &meta.idempotency_key,
                encoding,
            };
            match uploader.deliver(&request, until) {
                Ok(d) => {
                    spool::remove(file).map_err(|e| (Kind::Input, e.to_string()))?;
                    Ok(format!(
                        "sent {shown} ({}) to {endpoint}: {}; removed it",
                        human(body.len() as u64),
                        delivery::describe_delivered(&d)
                    ))
                }
                Err(u) => Err((
                    delivery::kind_of(&u.error),
                    format!("{u} — {}", delivery::hint_of(&u)),
                )),
            }
        })();
        let line = match outcome {
            Ok(line) => {
                sent += 1;
                line
            }
            Err((kind, why)) => {
                first_failure.get_or_insert(kind);
                format!("kept {shown}: {why}")
            }
        };
        let _ = writeln!(stderr, "exlogare: {}", scrubber.scrub(&line));
    }
    let kept = files.len() - sent;
    match first_failure {
        None => Ok(format!(
            "send: {sent} payload{} sent and removed",
            plural(sent)
        )),
        Some(kind) => Err(Failure::new(
            kind,
            format!(
                "send: {sent} payload{} sent, {kept} NOT sent and still kept (see above)",
                plural(sent)
            ),
        )),
    }
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}
