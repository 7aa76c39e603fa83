//! Redaction plugins at the CLI edge: the one place plugin files are read (so a policy check,
//! allowlist or signature, has exactly one place to go), their loading into the sandbox, and
//! `exlogare plugin inspect`.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use exlogare_runtime::{
    CacheOutcome, Limits, LoadedPlugin, PluginInstance, PluginRedactor, RedactorOptions, Runtime,
    SUPPORTED_WIT_RANGE, import_allowed,
};
use exlogare_settings::Policies;
use sha2::{Digest, Sha256};

use crate::failure::{Failure, Kind};

/// A plugin's failure or refusal: fail closed, and say which plugin and what to do.
pub fn plugin_failure(e: exlogare_runtime::GuestError) -> Failure {
    Failure::new(Kind::Redaction, format!("{e}; nothing was sent, so no secret could leave"))
        .hint("fix or remove that plugin (`exlogare plugin inspect PATH` shows what it is and what it imports)")
}

/// The largest plugin file read (a redactor is kilobytes to a few megabytes).
const MAX_PLUGIN_BYTES: u64 = 64 << 20;

/// A plugin file as read from disk.
#[derive(Clone, Debug)]
pub struct PluginFile {
    /// Where it was read from.
    pub path: PathBuf,
    /// Its bytes.
    pub bytes: Vec<u8>,
    /// The sha256 of `bytes`, lowercase hex.
    pub sha256: String,
}

/// Reads every plugin file, in order. Every plugin exlogare runs is read here, and checked
/// against the policy's plugin locks (pinned sha256, minisign signature) on these very bytes,
/// before any wasm parsing: what is checked is exactly what runs.
pub fn load_plugins(paths: &[PathBuf], policies: &Policies) -> Result<Vec<PluginFile>, Failure> {
    paths
        .iter()
        .map(|p| {
            let file = read_plugin(p)?;
            policies.check_plugin(&file.path, &file.bytes)?;
            Ok(file)
        })
        .collect()
}

fn read_plugin(path: &Path) -> Result<PluginFile, Failure> {
    let refuse = |what: String| {
        Failure::new(
            Kind::Config,
            format!(
                "cannot use the plugin {}: {what}; nothing was sent",
                path.display()
            ),
        )
        .hint("check --plugin, EXLOGARE_PLUGINS or `plugins` in exlogare.toml")
    };
    let meta = std::fs::metadata(path).map_err(|e| refuse(e.to_string()))?;
    if !meta.is_file() {
        return Err(refuse("it is not a file".into()));
    }
    if meta.len() > MAX_PLUGIN_BYTES {
        return Err(refuse(format!(
            "it is {} bytes, over the {MAX_PLUGIN_BYTES}-byte limit",
            meta.len()
        )));
    }
    let bytes = std::fs::read(path).map_err(|e| refuse(e.to_string()))?;
    let sha256 = hex::encode(Sha256::digest(&bytes));
    Ok(PluginFile {
        path: path.to_path_buf(),
        bytes,
        sha256,
    })
}

/// Whether `EXLOGARE_TIMING` asks for load timings on stderr (for benchmarks).
fn timing_wanted(env: &[(String, String)]) -> bool {
    env.iter()
        .any(|(k, v)| k == "EXLOGARE_TIMING" && !v.is_empty() && v != "0")
}

/// `cache hit` / `compiled now and cached` / `compiled now (no cache directory)`.
fn describe_cache(plugin: &LoadedPlugin) -> String {
    let how = match plugin.cache {
        Some(CacheOutcome::Hit) => "cache hit",
        Some(CacheOutcome::Compiled) => "compiled now and cached",
        Some(CacheOutcome::Recompiled) => {
            "compiled again and re-cached: the cached artifact did not match its trust record"
        }
        None => "compiled now (no cache directory)",
    };
    format!("{how}, {:.1} ms", plugin.load_time.as_secs_f64() * 1000.0)
}

/// Compiles (or loads from the cache), checks and starts every plugin, in order, each in its
/// own fresh store under `limits`. Any refusal or failure names the plugin.
pub fn start_plugins(
    runtime: &Runtime,
    files: &[PluginFile],
    limits: &Limits,
    options: &RedactorOptions,
    env: &[(String, String)],
) -> Result<Vec<PluginRedactor>, Failure> {
    let timing = timing_wanted(env);
    let mut started = Vec::with_capacity(files.len());
    for file in files {
        let plugin = runtime
            .load_plugin(&file.path, &file.bytes, limits.deadline)
            .map_err(plugin_failure)?;
        if timing {
            eprintln!(
                "exlogare: timing: {}: {}",
                plugin.label(),
                describe_cache(&plugin)
            );
        }
        let instance = PluginInstance::new(runtime, &plugin, limits).map_err(plugin_failure)?;
        started.push(instance.start(options).map_err(plugin_failure)?);
    }
    Ok(started)
}

