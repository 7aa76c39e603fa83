//! `exlogare redact`: the log as it would be sent, for users to preview what leaves.

use std::io::Write;
use std::path::PathBuf;

use exlogare_runtime::{DefaultGuest, Limits};
use exlogare_settings::Layer;

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
    let ctx = match Context::load(&args.common, Layer::default(), None) {
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
    let outcome = pipeline::run(
        &mut guest,
        plugins,
        scrubber.scanner(),
        &mut reader,
        &options,
        &mut |text| out.write_all(text),
    )?;
    out.flush()
        .map_err(|e| Failure::new(Kind::Input, format!("cannot write the redacted log: {e}")))?;
    let mut lines = vec![describe_redactions(&outcome.redactions)];
    for (rule, count) in &outcome.redactions {
        lines.push(format!("  {rule}: {count}"));
    }
    Ok(lines.join("\n"))
}
