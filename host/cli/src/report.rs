//! `exlogare report`: the after_script command, end to end.

use std::io::Write;
use std::time::Instant;

use exlogare_deliver::Endpoint;
use exlogare_runtime::{DefaultGuest, FailureExcerpt, JobInput, Limits, LogInfo};
use exlogare_settings::{ByteSize, Layer, When};
use sha2::{Digest, Sha256};

use crate::Finish;
use crate::budget::Excerpt;
use crate::cli::ReportArgs;
use crate::context::Context;
use crate::failure::{Failure, Kind};
use crate::logsource::LogReader;
use crate::pipeline::{self, describe_redactions};
use crate::plugins;
use crate::scrub::Scrubber;

/// Size of the log pieces handed to the payload writer.
const PIECE: usize = 64 << 10;

/// The settings layer the flags of `report` make.
fn flags(args: &ReportArgs) -> Result<Layer, Failure> {
    let layer = Layer {
        url: args.url.clone(),
        log: args.log.clone(),
        when: args.when.as_deref().map(When::parse).transpose()?,
        max_log_bytes: args
            .max_log_bytes
            .as_deref()
            .map(|s| ByteSize::parse("--max-log-bytes", s))
            .transpose()?,
        max_read_bytes: args
            .max_read_bytes
            .as_deref()
            .map(|s| ByteSize::parse("--max-read-bytes", s))
            .transpose()?,
        excerpt_bytes: args
            .excerpt_bytes
            .as_deref()
            .map(|s| ByteSize::parse("--excerpt-bytes", s))
            .transpose()?,
        ..Layer::default()
    };
    Ok(args.delivery.layer(layer)?)
}

/// Runs `report`.
pub fn run(args: &ReportArgs, started: Instant) -> Finish {
    let ctx = match Context::load(
        &args.common,
        match flags(args) {
            Ok(f) => f,
            Err(f) => return Finish::failed(f, crate::context::strict_wanted(&args.common), None),
        },
        args.delivery.token_file.as_deref(),
    ) {
        Ok(ctx) => ctx,
        // A policy refusal lands here: nothing is sent, and the job fails only when asked to
        // (--strict, EXLOGARE_STRICT) or when the policy locks strict mode on.
        Err(f) => return Finish::failed(f, crate::context::strict_wanted(&args.common), None),
    };
    let strict = ctx.settings.strict.value;
    let scrubber = Scrubber::new(&ctx.secret_pairs(), ctx.settings.min_secret_length.value);
    match report(args, &ctx, &scrubber, started) {
        Ok(line) => Finish::ok(line, Some(scrubber)),
        Err(f) => Finish::failed(f, strict, Some(scrubber)),
    }
}

