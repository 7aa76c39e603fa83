//! The exlogare redaction engine: removes secrets from CI logs before they leave the machine.
//!
//! Plain Rust with no wasm dependency: it is unit-tested, fuzzed and benchmarked natively, and
//! wrapped for the `wasm32-wasip2` guest by a thin binding layer.
//!
//! # What is redacted
//! - **Known values** ([`Config::known`]): the values the host knows are secret, trimmed, and
//!   their encodings ([`Encoding`]): base64 and base64url at the three byte alignments (only
//!   the characters fully determined by the secret, so surrounding text does not matter),
//!   percent-encoding (upper/lower hex, `+` for space), JSON escaping (with and without `\/`,
//!   `\uXXXX`), and each line of a multi-line value. Values shorter than
//!   [`Config::min_secret_len`] are skipped ([`short_secret_names`] lists them for the summary).
//!   A known value is also found **wrapped across lines**, in any of those encodings: broken
//!   anywhere by line breaks with indentation, `\r`, `|` table borders or box-drawing borders
//!   around them (a terminal or `column` wrap, a `kubectl describe` continuation, a table cell
//!   continued on the next row). Its first piece becomes the placeholder, the other pieces are
//!   removed (see `wrap.rs`; lines longer than 4 KiB are never part of a wrap, and a run of
//!   linked lines holding more than 64 KiB is searched in parts, so a value wrapped exactly
//!   across such a cut is not found).
//! - **Token rules**: documented formats (GitHub with its CRC32, GitLab `gl*-`, AWS, Slack,
//!   Stripe, Google, npm with its CRC32, PyPI, Docker Hub, OpenAI, Anthropic, Azure, JWT, PEM
//!   private keys on many lines or escaped on one, also when every line carries its own prefix
//!   (timestamps of varying length, docker stream headers, `+ ` trace marks, colour codes),
//!   and whole PEM private keys base64-encoded (a Kubernetes Secret `data:` value, a `*_B64`
//!   variable, `base64` output wrapped at 76 columns; certificates and public keys stay).
//! - **Context rules**: `Authorization:` headers, URL userinfo passwords, `password=` /
//!   `token:` / `--password x` / `with passwd x` style assignments (the key must *end* in a
//!   secret word, the value must not be a placeholder such as `***`, `$VAR` or `[MASKED]`; the
//!   name decides, so `SIGNING_SECRET=96b7...` goes whatever the value looks like, and a
//!   generic `*_KEY` name needs a key-like value and is not one of the identifier keys such as
//!   `CACHE_KEY` or `GPG_KEY`), values with quotes, escapes and symbols, `mysql -p'...'`, and
//!   `<password>...</password>` elements.
//! - **User rules** in a gitleaks-compatible TOML subset ([`Config::rules_toml`]).
//!
//! Commit SHAs, `sha256:` digests, UUIDs, SRI `sha512-` values, checksums and versions are never
//! redacted unless a known value or a token rule matches them: no rule uses entropy on hex, and
//! token rules need a documented prefix (gitleaks `entropy` applies only to a user rule's
//! secret group).
//!
//! # Placeholders and the report
//! A redacted span becomes `[REDACTED:<name>]`:
//! - a known value: `<name>` is the [`KnownSecret::name`] (`[REDACTED:DB_PASSWORD]`), counted
//!   in the report under `known:<NAME>` (one count per occurrence, whatever its encoding);
//! - a rule: `<name>` is the rule id, counted under the rule id. Token rules keep a harmless
//!   documented prefix shorter than 8 bytes outside the placeholder
//!   (`glpat-[REDACTED:gitlab-pat]`, `ghp_[REDACTED:github-pat]`,
//!   `AKIA[REDACTED:aws-access-key-id]`; `sk_live_...` goes whole); context rules replace
//!   only the value (`Authorization: Bearer [REDACTED:authorization-header]`,
//!   `https://user:[REDACTED:url-credentials]@host`, `password=[REDACTED:password-assignment]`).
//!   A PEM block keeps its BEGIN/END lines; its body becomes one `[REDACTED:private-key]` line.
//!
//! Names are limited to `[A-Za-z0-9_.:@/-]` (others become `_`). When findings overlap, a known
//! value beats a token rule, which beats a context rule; a finding inside the whole match of a
//! more certain one is dropped, other overlaps merge into one placeholder, so no piece of a
//! secret is left in clear.
//!
//! # Design
//! - **Prefilter first.** One keyword scan over the whole chunk (Teddy: a four-byte
//!   fingerprint of every rule keyword, eight buckets, nibble masks looked up with a byte
//!   shuffle; see `keywords.rs`) finds every keyword occurrence, and only the rules those
//!   keywords trigger run their regex, only on the lines holding them (and a rule may also
//!   ask for the byte after its keyword, or a byte in the line, before its regex runs). The
//!   same code runs natively (SSSE3) and in the guest (wasm `simd128`), so the guest is not a
//!   slower algorithm. Known values are found by one more exact pass (a stride filter on hashed
//!   4-byte grams, plain scalar code in a loop of its own). There is never one giant
//!   alternation: a log line without a keyword costs two linear scans and a copy.
//! - **Lines are the unit.** Every rule matches within one line, so a chunk's complete lines
//!   are scanned together and only the incomplete last line is held back. PEM blocks (and the
//!   lines of a base64-encoded key) are followed by a line state machine that needs no
//!   look-ahead. The one pass that looks across lines, for wrapped known values, runs first and
//!   holds only runs of lines that could hold a piece of one.
//! - **Long lines in fixed windows.** A line longer than `window + overlap` (about 80 KiB with
//!   the built-in rules) is processed in windows at offsets that depend only on the position in
//!   the line, each seeing `overlap` bytes (more than the longest possible match) of context on
//!   both sides. Memory is bounded whatever the input.
//! - **Chunk independence.** Every decision depends only on the bytes of the line (or window)
//!   and on state carried by complete lines, never on where a chunk ended, so the output of
//!   [`Redactor`] is byte-identical to [`redact_all`] for any chunking (property-tested and
//!   fuzzed).

