//! `exlogare doctor`: "why did nothing arrive?" answered before a job ever fails.
//!
//! It prints, on stdout, what `report` would work from: the detected CI provider and job
//! status, the CI variables the payload reads, which secret-looking variables are set (names
//! only, never values), the token's presence, and every setting with the source it came from.
//! Then it checks the endpoint can be reached, step by step (URL, DNS, TCP, TLS and HTTP), so a
//! failure names the step that broke.
//!
//! The connectivity check sends no log and **no token**: it is one `HEAD` request to the ingest
//! endpoint without an `Authorization` header. Any HTTP answer (401, 404, 405 included) proves
//! the way there works. Not sending the token means a mistyped URL never receives it; the price
//! is that the token's validity is not checked: the ingest API has no documented endpoint for
//! that, and a POST would send data. A refused token shows as HTTP 401 in the first `report`.
//!
//! Everything printed goes through the scrubber, so no known secret value is ever shown.
//! Exit status: 0 when every check passed, 1 when one failed, 2 for a usage problem.

use std::fmt::Write as _;
use std::io::Write as _;
use std::net::{SocketAddr, TcpStream, ToSocketAddrs};
use std::time::{Duration, Instant};

use exlogare_deliver::Endpoint;
use exlogare_settings::Layer;

use crate::cli::DoctorArgs;
use crate::context::Context;
use crate::scrub::Scrubber;
use crate::secrets;

/// Exit status when a check failed.
const CHECK_FAILED: u8 = 1;
/// Exit status when the settings cannot be read.
const USAGE: u8 = 2;

/// Runs `doctor` and returns the exit status.
pub fn run(args: &DoctorArgs) -> u8 {
    let flags = Layer {
        url: args.url.clone(),
        ca_file: args.ca_file.clone(),
        allow_http: args.allow_http.then_some(true),
        ..Layer::default()
    };
    let ctx = match Context::load(&args.common, flags, None) {
        Ok(ctx) => ctx,
        Err(f) => {
            eprintln!("exlogare: error: {f}");
            return USAGE;
        }
    };
    let scrubber = Scrubber::new(&ctx.secret_pairs(), ctx.settings.min_secret_length.value);
    let mut out = String::new();
    environment(&ctx, &mut out);
    settings(&ctx, &mut out);
    let ok = if args.offline {
        out.push_str("\nconnectivity: skipped (--offline)\n");
        true
    } else {
        connectivity(&ctx, Duration::from_secs(args.timeout.max(1)), &mut out)
    };
    let _ = writeln!(
        out,
        "\n{}",
        if ok {
            "doctor: all checks passed"
        } else {
            "doctor: a check FAILED (see above)"
        }
    );
    let mut stdout = std::io::stdout().lock();
    let _ = stdout.write_all(scrubber.scrub(&out).as_bytes());
    let _ = stdout.flush();
    if ok { 0 } else { CHECK_FAILED }
}

/// The provider, status, CI variables, secret-looking names and the token.
fn environment(ctx: &Context, out: &mut String) {
    let ci_env = ctx.ci_env();
    let job = exlogare_payload::detect(&ci_env);
    let _ = writeln!(out, "provider: {}", job.provider);
    let status = job.status.as_deref().unwrap_or("unknown");
    let when = &ctx.settings.when.value;
    let would = if job.status.is_none() && *when != exlogare_settings::When::Always {
        "no: the status is unknown (set EXLOGARE_JOB_STATUS, or --when always)".to_string()
    } else if when.allows(status) {
        "yes".to_string()
    } else {
        format!("no: exlogare sends when the status is {when}")
    };
    let _ = writeln!(out, "job status: {status} — report would send: {would}");

    let _ = writeln!(
        out,
        "\nCI variables the payload reads ({} set):",
        ci_env.len()
    );
    let mut vars = ci_env;
    vars.sort();
    for (name, value) in &vars {
        let _ = writeln!(out, "  {name}={}", shown_value(value));
    }
    if vars.is_empty() {
        out.push_str(
            "  (none: outside CI, or an unknown CI — use EXLOGARE_* variables and --meta)\n",
        );
    }

    let mut hidden: Vec<(&str, usize)> = ctx
        .env
        .iter()
        .filter(|(k, v)| k != "EXLOGARE_TOKEN" && !v.is_empty() && secrets::name_looks_secret(k))
        .map(|(k, v)| (k.as_str(), v.len()))
        .collect();
    hidden.sort();
    hidden.dedup();
    let _ = writeln!(
        out,
        "\nsecret-looking variables ({}; values hidden, and redacted from logs):",
        hidden.len()
    );
    for (name, len) in &hidden {
        let _ = writeln!(out, "  {name}=[hidden, {len} bytes]");
    }
    let _ = writeln!(
        out,
        "\ntoken: {}",
        match &ctx.token {
            Some(t) => format!("set ([hidden, {} bytes]); its validity is not checked here, see below", t.len()),
            None => "NOT set: add EXLOGARE_TOKEN as a masked CI/CD variable (or use --token-file with report)".into(),
        }
    );
}

/// A variable's value for display: URLs lose their userinfo.
fn shown_value(value: &str) -> String {
    let one_line = value.replace('\n', "\\n");
    match url::Url::parse(&one_line) {
        Ok(mut u) if !u.username().is_empty() || u.password().is_some() => {
            let _ = u.set_username("");
            let _ = u.set_password(None);
            u.to_string()
        }
        _ => one_line,
    }
}

/// Every setting with its source.
fn settings(ctx: &Context, out: &mut String) {
    out.push_str("\nsettings (value — source):\n");
    for (name, value, source) in ctx.settings.describe() {
        let _ = writeln!(out, "  {name} = {value} — {source}");
    }
}