fn report(
    args: &ReportArgs,
    ctx: &Context,
    scrubber: &Scrubber,
    started: Instant,
) -> Result<String, Failure> {
    let s = &ctx.settings;
    let deadline = started + s.deadline.value;
    let limits = Limits {
        deadline: Some(deadline),
        ..Limits::default()
    };
    let max = max_log_bytes(s)?;
    let runtime = crate::plugin_runtime(&ctx.env, &ctx.policies)?;
    let mut guest = DefaultGuest::new(&runtime, &guest_limits(&limits, max))?;
    let ci_env = ctx.ci_env();

    // 1. Gate on the job status.
    let job = guest.detect(&ci_env)?;
    let status = job.status.clone().unwrap_or_else(|| "unknown".to_string());
    let when = &s.when.value;
    if job.status.is_none() && *when != When::Always {
        return Ok(format!(
            "skipped: the job status is unknown (provider {}; no CI_JOB_STATUS or EXLOGARE_JOB_STATUS) — set EXLOGARE_JOB_STATUS, or pass --when always",
            job.provider
        ));
    }
    if !when.allows(&status) {
        return Ok(format!(
            "skipped: the job status is `{status}`, and exlogare sends only when it is {} (--when / EXLOGARE_WHEN)",
            match when {
                When::Always => "anything".to_string(),
                When::Statuses(l) => l.join(" or "),
            }
        ));
    }

    // 2. Where to, and with what token (checked before reading a possibly huge log).
    let endpoint = Endpoint::from_base(&s.url.value, s.allow_http.value)
        .map_err(|e| Failure::new(Kind::Config, format!("bad URL from {}: {e}", s.url.source)))?;
    if ctx.token.is_none() && !args.dry_run {
        return Err(Failure::new(Kind::Auth, "EXLOGARE_TOKEN is not set, so nothing was sent")
            .hint("add the token as a masked CI/CD variable named EXLOGARE_TOKEN (or use --token-file); --dry-run needs none"));
    }

    // The HTTP client (and its trust store) is built meanwhile, on another thread.
    let uploader = (!args.dry_run).then(|| crate::delivery::PendingUploader::start(ctx));

    // 3. The plugins (read and checked before the log), then the log, through the sandbox,
    // into the size budget.
    let plugin_files = plugins::load_plugins(&s.plugins.value, &ctx.policies)?;
    let log_path = &s.log.value;
    let (num, den) = exlogare_settings::READ_SHARE_OF_DEADLINE;
    let stop_reading = started + s.deadline.value * num / den;
    let mut reader = LogReader::open(log_path).map_err(|e| {
        Failure::new(Kind::Input, format!("cannot read the log {}: {e}; nothing was sent", log_path.display()))
            .hint("write the job's output to it (e.g. `exlogare run -- CMD` or `CMD 2>&1 | tee build.log`) or point --log / EXLOGARE_LOG at it")
    })?
    .limit(s.max_read_bytes.value.0, Some(stop_reading));
    let options = pipeline::Options::from_context(ctx)?;
    // The guest chooses what of the log is sent when it does not fit (the lines that explain
    // the failure and the end of the log), and the small failure excerpt for the metadata.
    guest.start_excerpt(max, excerpt_bytes(s)?, s.keep_ansi.value)?;
    let plugins = plugins::start_plugins(
        &runtime,
        &plugin_files,
        &limits,
        &options.redactor,
        &ctx.env,
    )?;
    let outcome = pipeline::run(
        &mut guest,
        plugins,
        scrubber.scanner(),
        &mut reader,
        &options,
        &mut |guest, text| Ok(guest.excerpt_push(text)?),
    )?;
    let chosen = guest.excerpt_finish()?;
    let log_total = chosen.log.manifest.total_bytes;
    let selected_omitted = chosen.log.manifest.omitted_bytes;
    let selection = (!chosen.log.whole).then(|| chosen.log.manifest.clone());
    let failure_excerpt = FailureExcerpt {
        text: String::from_utf8_lossy(&chosen.excerpt.text).into_owned(),
        manifest: chosen.excerpt.manifest.clone(),
    };
    let sent_len = chosen.log.text.len();
    // The chosen text is sent as it is; should the service refuse it as too large, its head
    // and tail are cut from it (`shrink`).
    let excerpt = Excerpt {
        head: chosen.log.text,
        tail: Vec::new(),
        total: sent_len as u64,
        max: sent_len,
    };

    // 4. The payload, built in the sandbox, checked for leaks here.
    let input = JobInput {
        env: ci_env,
        extra: parse_meta(&args.meta)?,
        known_secrets: ctx.secret_pairs(),
        min_secret_length: s.min_secret_length.value,
        host_version: env!("CARGO_PKG_VERSION").to_string(),
        log: LogInfo {
            bytes_read: outcome.bytes_read,
            bytes_omitted: selected_omitted,
            invalid_utf8_bytes: outcome.normalize.invalid_utf8_bytes,
            nul_bytes: outcome.normalize.nul_bytes,
            redactions: outcome.redactions.clone(),
            redactors: outcome.redactors.clone(),
            selection,
            excerpt: Some(failure_excerpt),
            neutralised: chosen.neutralised,
        },
    };
    let body = build_body(&mut guest, &input, &excerpt)?;
    check_leaks(scrubber, &body)?;

    let mut facts = vec![format!(
        "{} of log read, {} in the payload{}",
        human(outcome.bytes_read),
        human(sent_len as u64),
        if selected_omitted > 0 {
            format!(
                " ({} of {} left out to fit {}; kept the lines that explain the failure and the end, listed in metadata.log.selection)",
                human(selected_omitted),
                human(log_total),
                s.max_log_bytes.value
            )
        } else {
            String::new()
        }
    )];
    if chosen.neutralised.total() > 0 {
        facts.push(format!(
            "neutralised {} characters that could mislead a reader ({} bidi, {} zero-width, {} control; shown as <U+XXXX>)",
            chosen.neutralised.total(),
            chosen.neutralised.bidi,
            chosen.neutralised.zero_width,
            chosen.neutralised.control
        ));
    }
    facts.push(describe_redactions(&outcome.redactions));
    let short = exlogare_redact::short_secret_names(
        &ctx.secrets
            .iter()
            .map(|s| exlogare_redact::KnownSecret {
                name: s.name.clone(),
                value: s.value.clone(),
            })
            .collect::<Vec<_>>(),
        s.min_secret_length.value as usize,
    );
    if !short.is_empty() {
        facts.push(format!(
            "not masked everywhere, shorter than {} bytes: {}",
            s.min_secret_length.value,
            short.join(", ")
        ));
    }
    if outcome.normalize.invalid_utf8_bytes > 0 || outcome.normalize.nul_bytes > 0 {
        facts.push(format!(
            "replaced {} invalid UTF-8 bytes, removed {} NUL bytes",
            outcome.normalize.invalid_utf8_bytes, outcome.normalize.nul_bytes
        ));
    }
    if outcome.plugin_invalid_utf8_bytes > 0 {
        facts.push(format!(
            "replaced {} invalid UTF-8 bytes in plugin output",
            outcome.plugin_invalid_utf8_bytes
        ));
    }
    match &outcome.read_cut {
        Some(crate::logsource::Cut::Bytes(_)) => facts.push(format!(
            "LOG CUT SHORT: reading stopped at max-read-bytes ({} from {}); the rest of the log was not read, and the log sent ends with a marker saying so (raise --max-read-bytes / EXLOGARE_MAX_READ_BYTES to read more)",
            s.max_read_bytes.value, s.max_read_bytes.source
        )),
        Some(crate::logsource::Cut::Time) => facts.push(format!(
            "LOG CUT SHORT: reading stopped after {} at {num}/{den} of the {}s deadline, to leave time to send; the rest of the log was not read (a log still being written, or a pipe kept open?), and the log sent ends with a marker saying so (allow more time with --deadline / EXLOGARE_DEADLINE)",
            human(outcome.bytes_read),
            s.deadline.value.as_secs()
        )),
        None => {}
    }
    if let Some(e) = &outcome.read_error {
        facts.push(format!(
            "the log could not be read to its end ({e}); what was read is included"
        ));
    }

    // 5. Print (dry run) or send.
    if args.dry_run {
        let mut stdout = std::io::stdout().lock();
        let _ = stdout
            .write_all(&body)
            .and_then(|_| stdout.write_all(b"\n"))
            .and_then(|_| stdout.flush());
        return Ok(format!(
            "dry run: the {} payload above would go to {endpoint}; nothing was sent; {}",
            human(body.len() as u64),
            facts.join("; ")
        ));
    }
    let token = ctx.token.as_deref().unwrap_or_default();
    let log_bytes = excerpt.kept();
    let mut excerpt = excerpt;
    let mut input = input;
    let mut shrink = |max: usize| -> Result<Option<(Vec<u8>, usize)>, Failure> {
        // A 413: keep less of the log (its head and, above all, its tail), rebuild in the sandbox.
        let smaller = excerpt.shrink(max);
        let kept = smaller.kept();
        if kept >= excerpt.kept() {
            return Ok(None);
        }
        input.log.bytes_omitted = selected_omitted + smaller.omitted();
        let body = build_body(&mut guest, &input, &smaller)?;
        check_leaks(scrubber, &body)?;
        excerpt = smaller;
        Ok(Some((body, kept)))
    };
    crate::delivery::deliver_report(
        ctx,
        scrubber,
        &endpoint,
        token,
        deadline,
        body,
        log_bytes,
        &mut facts,
        &mut shrink,
        uploader.unwrap_or_else(|| crate::delivery::PendingUploader::start(ctx)),
    )
}