/// `exlogare plugin inspect PATH`: what the plugin is, imports, exports, and whether this host
/// would run it. `Ok` holds the report when it would, `Err` the report and the refusal.
pub fn inspect(path: &Path, runtime: &Runtime) -> Result<String, Failure> {
    let file = read_plugin(path)?;
    let mut out = String::new();
    let _ = writeln!(out, "plugin:    {}", file.path.display());
    let _ = writeln!(out, "size:      {} bytes", file.bytes.len());
    let _ = writeln!(out, "sha256:    {}", file.sha256);
    // The system policy's plugin locks, said but not yet enforced: inspecting is how an admin
    // learns the sha256 to pin.
    let policy_refusal = match Policies::load(&crate::context::process_env()) {
        Err(e) => Some(Failure::from(e)),
        Ok(p) => p
            .check_plugin(&file.path, &file.bytes)
            .err()
            .map(Failure::from),
    };
    let _ = writeln!(
        out,
        "policy:    {}",
        match &policy_refusal {
            None => "allowed".to_string(),
            Some(f) => format!("REFUSED: {}", f.what),
        }
    );
    let plugin = runtime
        .compile_plugin(&file.path, &file.bytes, None)
        .map_err(plugin_failure)?;
    let shape = plugin.shape();
    let _ = writeln!(
        out,
        "world:     {}",
        match (shape.world, &shape.wit_version) {
            (Some(world), Some(v)) => format!("exlogare:ingest/{world}@{v}"),
            _ => "none: it does not export exlogare:ingest/redaction".to_string(),
        }
    );
    let _ = writeln!(out, "supported: exlogare:ingest {SUPPORTED_WIT_RANGE}");
    let _ = writeln!(out, "compiled:  {}", describe_cache(&plugin));
    let _ = writeln!(out, "exports:");
    for export in &shape.exports {
        let _ = writeln!(out, "  {export}");
    }
    let _ = writeln!(out, "imports:");
    for import in &shape.imports {
        let verdict = if import_allowed(import) {
            "allowed"
        } else {
            "REFUSED"
        };
        let _ = writeln!(out, "  {import:<44} {verdict}");
    }
    let refusal = shape.refusal(plugin.label());
    match &refusal {
        None => {
            let _ = writeln!(out, "import check: passed");
        }
        Some(_) if shape.refused_imports.is_empty() => {
            let _ = writeln!(out, "import check: passed");
        }
        Some(_) => {
            let _ = writeln!(
                out,
                "import check: FAILED ({})",
                shape.refused_imports.join(", ")
            );
        }
    }
    if let Some(refusal) = refusal {
        let _ = writeln!(out, "verdict:   refused: {refusal}");
        print!("{out}");
        return Err(Failure::new(Kind::Redaction, refusal.to_string())
            .hint("exlogare would refuse this plugin"));
    }
    let instance =
        PluginInstance::new(runtime, &plugin, &Limits::default()).map_err(plugin_failure)?;
    let info = instance.info();
    let _ = writeln!(out, "name:      {}", printable(&info.name));
    let _ = writeln!(out, "version:   {}", printable(&info.version));
    let _ = writeln!(out, "about:     {}", printable(&info.description));
    if let Some(refusal) = policy_refusal {
        let _ = writeln!(out, "verdict:   refused by the policy");
        print!("{out}");
        return Err(refusal);
    }
    let _ = writeln!(out, "verdict:   ok: exlogare runs this plugin");
    Ok(out)
}

/// Runs `exlogare plugin inspect`: the report on stdout; exit 7 when the plugin would be
/// refused, 2 when it cannot be read.
pub fn run_inspect(args: &crate::cli::InspectArgs) -> crate::Finish {
    let env: Vec<(String, String)> = std::env::vars_os()
        .map(|(k, v)| {
            (
                k.to_string_lossy().into_owned(),
                v.to_string_lossy().into_owned(),
            )
        })
        .collect();
    // The policy's cache switch and compile caps apply; its refusals are shown by `inspect`.
    let policies = Policies::load(&env).unwrap_or_else(|_| Policies::none());
    let result = crate::plugin_runtime(&env, &policies)
        .map_err(Failure::from)
        .and_then(|runtime| inspect(&args.path, &runtime));
    match result {
        Ok(report) => {
            print!("{report}");
            crate::Finish::ok(String::new(), None).quiet(true)
        }
        Err(failure) => crate::Finish::failed(failure, true, None),
    }
}

/// A plugin-chosen text made safe for a terminal: no control characters, at most 200 chars.
fn printable(s: &str) -> String {
    s.chars().filter(|c| !c.is_control()).take(200).collect()
}
