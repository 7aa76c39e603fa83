//! One source for every hostile test plugin; each package turns on one feature, which picks
//! the misbehaviour its `push` shows. Outside that, each is a valid `redactor-plugin`.

#![allow(dead_code, unexpected_cfgs)]

wit_bindgen::generate!({
    world: "redactor-plugin",
    path: "../../../wit",
});

use exports::exlogare::ingest::redaction;
use std::cell::RefCell;

struct Plugin;

export!(Plugin);

impl redaction::Guest for Plugin {
    type Redactor = Redactor;

    fn info() -> redaction::PluginInfo {
        // A name that would rewrite the terminal line it is printed on and fake a summary.
        #[cfg(feature = "bad-info")]
        return redaction::PluginInfo {
            name: "bad-info\r\x1b[2Kexlogare: sent 0 B, all clear".to_string(),
            version: "1.0".to_string(),
            description: "x".repeat(100_000),
        };
        #[allow(unreachable_code)]
        redaction::PluginInfo {
            name: env!("CARGO_PKG_NAME").to_string(),
            version: env!("CARGO_PKG_VERSION").to_string(),
            description: "a hostile test plugin".to_string(),
        }
    }
}

struct Redactor {
    secrets: Vec<String>,
    hoard: RefCell<Vec<Vec<u8>>>,
}

impl redaction::GuestRedactor for Redactor {
    fn create(options: redaction::Options) -> Result<redaction::Redactor, String> {
        Ok(redaction::Redactor::new(Redactor {
            secrets: options.known_secrets.into_iter().map(|k| k.value).collect(),
            hoard: RefCell::new(Vec::new()),
        }))
    }

    fn push(&self, chunk: Vec<u8>) -> Vec<u8> {
        misbehave(self, chunk)
    }

    fn finish(&self) -> Vec<u8> {
        Vec::new()
    }

    fn report(&self) -> Vec<redaction::RuleCount> {
        report()
    }
}

/// Spins forever: the host's epoch deadline must stop it.
#[cfg(feature = "endless-loop")]
fn misbehave(_: &Redactor, _: Vec<u8>) -> Vec<u8> {
    let mut n = 0u64;
    loop {
        n = std::hint::black_box(n.wrapping_add(1));
    }
}

/// Allocates (and touches) memory until something stops it.
#[cfg(feature = "memory-bomb")]
fn misbehave(r: &Redactor, chunk: Vec<u8>) -> Vec<u8> {
    loop {
        r.hoard.borrow_mut().push(vec![0xa5; 8 << 20]);
        if r.hoard.borrow().len() > 1 << 20 {
            return chunk;
        }
    }
}

/// Returns far more than it was given.
#[cfg(feature = "huge-output")]
fn misbehave(_: &Redactor, _: Vec<u8>) -> Vec<u8> {
    vec![b'x'; 64 << 20]
}

/// Panics (a trap), after saying something on stderr.
#[cfg(feature = "panics")]
fn misbehave(r: &Redactor, chunk: Vec<u8>) -> Vec<u8> {
    // A known secret in stderr: the host shows stderr when a plugin fails, scrubbed.
    let secret = r.secrets.first().map(String::as_str).unwrap_or("");
    eprintln!(
        "panics plugin: about to fail on a {}-byte chunk; secret {secret}",
        chunk.len()
    );
    panic!("this plugin always panics");
}

/// Reads a file, so the component imports wasi:filesystem.
#[cfg(feature = "reads-files")]
fn misbehave(_: &Redactor, chunk: Vec<u8>) -> Vec<u8> {
    let mut out = chunk;
    if let Ok(text) = std::fs::read("/etc/passwd") {
        out.extend_from_slice(&text);
    }
    out
}

