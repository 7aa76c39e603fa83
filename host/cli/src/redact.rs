//! `exlogare redact`: the log as it would be sent, for users to preview what leaves.

use std::io::Write;
use std::path::PathBuf;

use exlogare_runtime::{Chosen, DefaultGuest, Limits};
use exlogare_settings::{ByteSize, Layer};

use crate::Finish;
use crate::cli::RedactArgs;
use crate::context::Context;
use crate::failure::{Failure, Kind};
use crate::logsource::LogReader;
use crate::pipeline::{self, describe_redactions};
use crate::plugins;
use crate::scrub::Scrubber;

/// Runs `redact`.
pub fn run(args: &RedactArgs) -> Finish {
    let layer = match args
        .excerpt_bytes
        .as_deref()
        .map(|s| ByteSize::parse("--excerpt-bytes", s))
        .transpose()
    {
        Ok(excerpt_bytes) => Layer {
            excerpt_bytes,
            ..Layer::default()
        },
        Err(e) => return Finish::failed(e.into(), true, None),
    };
    let ctx = match Context::load(&args.common, layer, None) {
        Ok(ctx) => ctx,
        Err(f) => return Finish::failed(f, true, None),
    };
    let scrubber = Scrubber::new(&ctx.secret_pairs(), ctx.settings.min_secret_length.value);
    match redact(args, &ctx, &scrubber) {
        Ok(line) => Finish::ok(line, Some(scrubber)).quiet(!args.report),
        // Previewing is not an after_script: a failure here is always an error.
        Err(f) => Finish::failed(f, true, Some(scrubber)),
    }
}

fn redact(args: &RedactArgs, ctx: &Context, scrubber: &Scrubber) -> Result<String, Failure> {
    let s = &ctx.settings;
    let path = args.file.clone().unwrap_or_else(|| PathBuf::from("-"));
    let mut reader = LogReader::open(&path)
        .map_err(|e| Failure::new(Kind::Input, format!("cannot read {}: {e}", path.display())))?
        .limit(ctx.settings.max_read_bytes.value.0, None);
    let plugin_files = plugins::load_plugins(&s.plugins.value, &ctx.policies)?;
    let runtime = crate::plugin_runtime(&ctx.env, &ctx.policies)?;
    let limits = Limits::default();
    let mut guest = DefaultGuest::new(&runtime, &limits)?;
    let options = pipeline::Options::from_context(ctx)?;
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    let plugins = plugins::start_plugins(
        &runtime,
        &plugin_files,
        &limits,
        &options.redactor,
        &ctx.env,
    )?;
    if args.excerpt {
        let budget = crate::report::excerpt_bytes(s)?;
        guest.start_excerpt(budget, budget, s.keep_ansi.value)?;
    }
    let outcome = pipeline::run(
        &mut guest,
        plugins,
        scrubber.scanner(),
        &mut reader,
        &options,
        &mut |guest, text| {
            if args.excerpt {
                Ok(guest.excerpt_push(text)?)
            } else {
                out.write_all(text).map_err(pipeline::write_failed)
            }
        },
    )?;
    if args.excerpt {
        let chosen = guest.excerpt_finish()?;
        // The same leak check as for a payload: the excerpt is what would leave.
        if let Some(leak) = scrubber.scanner().find(&chosen.excerpt.text) {
            return Err(Failure::new(
                Kind::Redaction,
                format!(
                    "blocked: the excerpt still held the value of {} ({} form) after redaction",
                    leak.name, leak.encoding
                ),
            ));
        }
        out.write_all(&chosen.excerpt.text)
            .and_then(|_| out.write_all(describe_manifest(&chosen).as_bytes()))
            .map_err(pipeline::write_failed)?;
    }
    out.flush().map_err(pipeline::write_failed)?;
    let mut lines = vec![describe_redactions(&outcome.redactions)];
    for (rule, count) in &outcome.redactions {
        lines.push(format!("  {rule}: {count}"));
    }
    Ok(lines.join("\n"))
}

/// The manifest of the failure excerpt, for people: what was kept, why, and what was left out.
pub fn describe_manifest(chosen: &Chosen) -> String {
    let m = &chosen.excerpt.manifest;
    let kept = m.total_lines.saturating_sub(m.omitted_lines);
    let mut text = format!(
        "--- exlogare: excerpt manifest: {}-byte budget; kept {kept} of {} lines; left out {} lines, {} bytes ---\n",
        m.budget, m.total_lines, m.omitted_lines, m.omitted_bytes
    );
    for r in &m.ranges {
        let lines = if r.first == r.last {
            format!("line {}", r.first)
        } else {
            format!("lines {}-{}", r.first, r.last)
        };
        let mut notes = Vec::new();
        if r.collapsed_lines > 0 {
            notes.push(format!("{} shown as repeats", r.collapsed_lines));
        }
        if r.cut_bytes > 0 {
            notes.push(format!("{} bytes cut from long lines", r.cut_bytes));
        }
        let notes = if notes.is_empty() {
            String::new()
        } else {
            format!(" ({})", notes.join(", "))
        };
        text.push_str(&format!("{lines:<20} {}{notes}\n", r.reason));
    }
    let n = &chosen.neutralised;
    text.push_str(&format!(
        "neutralised characters: {} bidi, {} zero-width, {} control\n",
        n.bidi, n.zero_width, n.control
    ));
    text
}
