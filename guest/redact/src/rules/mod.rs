//! Regex rules: the built-in token and context rules, and user rules in gitleaks TOML.
//!
//! This module exists to give every rule, built-in or user-supplied, one shape: literal
//! keywords for the prefilter, one compiled regex, the capture group that is the secret, and
//! the checks that confirm or reject a hit. The scanner (`scan.rs`) only ever sees [`Rule`].

pub mod builtin;
pub mod checksum;
pub mod gitleaks;

use regex::bytes::{Captures, Regex, RegexBuilder};
use std::sync::{Arc, OnceLock};

/// How sure a finding is, which decides who wins when two findings overlap: a known value beats
/// a token rule, which beats a context rule (see `scan::resolve`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Tier {
    /// A value the host told us is secret.
    Known = 0,
    /// A documented token format, a PEM key, or a user rule.
    Token = 1,
    /// A secret recognised by what surrounds it (`password=`, `Authorization:`, URL userinfo).
    Context = 2,
}

/// Which part of a match is the secret (the part replaced by the placeholder).
#[derive(Clone, Debug)]
pub enum SecretGroup {
    /// The whole match.
    Whole,
    /// The first of these named groups that took part in the match.
    Named(&'static [&'static str]),
    /// A numbered group (gitleaks `secretGroup`).
    Index(usize),
    /// The first non-empty group, else the whole match (gitleaks without `secretGroup`).
    FirstNonEmpty,
}

/// A check on a hit: given the captures and the secret's byte range in the haystack, keep it?
pub type Validator = fn(&Captures<'_>, &[u8]) -> bool;

/// Where an allowlist regex is matched (gitleaks `regexTarget`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AllowTarget {
    /// The secret group (the default).
    Secret,
    /// The whole regex match.
    Match,
    /// The whole line (or long-line window).
    Line,
}

/// A gitleaks allowlist: a hit is dropped when it matches.
#[derive(Clone, Debug)]
pub struct Allowlist {
    /// Regexes matched against `target`.
    pub regexes: Vec<Regex>,
    /// Case-insensitive words; a secret containing one is dropped.
    pub stopwords: Vec<String>,
    /// What `regexes` are matched against.
    pub target: AllowTarget,
    /// `AND`: every kind of check listed must match; `OR` (default): any.
    pub require_all: bool,
}

impl Allowlist {
    /// Whether this allowlist drops a hit with this secret, whole match and line.
    pub fn allows(&self, secret: &[u8], whole: &[u8], line: &[u8]) -> bool {
        let target = match self.target {
            AllowTarget::Secret => secret,
            AllowTarget::Match => whole,
            AllowTarget::Line => line,
        };
        let mut checks = Vec::with_capacity(2);
        if !self.regexes.is_empty() {
            checks.push(self.regexes.iter().any(|r| r.is_match(target)));
        }
        if !self.stopwords.is_empty() {
            let lower = secret.to_ascii_lowercase();
            checks.push(
                self.stopwords
                    .iter()
                    .any(|w| memchr::memmem::find(&lower, w.as_bytes()).is_some()),
            );
        }
        if checks.is_empty() {
            return false;
        }
        if self.require_all {
            checks.iter().all(|&c| c)
        } else {
            checks.iter().any(|&c| c)
        }
    }
}

/// One rule: keywords, one regex, the secret group and the checks.
#[derive(Clone, Debug)]
pub struct Rule {
    /// The rule id: shown in the placeholder `[REDACTED:<id>]` and in the report.
    pub id: String,
    /// Lower-case literals; the regex runs only on lines holding one. Empty: every line.
    pub keywords: Vec<String>,
    /// The pattern, compiled on first use.
    pub regex: LazyRegex,
    /// Which part of a match is replaced.
    pub secret: SecretGroup,
    /// Precedence when findings overlap.
    pub tier: Tier,
    /// Extra check on each hit (checksums, placeholder values, hash shapes).
    pub validate: Option<Validator>,
    /// gitleaks `entropy`: minimum Shannon entropy of the secret group.
    pub entropy: Option<f64>,
    /// gitleaks allowlists of this rule (and the file's global one for user rules).
    pub allowlists: Vec<Allowlist>,
    /// Upper bound of a match's length in bytes, for long-line window overlap.
    pub max_len: usize,
    /// A byte every match holds: a line without it is passed over before the regex runs (the
    /// `@` of URL credentials: most lines with a URL have none).
    pub needs: Option<u8>,
    /// The bytes that can come right after the keyword a match holds (assignments: the key
    /// ends with a keyword, then a quote, blank, `:` or `=`). A keyword hit followed by any
    /// other byte, or by the end of the text, does not wake the rule: `token_count` never
    /// runs the assignment regex.
    pub after_keyword: Option<&'static [u8]>,
}