/// Opens a TCP connection, so the component imports wasi:sockets.
#[cfg(feature = "opens-sockets")]
fn misbehave(_: &Redactor, chunk: Vec<u8>) -> Vec<u8> {
    use std::io::Write;
    if let Ok(mut s) = std::net::TcpStream::connect("127.0.0.1:9") {
        let _ = s.write_all(&chunk);
    }
    chunk
}

/// Copies every known secret value it was given into its output.
#[cfg(feature = "leaks-secret")]
fn misbehave(r: &Redactor, chunk: Vec<u8>) -> Vec<u8> {
    let mut out = chunk;
    for value in &r.secrets {
        out.extend_from_slice(b"leaked: ");
        out.extend_from_slice(value.as_bytes());
        out.push(b'\n');
    }
    out
}

#[cfg(not(any(
    feature = "many-rules",
    feature = "bad-rule-name",
    feature = "aliased-rules"
)))]
fn report() -> Vec<redaction::RuleCount> {
    Vec::new()
}

/// Reports far more rules than any plugin has, to flood the summary and the payload.
#[cfg(feature = "many-rules")]
fn report() -> Vec<redaction::RuleCount> {
    (0..100_000)
        .map(|i| redaction::RuleCount {
            rule: format!("rule-{i}"),
            count: 1,
        })
        .collect()
}

/// Reports a rule whose name holds a newline and terminal escapes.
#[cfg(feature = "bad-rule-name")]
fn report() -> Vec<redaction::RuleCount> {
    vec![redaction::RuleCount {
        rule: "ok\n\x1b[31mexlogare: error: fake line".to_string(),
        count: 1,
    }]
}

/// Reports 100 rules whose names all point at one 1 MiB string in the plugin's memory: 1 MiB
/// of memory that the host would copy 100 times (and a million entries a million times) if it
/// read the whole answer before checking it.
#[cfg(feature = "aliased-rules")]
fn report() -> Vec<redaction::RuleCount> {
    let mut name = std::mem::ManuallyDrop::new("r".repeat(1 << 20));
    let (ptr, len, cap) = (name.as_mut_ptr(), name.len(), name.capacity());
    (0..100)
        .map(|_| redaction::RuleCount {
            // SAFETY: none — that is the attack. Every entry aliases one buffer, which the
            // canonical ABI then hands to the host 100 times; the guest may crash freeing
            // them afterwards, which the host must survive too.
            rule: unsafe { String::from_raw_parts(ptr, len, cap) },
            count: 1,
        })
        .collect()
}

/// Takes host-side handles (stdout streams) and never gives them back, a million times: each
/// is an entry in the host's resource table, host memory the guest does not pay for.
#[cfg(feature = "hogs-handles")]
fn misbehave(r: &Redactor, chunk: Vec<u8>) -> Vec<u8> {
    for _ in 0..1_000_000 {
        std::mem::forget(wasi::cli::stdout::get_stdout());
    }
    let _ = r;
    chunk
}

/// Asks the host for 1 GiB of random bytes in one call: the host would allocate them.
#[cfg(feature = "asks-huge-random")]
fn misbehave(_: &Redactor, chunk: Vec<u8>) -> Vec<u8> {
    let bytes = wasi::random::random::get_random_bytes(1 << 30);
    let mut out = chunk;
    out.truncate(out.len().saturating_sub(bytes.len().min(1)));
    out
}

/// Passes the text through unchanged (the plugins whose misbehaviour is elsewhere).
#[cfg(any(
    feature = "bad-info",
    feature = "many-rules",
    feature = "bad-rule-name",
    feature = "aliased-rules"
))]
fn misbehave(_: &Redactor, chunk: Vec<u8>) -> Vec<u8> {
    chunk
}

/// Returns each chunk four times over: within the cap of one call (4 x input + 64 KiB), but
/// all calls together swell the log far past anything a redactor needs.
#[cfg(feature = "swells-output")]
fn misbehave(_: &Redactor, chunk: Vec<u8>) -> Vec<u8> {
    chunk.repeat(4)
}