/// URL, DNS, TCP, then one HEAD request (TLS and HTTP). True when the endpoint answered.
fn connectivity(ctx: &Context, timeout: Duration, out: &mut String) -> bool {
    let s = &ctx.settings;
    out.push_str("\nconnectivity (one HEAD request, no log, no token):\n");
    let endpoint = match Endpoint::from_base(&s.url.value, s.allow_http.value) {
        Ok(e) => e,
        Err(e) => {
            let _ = writeln!(out, "  url: FAILED: {e} (from {})", s.url.source);
            return false;
        }
    };
    let _ = writeln!(out, "  url: ok: {endpoint}");
    let url = endpoint.url();
    let (Some(host), Some(port)) = (url.host_str(), url.port_or_known_default()) else {
        let _ = writeln!(out, "  url: FAILED: no host or port");
        return false;
    };
    let host = host.trim_start_matches('[').trim_end_matches(']');

    let started = Instant::now();
    let addrs: Vec<SocketAddr> = match (host, port).to_socket_addrs() {
        Ok(a) => a.collect(),
        Err(e) => {
            let _ = writeln!(out, "  dns: FAILED: cannot resolve {host}: {e}");
            return false;
        }
    };
    let _ = writeln!(
        out,
        "  dns: ok: {host} -> {} ({} ms)",
        addrs
            .iter()
            .map(|a| a.ip().to_string())
            .collect::<Vec<_>>()
            .join(", "),
        started.elapsed().as_millis()
    );

    let started = Instant::now();
    let mut last_error = None;
    let mut connected = None;
    for addr in &addrs {
        match TcpStream::connect_timeout(addr, timeout) {
            Ok(_) => {
                connected = Some(*addr);
                break;
            }
            Err(e) => last_error = Some(format!("{addr}: {e}")),
        }
    }
    match connected {
        Some(addr) => {
            let _ = writeln!(
                out,
                "  tcp: ok: connected to {addr} ({} ms)",
                started.elapsed().as_millis()
            );
        }
        None => {
            let _ = writeln!(
                out,
                "  tcp: FAILED: {} — a firewall or proxy may block it; exlogare honours HTTPS_PROXY",
                last_error.unwrap_or_else(|| "no address".into())
            );
            return false;
        }
    }

    http_check(ctx, &endpoint, timeout, out)
}

/// The HEAD request: proves TLS (for https) and that an HTTP server answers.
fn http_check(ctx: &Context, endpoint: &Endpoint, timeout: Duration, out: &mut String) -> bool {
    let tls = endpoint.url().scheme() == "https";
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            let _ = writeln!(out, "  http: FAILED: {e}");
            return false;
        }
    };
    // The client's timers need the runtime from the moment it is built.
    let _entered = runtime.enter();
    let mut builder = reqwest::Client::builder()
        .use_rustls_tls()
        .connect_timeout(timeout)
        .timeout(timeout)
        .user_agent(format!("exlogare-doctor/{}", env!("CARGO_PKG_VERSION")))
        .redirect(reqwest::redirect::Policy::none());
    if let Some(path) = &ctx.settings.ca_file.value {
        match std::fs::read(path)
            .map_err(|e| e.to_string())
            .and_then(|pem| reqwest::Certificate::from_pem_bundle(&pem).map_err(|e| e.to_string()))
        {
            Ok(certs) => {
                for cert in certs {
                    builder = builder.add_root_certificate(cert);
                }
            }
            Err(e) => {
                let _ = writeln!(
                    out,
                    "  tls: FAILED: the CA file {} cannot be used: {e}",
                    path.display()
                );
                return false;
            }
        }
    }
    let client = match builder.build() {
        Ok(c) => c,
        Err(e) => {
            let _ = writeln!(
                out,
                "  http: FAILED: cannot set up the client: {}",
                chain(&e)
            );
            return false;
        }
    };
    let started = Instant::now();
    let result = runtime.block_on(client.head(endpoint.url().clone()).send());
    let ms = started.elapsed().as_millis();
    match result {
        Ok(response) => {
            if tls {
                let _ = writeln!(out, "  tls: ok: certificate accepted");
            }
            let status = response.status();
            let reason = status.canonical_reason().unwrap_or("");
            let meaning = match status.as_u16() {
                200..=299 => "the endpoint answers",
                401 | 403 => "the endpoint answers (it wants a token: expected, none was sent)",
                404 | 405 => "a server answers (HEAD is not what the ingest API serves: expected)",
                300..=399 => {
                    "a redirect: check the URL, exlogare does not follow redirects when sending"
                }
                500..=599 => "the server answers but reports an error; report will retry",
                _ => "a server answers",
            };
            let _ = writeln!(
                out,
                "  http: ok: HTTP {} {reason} in {ms} ms — {meaning}",
                status.as_u16()
            );
            let _ = writeln!(
                out,
                "  token: not sent and not checked (no documented API checks a token without sending data); a refused token shows as HTTP 401 from report"
            );
            !status.is_redirection()
        }
        Err(e) => {
            let text = chain(&e);
            let step = if e.is_timeout() {
                "http: FAILED: no answer in time"
            } else if tls
                && (text.contains("certificate")
                    || text.contains("tls")
                    || text.contains("TLS")
                    || text.contains("handshake"))
            {
                "tls: FAILED"
            } else {
                "http: FAILED"
            };
            let _ = writeln!(out, "  {step}: {text} ({ms} ms)");
            if step.starts_with("tls") {
                out.push_str(
                    "  hint: a private CA? pass --ca-file (or EXLOGARE_CA_FILE / SSL_CERT_FILE)\n",
                );
            }
            false
        }
    }
}

/// An error and its causes on one line.
fn chain(error: &dyn std::error::Error) -> String {
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