/// The smallest budget the guest's excerpt builder accepts.
const MIN_BUDGET: u64 = 1 << 10;

/// The largest failure excerpt: the metadata must stay well under its 1 MiB limit.
pub const MAX_EXCERPT_BYTES: u64 = 256 << 10;

/// The largest size budget: choosing what of a bigger log to send takes the built-in guest
/// about twelve times the budget in memory, and a wasm memory ends at 4 GiB.
pub const MAX_LOG_BYTES: u64 = 128 << 20;

/// The size budget from the settings, checked.
pub fn max_log_bytes(s: &exlogare_settings::Settings) -> Result<u64, Failure> {
    let n = s.max_log_bytes.value.0;
    if n > MAX_LOG_BYTES {
        return Err(Failure::new(
            Kind::Config,
            format!(
                "max-log-bytes {} (from {}) is over 128MiB, the most exlogare sends",
                s.max_log_bytes.value, s.max_log_bytes.source
            ),
        )
        .hint("pass --max-log-bytes 8MiB (the default) or another size up to 128MiB"));
    }
    Ok(n.max(MIN_BUDGET))
}

/// The built-in guest's limits for a size budget of `max` bytes: it holds the lines it may
/// still send, their bookkeeping and the payload, so its memory grows with the budget (256
/// MiB covers the default 8 MiB budget many times over).
fn guest_limits(limits: &Limits, max: u64) -> Limits {
    let need = (64u64 << 20).saturating_add(max.saturating_mul(12));
    Limits {
        memory_bytes: limits
            .memory_bytes
            .max(usize::try_from(need).unwrap_or(usize::MAX)),
        ..limits.clone()
    }
}

