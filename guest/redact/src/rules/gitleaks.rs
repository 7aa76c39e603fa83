//! User rules in a gitleaks-compatible TOML subset.
//!
//! This module exists so teams can reuse the rule files they already keep for gitleaks. It
//! reads `[[rules]]` (`id`, `description`, `regex`, `secretGroup`, `keywords`, `entropy`,
//! `[rules.allowlist]` / `[[rules.allowlists]]` with `regexes`, `stopwords`, `regexTarget`,
//! `condition`) and the top-level `[allowlist]` / `[[allowlists]]`. Unknown keys are ignored.
//! Rules that only match file paths (`path` without `regex`) have nothing to match in a log and
//! are skipped. The global allowlist applies to user rules only: it never unmasks a built-in
//! finding or a known value.
//!
//! Go's RE2 syntax and Rust's `regex` are close; what Rust cannot parse (look-around,
//! `\Q..\E`, Unicode classes this build leaves out) becomes an error naming the rule.

use super::{AllowTarget, Allowlist, LazyRegex, Rule, SecretGroup, Tier, compile};
use crate::Error;
use serde::Deserialize;

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct File {
    #[serde(default)]
    rules: Vec<RawRule>,
    #[serde(default)]
    allowlist: Option<RawAllowlist>,
    #[serde(default)]
    allowlists: Vec<RawAllowlist>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct RawRule {
    #[serde(default)]
    id: String,
    #[serde(default)]
    regex: Option<String>,
    #[serde(default)]
    path: Option<String>,
    #[serde(default)]
    secret_group: Option<i64>,
    #[serde(default)]
    keywords: Vec<String>,
    #[serde(default)]
    entropy: Option<f64>,
    #[serde(default)]
    allowlist: Option<RawAllowlist>,
    #[serde(default)]
    allowlists: Vec<RawAllowlist>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct RawAllowlist {
    #[serde(default)]
    regexes: Vec<String>,
    #[serde(default)]
    stopwords: Vec<String>,
    #[serde(default)]
    regex_target: Option<String>,
    #[serde(default)]
    condition: Option<String>,
}

/// Upper bound assumed for the length of a user rule's match when sizing long-line windows.
pub const USER_RULE_MAX_LEN: usize = 4096;

/// Parses a rules file into rules. Errors name the rule and say what to fix.
pub fn parse(text: &str) -> Result<Vec<Rule>, Error> {
    let file: File = toml::from_str(text).map_err(|e| Error::Toml(e.to_string()))?;
    let mut global = Vec::new();
    for (i, a) in file
        .allowlist
        .iter()
        .chain(file.allowlists.iter())
        .enumerate()
    {
        global.push(allowlist(a, &format!("[allowlist] #{}", i + 1))?);
    }
    let mut out = Vec::new();
    for (i, r) in file.rules.iter().enumerate() {
        let id = if r.id.trim().is_empty() {
            return Err(Error::InvalidRules {
                rule: format!("#{}", i + 1),
                reason: "the rule has no `id`; give every [[rules]] entry an id".into(),
            });
        } else {
            r.id.trim().to_string()
        };
        let Some(pattern) = r.regex.as_deref().filter(|p| !p.is_empty()) else {
            if r.path.is_some() {
                continue; // a path-only rule matches file names, not log text
            }
            return Err(Error::InvalidRules {
                rule: id,
                reason: "the rule has no `regex`; add one or remove the rule".into(),
            });
        };
        let regex = compile(pattern).map_err(|e| Error::InvalidRules {
            rule: id.clone(),
            reason: explain_regex_error(pattern, &e),
        })?;
        let secret = match r.secret_group {
            None | Some(0) => SecretGroup::FirstNonEmpty,
            Some(g) if g < 0 => {
                return Err(Error::InvalidRules {
                    rule: id,
                    reason: format!("`secretGroup = {g}` is negative; use a group number from 1"),
                });
            }
            Some(g) => {
                let g = usize::try_from(g).unwrap_or(usize::MAX);
                if g >= regex.captures_len() {
                    return Err(Error::InvalidRules {
                        rule: id,
                        reason: format!(
                            "`secretGroup = {g}` but the regex has only {} capture group(s)",
                            regex.captures_len() - 1
                        ),
                    });
                }
                SecretGroup::Index(g)
            }
        };
        if let Some(e) = r.entropy
            && !(e.is_finite() && e >= 0.0)
        {
            return Err(Error::InvalidRules {
                rule: id,
                reason: format!("`entropy = {e}` must be a number >= 0"),
            });
        }
        let mut allowlists = Vec::new();
        for (j, a) in r.allowlist.iter().chain(r.allowlists.iter()).enumerate() {
            allowlists.push(allowlist(a, &format!("{id} allowlist #{}", j + 1))?);
        }
        allowlists.extend(global.iter().cloned());
        out.push(Rule {
            id,
            keywords: r
                .keywords
                .iter()
                .map(|k| k.to_lowercase())
                .filter(|k| !k.is_empty())
                .collect(),
            regex: LazyRegex::ready(regex),
            secret,
            tier: Tier::Token,
            validate: None,
            entropy: r.entropy.filter(|&e| e > 0.0),
            allowlists,
            max_len: USER_RULE_MAX_LEN,
            needs: None,
            after_keyword: None,
        });
    }
    Ok(out)
}

fn allowlist(a: &RawAllowlist, what: &str) -> Result<Allowlist, Error> {
    let mut regexes = Vec::new();
    for p in &a.regexes {
        regexes.push(compile(p).map_err(|e| Error::InvalidRules {
            rule: what.to_string(),
            reason: explain_regex_error(p, &e),
        })?);
    }
    let target = match a
        .regex_target
        .as_deref()
        .map(str::to_ascii_lowercase)
        .as_deref()
    {
        None | Some("") | Some("secret") => AllowTarget::Secret,
        Some("match") => AllowTarget::Match,
        Some("line") => AllowTarget::Line,
        Some(other) => {
            return Err(Error::InvalidRules {
                rule: what.to_string(),
                reason: format!(
                    "`regexTarget = \"{other}\"`: use \"secret\", \"match\" or \"line\""
                ),
            });
        }
    };
    let require_all = match a
        .condition
        .as_deref()
        .map(str::to_ascii_uppercase)
        .as_deref()
    {
        None | Some("") | Some("OR") => false,
        Some("AND") => true,
        Some(other) => {
            return Err(Error::InvalidRules {
                rule: what.to_string(),
                reason: format!("`condition = \"{other}\"`: use \"OR\" or \"AND\""),
            });
        }
    };
    Ok(Allowlist {
        regexes,
        stopwords: a
            .stopwords
            .iter()
            .map(|w| w.to_lowercase())
            .filter(|w| !w.is_empty())
            .collect(),
        target,
        require_all,
    })
}

fn explain_regex_error(pattern: &str, e: &regex::Error) -> String {
    let hint = if ["(?=", "(?!", "(?<=", "(?<!"]
        .iter()
        .any(|s| pattern.contains(s))
    {
        "look-around ((?=, (?!, (?<=, (?<!) is not supported (neither does Go's RE2, which \
         gitleaks uses); rewrite the pattern without it"
    } else if pattern.contains("\\Q") {
        "\\Q...\\E quoting is not supported; escape the characters instead"
    } else if pattern.contains("\\p") || pattern.contains("\\P") {
        "this Unicode class is not available; use an explicit character class such as [A-Za-z]"
    } else {
        "fix the regex (Rust `regex` syntax, close to Go's RE2)"
    };
    let first_line = e
        .to_string()
        .lines()
        .last()
        .unwrap_or_default()
        .trim()
        .to_string();
    format!("invalid regex: {first_line}; {hint}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_subset() {
        let rules = parse(
            r#"
title = "custom"
[allowlist]
stopwords = ["example"]

[[rules]]
id = "acme-key"
description = "ACME API key"
regex = '''acme_(?:key|tok)[ =:]+([a-z0-9]{16})'''
secretGroup = 1
keywords = ["ACME_"]
entropy = 2.5
unknownKey = 1
  [[rules.allowlists]]
  regexes = ['''^0+$''']

[[rules]]
id = "paths-only"
path = '''\.pem$'''
"#,
        )
        .expect("parses");
        assert_eq!(rules.len(), 1);
        let r = &rules[0];
        assert_eq!(r.id, "acme-key");
        assert_eq!(r.keywords, vec!["acme_"]);
        assert_eq!(r.allowlists.len(), 2);
        let mut hits = Vec::new();
        r.find_all(b"x acme_key=abcdef0123456789 y", &mut hits);
        assert_eq!(hits.len(), 1);
        hits.clear();
        r.find_all(b"acme_key=0000000000000000", &mut hits);
        assert!(hits.is_empty(), "allowlisted and low entropy");
        hits.clear();
        r.find_all(b"acme_key=example012345678x", &mut hits);
        assert!(hits.is_empty(), "stopword");
    }

    #[test]
    fn errors_name_the_rule() {
        let e = parse("[[rules]]\nid = \"bad\"\nregex = '''(?<=x)abc'''\n").expect_err("error");
        let msg = e.to_string();
        assert!(msg.contains("bad") && msg.contains("look-around"), "{msg}");
        let e =
            parse("[[rules]]\nid = \"g\"\nregex = 'a(b)'\nsecretGroup = 3\n").expect_err("error");
        assert!(e.to_string().contains("secretGroup"), "{e}");
        let e = parse("[[rules\n").expect_err("error");
        assert!(matches!(e, Error::Toml(_)));
        let e = parse("[[rules]]\nregex = 'x'\n").expect_err("error");
        assert!(e.to_string().contains("id"), "{e}");
    }
}
