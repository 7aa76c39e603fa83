//! Finding what to redact in one line (or one window of a very long line).
//!
//! This module exists to keep *what* is found separate from *how* the stream is cut
//! (`stream.rs`). It owns the compiled rules, the keyword prefilter (the Teddy of
//! `keywords.rs` over all rule keywords; Aho-Corasick when a user keyword is too short) and
//! the known-value matcher, and turns the raw hits of one line into a list of non-overlapping
//! redactions (`resolve`).

use crate::keywords::KeywordFinder;
use crate::known::KnownMatcher;
use crate::rules::{Rule, Tier};
use crate::{Config, Error};
use aho_corasick::{AhoCorasick, AhoCorasickKind, MatchKind};

/// What a redaction is shown as and counted under.
#[derive(Clone, Debug)]
pub(crate) struct Label {
    /// `[REDACTED:<name>]`.
    pub placeholder: Vec<u8>,
    /// The report key (`<rule-id>` or `known:<NAME>`).
    pub report: String,
}

/// A hit before overlaps are resolved: the range replaced, the whole match (which may keep a
/// readable prefix outside the replaced range), its tier and label.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Cand {
    pub start: usize,
    pub end: usize,
    pub full_start: usize,
    pub full_end: usize,
    pub tier: Tier,
    pub label: usize,
}

/// A final redaction: replace `start..end` by the label's placeholder.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Redaction {
    pub start: usize,
    pub end: usize,
    pub label: usize,
}

/// How data is searched for every keyword occurrence (which rules to run on which line).
#[derive(Debug)]
pub(crate) enum Prefilter {
    /// No rule has a keyword.
    None,
    /// The Teddy of `keywords.rs` (wasm `simd128`, x86-64 SSSE3, or portable); its keyword
    /// indices are triggers.
    Teddy(Box<KeywordFinder>),
    /// An ASCII case-insensitive Aho-Corasick automaton, when a (user) keyword is too short to
    /// fingerprint; its pattern indices are triggers.
    Automaton(AhoCorasick),
}

impl Prefilter {
    /// The search, and the rules each of its triggers (keyword indices) runs.
    fn new(
        keywords: &[String],
        keyword_rules: &[Vec<usize>],
    ) -> Result<(Prefilter, Vec<Vec<usize>>), Error> {
        if keywords.is_empty() {
            return Ok((Prefilter::None, Vec::new()));
        }
        if let Some(finder) = KeywordFinder::new(keywords) {
            let rules = finder
                .keywords()
                .iter()
                .map(|fk| {
                    let mut rs: Vec<usize> = keywords
                        .iter()
                        .zip(keyword_rules)
                        .filter(|(k, _)| k.as_bytes().eq_ignore_ascii_case(fk))
                        .flat_map(|(_, rs)| rs.iter().copied())
                        .collect();
                    rs.sort_unstable();
                    rs.dedup();
                    rs
                })
                .collect();
            return Ok((Prefilter::Teddy(Box::new(finder)), rules));
        }
        AhoCorasick::builder()
            .ascii_case_insensitive(true)
            .match_kind(MatchKind::Standard)
            .kind(Some(AhoCorasickKind::DFA))
            .build(keywords)
            .or_else(|_| {
                AhoCorasick::builder()
                    .ascii_case_insensitive(true)
                    .match_kind(MatchKind::Standard)
                    .build(keywords)
            })
            .map(|ac| (Prefilter::Automaton(ac), keyword_rules.to_vec()))
            .map_err(|e| Error::InvalidRules {
                rule: "keywords".into(),
                reason: format!("the keyword list cannot be compiled: {e}"),
            })
    }
}