/// A rule's regex, compiled the first time a line needs it.
///
/// Compiling all built-in rules costs about 5 ms natively and more in the wasm guest, paid by
/// every run, while a typical log wakes only a few rules (a rule runs only on lines holding
/// one of its keywords). Clones share the compiled regex.
#[derive(Clone, Debug)]
pub struct LazyRegex {
    pattern: Arc<str>,
    cell: Arc<OnceLock<Option<Regex>>>,
}

impl LazyRegex {
    /// A pattern known to compile (the built-in table; a test compiles every one of them).
    pub fn new(pattern: String) -> LazyRegex {
        LazyRegex {
            pattern: pattern.into(),
            cell: Arc::new(OnceLock::new()),
        }
    }

    /// An already compiled regex (user rules, checked when the rule file is read).
    pub fn ready(regex: Regex) -> LazyRegex {
        LazyRegex {
            pattern: regex.as_str().into(),
            cell: Arc::new(OnceLock::from(Some(regex))),
        }
    }

    /// The compiled regex; `None` only if a built-in pattern failed to compile, a bug the
    /// tests catch (the rule then finds nothing rather than panicking on user input).
    pub fn get(&self) -> Option<&Regex> {
        self.cell
            .get_or_init(|| compile(&self.pattern).ok())
            .as_ref()
    }

    /// The pattern's text.
    pub fn as_str(&self) -> &str {
        &self.pattern
    }
}

/// Compiles a pattern with the engine's limits.
pub fn compile(pattern: &str) -> Result<Regex, regex::Error> {
    RegexBuilder::new(pattern)
        .size_limit(32 << 20)
        .dfa_size_limit(8 << 20)
        .build()
}

impl Rule {
    /// The byte range of the secret in a match, or `None` when the group did not take part.
    pub fn secret_range(&self, caps: &Captures<'_>) -> Option<(usize, usize)> {
        let whole = caps.get(0)?;
        let m = match &self.secret {
            SecretGroup::Whole => Some(whole),
            SecretGroup::Named(names) => names.iter().find_map(|n| caps.name(n)),
            SecretGroup::Index(i) => caps.get(*i),
            SecretGroup::FirstNonEmpty => (1..caps.len())
                .find_map(|i| caps.get(i).filter(|m| !m.is_empty()))
                .or(Some(whole)),
        }?;
        if m.is_empty() {
            return None;
        }
        Some((m.start(), m.end()))
    }

    /// Whether a keyword hit followed by `next` (`None`: the end of the text) can be part of
    /// a match (see [`Rule::after_keyword`]).
    pub fn may_follow(&self, next: Option<u8>) -> bool {
        match self.after_keyword {
            None => true,
            Some(bytes) => next.is_some_and(|b| bytes.contains(&b)),
        }
    }

    /// Every accepted hit in `hay`: (secret start, secret end, match start, match end).
    ///
    /// A rejected hit restarts the search one byte after its start, so a rejected candidate
    /// never hides an accepted one that overlaps it.
    pub fn find_all(&self, hay: &[u8], out: &mut Vec<(usize, usize, usize, usize)>) {
        if let Some(b) = self.needs
            && memchr::memchr(b, hay).is_none()
        {
            return;
        }
        let Some(regex) = self.regex.get() else {
            return;
        };
        // Most lines a keyword wakes a rule for hold no match: say so without the captures
        // (an allocation, and a slower search).
        if !regex.is_match(hay) {
            return;
        }
        let mut at = 0;
        while at <= hay.len() {
            let Some(caps) = regex.captures_at(hay, at) else {
                break;
            };
            let Some(whole) = caps.get(0) else {
                break;
            };
            let (ms, me) = (whole.start(), whole.end());
            match self.accept(&caps, hay) {
                Some((s, e)) => {
                    out.push((s, e, ms, me));
                    at = if me > ms { me } else { ms + 1 };
                }
                None => at = ms + 1,
            }
        }
    }

    fn accept(&self, caps: &Captures<'_>, line: &[u8]) -> Option<(usize, usize)> {
        let (s, e) = self.secret_range(caps)?;
        let secret = line.get(s..e)?;
        if let Some(v) = self.validate
            && !v(caps, secret)
        {
            return None;
        }
        if let Some(min) = self.entropy
            && checksum::shannon_entropy(secret) < min
        {
            return None;
        }
        let whole = caps.get(0).map(|m| m.as_bytes()).unwrap_or_default();
        if self
            .allowlists
            .iter()
            .any(|a| a.allows(secret, whole, line))
        {
            return None;
        }
        Some((s, e))
    }
}