/// The failure excerpt's size from the settings, checked.
pub fn excerpt_bytes(s: &exlogare_settings::Settings) -> Result<u64, Failure> {
    let n = s.excerpt_bytes.value.0;
    if !(MIN_BUDGET..=MAX_EXCERPT_BYTES).contains(&n) {
        return Err(Failure::new(
            Kind::Config,
            format!(
                "excerpt-bytes {} (from {}) is outside 1KiB..256KiB",
                s.excerpt_bytes.value, s.excerpt_bytes.source
            ),
        )
        .hint("pass --excerpt-bytes 8KiB (the default) or another size in that range"));
    }
    Ok(n)
}

/// Refuses a body that still holds a known secret value (a redactor bug).
fn check_leaks(scrubber: &Scrubber, body: &[u8]) -> Result<(), Failure> {
    match scrubber.scanner().find(body) {
        None => Ok(()),
        Some(leak) => Err(Failure::new(
            Kind::Redaction,
            format!(
                "blocked: the payload still held the value of {} ({} form) after redaction, so nothing was sent",
                leak.name, leak.encoding
            ),
        )
        .hint("this is a bug in a redactor; please report it (the value itself is never printed)")),
    }
}

/// Builds the JSON body in the sandbox from the kept parts of the log.
pub fn build_body(
    guest: &mut DefaultGuest,
    input: &JobInput,
    excerpt: &Excerpt,
) -> Result<Vec<u8>, Failure> {
    let opening = guest.payload_open(input)?;
    // Sized once for the log text, a little escaping and the closing metadata: a body grown
    // by doubling would hold room for twice the log budget.
    let text = excerpt.kept();
    let mut body = Vec::with_capacity(opening.len() + text + text / 32 + (64 << 10));
    body.extend_from_slice(&opening);
    for piece in excerpt.pieces() {
        for part in piece.chunks(PIECE) {
            body.extend_from_slice(&guest.payload_log(part)?);
        }
    }
    body.extend_from_slice(&guest.payload_close()?);
    Ok(body)
}

/// The same for every attempt of one payload, and for a later `send` of it.
pub fn idempotency_key(body: &[u8]) -> String {
    hex::encode(&Sha256::digest(body)[..16])
}

fn parse_meta(items: &[String]) -> Result<Vec<(String, String)>, Failure> {
    items
        .iter()
        .map(|item| match item.split_once('=') {
            Some((k, v)) if !k.trim().is_empty() => Ok((k.trim().to_string(), v.to_string())),
            _ => Err(Failure::new(
                Kind::Config,
                format!("--meta `{item}` is not KEY=VALUE"),
            )),
        })
        .collect()
}

/// Bytes for people: `512 B`, `1.5 KiB`, `5.0 MiB`.
pub fn human(bytes: u64) -> String {
    const UNITS: [&str; 4] = ["KiB", "MiB", "GiB", "TiB"];
    if bytes < 1024 {
        return format!("{bytes} B");
    }
    let mut value = bytes as f64 / 1024.0;
    let mut unit = 0;
    while value >= 1024.0 && unit < UNITS.len() - 1 {
        value /= 1024.0;
        unit += 1;
    }
    format!("{value:.1} {}", UNITS[unit])
}