/// Everything compiled from a [`Config`].
#[derive(Debug)]
pub(crate) struct Engine {
    pub rules: Vec<Rule>,
    /// Rules with no keyword: they run on every line.
    pub always: Vec<usize>,
    /// Finds every keyword occurrence: the lines worth a closer look, and their rules.
    pub prefilter: Prefilter,
    /// Prefilter trigger (keyword index) -> rules it runs.
    pub trigger_rules: Vec<Vec<usize>>,
    /// Prefilter trigger -> the length of its keyword in bytes.
    pub trigger_len: Vec<usize>,
    pub known: KnownMatcher,
    /// Known needle index -> label.
    pub known_label: Vec<usize>,
    pub rule_label: Vec<usize>,
    pub labels: Vec<Label>,
    /// Index of the one-line PEM rule (its keyword also triggers the multi-line check).
    pub pem_rule: Option<usize>,
    /// Index of the base64-encoded PEM rule (its value may continue on the next lines).
    pub pem_base64_rule: Option<usize>,
    /// The longest match any rule or needle can produce (window overlap).
    pub max_match: usize,
    /// The gram index of the needles searched across line breaks (none without known values).
    pub wrap: Option<crate::wrap::WrapIndex>,
}

/// Keeps rule and variable names readable and harmless inside `[REDACTED:...]`.
fn sanitize(name: &str) -> String {
    let s: String = name
        .chars()
        .take(100)
        .map(|c| {
            if c.is_ascii_alphanumeric() || "_-.:@/".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect();
    if s.is_empty() { "unnamed".into() } else { s }
}

impl Engine {
    pub fn new(config: &Config) -> Result<Engine, Error> {
        let mut rules = crate::rules::builtin::rules()?;
        if let Some(text) = &config.rules_toml {
            rules.extend(crate::rules::gitleaks::parse(text)?);
        }
        let mut labels: Vec<Label> = Vec::new();
        let mut label_of = |placeholder: String, report: String| -> usize {
            if let Some(i) = labels.iter().position(|l| l.report == report) {
                return i;
            }
            labels.push(Label {
                placeholder: format!("[REDACTED:{placeholder}]").into_bytes(),
                report,
            });
            labels.len() - 1
        };
        let rule_label: Vec<usize> = rules
            .iter()
            .map(|r| {
                let id = sanitize(&r.id);
                label_of(id.clone(), id)
            })
            .collect();
        let known = KnownMatcher::new(&config.known, config.min_secret_len);
        let known_label = known
            .needles
            .iter()
            .map(|n| {
                let name = config
                    .known
                    .get(n.secret)
                    .map(|k| sanitize(&k.name))
                    .unwrap_or_default();
                label_of(name.clone(), format!("known:{name}"))
            })
            .collect();

        let mut keywords: Vec<String> = Vec::new();
        let mut keyword_rules: Vec<Vec<usize>> = Vec::new();
        let mut always = Vec::new();
        for (i, r) in rules.iter().enumerate() {
            if r.keywords.is_empty() {
                always.push(i);
            }
            for k in &r.keywords {
                match keywords.iter().position(|x| x == k) {
                    Some(p) => keyword_rules[p].push(i),
                    None => {
                        keywords.push(k.clone());
                        keyword_rules.push(vec![i]);
                    }
                }
            }
        }
        let (prefilter, trigger_rules) = Prefilter::new(&keywords, &keyword_rules)?;
        let trigger_len = match &prefilter {
            Prefilter::None => Vec::new(),
            Prefilter::Teddy(finder) => finder.keywords().iter().map(Vec::len).collect(),
            Prefilter::Automaton(_) => keywords.iter().map(String::len).collect(),
        };
        let pem_rule = rules.iter().position(|r| r.id == "private-key");
        let pem_base64_rule = rules.iter().position(|r| r.id == "private-key-base64");
        let max_match = rules
            .iter()
            .map(|r| r.max_len)
            .max()
            .unwrap_or(0)
            .max(known.max_len());
        let wrap = crate::wrap::WrapIndex::new(&known.needles);
        Ok(Engine {
            rules,
            always,
            prefilter,
            trigger_rules,
            trigger_len,
            known,
            known_label,
            rule_label,
            labels,
            pem_rule,
            pem_base64_rule,
            max_match,
            wrap,
        })
    }

    /// Calls `f(position, trigger)` for every keyword occurrence in `hay`, overlapping ones
    /// included, in no particular order; [`Engine::wake`] gives the rules the hit wakes.
    pub fn keyword_hits(&self, hay: &[u8], mut f: impl FnMut(usize, usize)) {
        match &self.prefilter {
            Prefilter::None => {}
            Prefilter::Teddy(finder) => finder.for_each_match(hay, f),
            Prefilter::Automaton(ac) => {
                for m in ac.find_overlapping_iter(hay) {
                    f(m.start(), m.pattern().as_usize());
                }
            }
        }
    }

    /// Adds to `out` the rules that the keyword hit `(pos, trigger)` in `hay` wakes: the
    /// trigger's rules, but not one whose [`Rule::after_keyword`] bytes exclude the byte right
    /// after the hit (no match of it in `hay` can use this hit).
    pub fn wake(&self, hay: &[u8], pos: usize, trigger: usize, out: &mut Vec<usize>) {
        let next = self
            .trigger_len
            .get(trigger)
            .and_then(|&len| hay.get(pos + len))
            .copied();
        let rules = self
            .trigger_rules
            .get(trigger)
            .map(Vec::as_slice)
            .unwrap_or_default();
        for &r in rules {
            if self.rules.get(r).is_some_and(|rule| rule.may_follow(next)) {
                out.push(r);
            }
        }
    }

    /// Candidates in `line` from the given rules (indices, may repeat) and known hits.
    pub fn candidates(
        &self,
        line: &[u8],
        rules: &mut Vec<usize>,
        known: &[(usize, usize, usize)],
        out: &mut Vec<Cand>,
    ) {
        rules.extend_from_slice(&self.always);
        rules.sort_unstable();
        rules.dedup();
        let mut hits = Vec::new();
        for &ri in rules.iter() {
            let Some(rule) = self.rules.get(ri) else {
                continue;
            };
            hits.clear();
            rule.find_all(line, &mut hits);
            for &(s, e, fs, fe) in &hits {
                out.push(Cand {
                    start: s,
                    end: e,
                    full_start: fs,
                    full_end: fe,
                    tier: rule.tier,
                    label: self.rule_label[ri],
                });
            }
        }
        for &(s, e, n) in known {
            out.push(Cand {
                start: s,
                end: e,
                full_start: s,
                full_end: e,
                tier: Tier::Known,
                label: self.known_label.get(n).copied().unwrap_or(0),
            });
        }
    }
}

/// Turns overlapping candidates into ordered, disjoint redactions.
///
/// A candidate lying inside the whole match of a more certain one is dropped (so
/// `token=ghp_...` reads `token=ghp_[REDACTED:github-pat]`, and a token that is also a known
/// value is named after the variable). Other overlaps are merged into one redaction named after
/// its most certain candidate (the first of those): a partial overlap never leaves a piece of
/// either secret in clear. Only candidates starting in `accept` are kept.
pub(crate) fn resolve(cands: &mut Vec<Cand>, accept: (usize, usize), out: &mut Vec<Redaction>) {
    if cands.is_empty() {
        return;
    }
    let n = cands.len();
    let mut keep = vec![true; n];
    for i in 0..n {
        let c = cands[i];
        for (j, d) in cands.iter().enumerate() {
            if i != j && d.tier < c.tier && d.full_start <= c.start && c.end <= d.full_end {
                keep[i] = false;
                break;
            }
        }
    }
    let mut kept: Vec<Cand> = cands
        .iter()
        .zip(&keep)
        .filter(|(c, k)| **k && c.start >= accept.0 && c.start < accept.1 && c.end > c.start)
        .map(|(c, _)| *c)
        .collect();
    kept.sort_by(|a, b| {
        a.start
            .cmp(&b.start)
            .then(a.tier.cmp(&b.tier))
            .then(b.end.cmp(&a.end))
    });
    let first = out.len();
    let mut best_tier = Tier::Context;
    for c in kept {
        if out.len() > first
            && let Some(last) = out.last_mut()
            && c.start < last.end
        {
            last.end = last.end.max(c.end);
            // A merged redaction is named after its most certain part (a known value inside a
            // `Basic` header is shown as the variable).
            if c.tier < best_tier {
                best_tier = c.tier;
                last.label = c.label;
            }
            continue;
        }
        best_tier = c.tier;
        out.push(Redaction {
            start: c.start,
            end: c.end,
            label: c.label,
        });
    }
    cands.clear();
}