mod encodings;
mod keywords;
mod known;
mod newlines;
mod pem;
pub mod rules;
mod scan;
mod stream;
mod wrap;

pub use encodings::Encoding;
pub use known::{Leak, LeakScanner};
pub use rules::checksum::with_crc32_base62;
pub use stream::{Redactor, redact_all};

/// The product default for [`Config::min_secret_len`]: like GitLab's masked variables.
pub const DEFAULT_MIN_SECRET_LEN: usize = 8;

/// A secret value known to the host. `name` (e.g. the variable name) is shown in reports; the
/// value never is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KnownSecret {
    /// Shown in placeholders and reports (sanitised to `[A-Za-z0-9_.:@/-]`).
    pub name: String,
    /// The secret; searched for trimmed, with its encodings.
    pub value: String,
}

/// Engine configuration.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Config {
    /// Values to remove wherever they appear, in their encodings too.
    pub known: Vec<KnownSecret>,
    /// Known values shorter than this (in bytes, after trimming) are not searched for. 8 is the
    /// product default ([`DEFAULT_MIN_SECRET_LEN`]); 0 is treated as 1.
    pub min_secret_len: usize,
    /// Extra user rules in a gitleaks-compatible TOML subset ([[rules]] id, regex,
    /// secretGroup, keywords, entropy, allowlists (regexes/stopwords), plus top-level
    /// [allowlist]).
    pub rules_toml: Option<String>,
}

/// Why a [`Redactor`] could not be built. Messages say what to fix.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A rule (or allowlist) is unusable: bad regex, bad `secretGroup`, missing `id`...
    #[error("redaction rule `{rule}` is unusable: {reason}")]
    InvalidRules {
        /// The rule id (or `#n` for a rule without id, or the allowlist).
        rule: String,
        /// What is wrong and how to fix it.
        reason: String,
    },
    /// The rules file is not valid TOML.
    #[error("the redaction rules file is not valid TOML (gitleaks format expected): {0}")]
    Toml(String),
}

/// Names of known secrets skipped because their value is shorter than `min_secret_len`
/// (sorted, deduplicated). The summary lists them so users know what was not searched for.
pub fn short_secret_names(known: &[KnownSecret], min_secret_len: usize) -> Vec<String> {
    let mut names: Vec<String> = known
        .iter()
        .filter(|k| k.value.trim().len() < min_secret_len.max(1))
        .map(|k| k.name.clone())
        .collect();
    names.sort();
    names.dedup();
    names
}
