//! The built-in rules: documented token formats and secrets recognised by their context.
//!
//! This module exists to keep the rule table in one readable place. Each rule keeps a known,
//! harmless prefix outside its secret group where that helps a reader (`glpat-`, `ghp_`,
//! `AKIA`), and redacts only the value in context rules (`password=[REDACTED:...]`).
//!
//! Long values use open-ended repetition (`{20,}`, `+`), never wide bounded ranges: a pattern
//! such as `[^\s]{1,4096}` compiles into thousands of NFA states (tens of milliseconds per
//! rule, paid by every run in the guest) and truncates a longer value, leaving its tail in
//! clear. Within a line a value of any length is redacted whole; `Rule::max_len` is the match
//! length a long-line window is guaranteed to see whole (its overlap).
//!
//! Hex strings, digests, UUIDs and integrity values match none of the token patterns, and no
//! rule here uses entropy: the shapes and contexts decide.

use super::checksum::{crc32_base62_ok, is_placeholder, mixed_case_key};
use super::{LazyRegex, Rule, SecretGroup, Tier, Validator};
use regex::bytes::Captures;

const S: SecretGroup = SecretGroup::Named(&["s", "s2", "s3"]);

struct Def {
    id: &'static str,
    keywords: Vec<&'static str>,
    pattern: String,
    tier: Tier,
    validate: Option<Validator>,
    max_len: usize,
    needs: Option<u8>,
    after_keyword: Option<&'static [u8]>,
}

fn token(id: &'static str, keywords: &[&'static str], pattern: &str, max_len: usize) -> Def {
    Def {
        id,
        keywords: keywords.to_vec(),
        pattern: pattern.to_string(),
        tier: Tier::Token,
        validate: None,
        max_len,
        needs: None,
        after_keyword: None,
    }
}

fn crc_ok(caps: &Captures<'_>, secret: &[u8]) -> bool {
    let _ = caps;
    crc32_base62_ok(secret)
}

fn aws_secret_ok(_: &Captures<'_>, secret: &[u8]) -> bool {
    mixed_case_key(secret)
}

/// The base64 text holds `-----BEGIN ... PRIVATE KEY`: decoded from the group-aligned marker,
/// its first 60 bytes name a private key (certificates and public keys stay readable).
fn pem_base64_ok(caps: &Captures<'_>, secret: &[u8]) -> bool {
    use base64::Engine as _;
    let _ = caps;
    let Some(at) = [&b"LS0tLS1CRUdJTi"[..], b"LS0tQkVHSU4g", b"LS0tLUJFR0lO"]
        .iter()
        .filter_map(|m| memchr::memmem::find(secret, m))
        .min()
    else {
        return false;
    };
    let rest = &secret[at..];
    let take = rest.len().min(80) / 4 * 4;
    let Ok(head) = base64::engine::general_purpose::STANDARD.decode(&rest[..take]) else {
        return false;
    };
    let begin = memchr::memmem::find(&head, b"BEGIN ").map_or(0, |p| p + 6);
    let name_end = memchr::memmem::find(&head[begin..], b"-----").map_or(head.len(), |p| begin + p);
    memchr::memmem::find(&head[begin..name_end], b"PRIVATE KEY").is_some()
}

/// `... with passwd Vh1dDg@=6l79lU*`: a bare password word then a blank and a value that
/// looks like a password (letters with digits or symbols), not a word of prose
/// (`password authentication failed`).
fn spoken_password(key: &[u8], secret: &[u8]) -> bool {
    let key = key.to_ascii_lowercase();
    matches!(key.as_slice(), b"password" | b"passwd" | b"passphrase")
        && secret.len() >= 8
        && secret.iter().any(u8::is_ascii_alphabetic)
        && secret.iter().any(|b| !b.is_ascii_alphabetic())
        && !secret.ends_with(b":")
}

fn value_ok(caps: &Captures<'_>, secret: &[u8]) -> bool {
    if is_placeholder(secret) || secret.starts_with(b"-----") {
        return false;
    }
    // `https://gitlab-ci-token:...@host`: URL userinfo, left to `url-credentials`.
    if caps
        .get(0)
        .is_some_and(|m| m.as_bytes().first() == Some(&b'/'))
    {
        return false;
    }
    // Whitespace alone separates key and value only in `--password value` style.
    if let Some(sep) = caps.name("sep")
        && !sep
            .as_bytes()
            .iter()
            .any(|b| matches!(b, b'=' | b':' | b'>'))
    {
        let key = caps.name("key").map(|k| k.as_bytes()).unwrap_or_default();
        if !key.starts_with(b"-") && !spoken_password(key, secret) {
            return false;
        }
    }
    let key = caps
        .name("key")
        .map(|k| k.as_bytes().to_ascii_lowercase())
        .unwrap_or_default();
    // `PWD=/builds/x` is the working directory, not a password.
    if (key == b"pwd" || key == b"oldpwd") && (secret.starts_with(b"/") || secret.starts_with(b"~"))
    {
        return false;
    }
    true
}

fn secret_value_ok(caps: &Captures<'_>, secret: &[u8]) -> bool {
    // Tokens and keys are long; short words after `token:` are prose (`Unexpected token: punc`).
    if secret.len() < 8 || !value_ok(caps, secret) {
        return false;
    }
    let key = caps
        .name("key")
        .map(|k| k.as_bytes().to_ascii_lowercase())
        .unwrap_or_default();
    !generic_key(&key) || generic_key_value_ok(&key, secret)
}

/// `<anything>_key` names that are not one of the known secret key names (`api_key`,
/// `signing_key`...): `APP_KEY`, `HMAC_KEY`, but also `CACHE_KEY`.
fn generic_key(key: &[u8]) -> bool {
    const NAMED: &[&[u8]] = &[
        b"api",
        b"access",
        b"private",
        b"secret",
        b"signing",
        b"account",
        b"master",
        b"encryption",
        b"auth",
    ];
    let Some(stem) = key.strip_suffix(b"key") else {
        return false;
    };
    let stem = stem
        .strip_suffix(b"_")
        .or(stem.strip_suffix(b"-"))
        .or(stem.strip_suffix(b"."))
        .unwrap_or(stem);
    !NAMED.iter().any(|n| stem.ends_with(n))
}

/// Under a generic `_key` name the value must look like key material, and the name must not
/// be one of the many keys that are identifiers (cache, primary, sort, partition, GPG key ids).
fn generic_key_value_ok(key: &[u8], secret: &[u8]) -> bool {
    const NOT_SECRET: &[&[u8]] = &[
        b"cache",
        b"public",
        b"pub",
        b"primary",
        b"foreign",
        b"sort",
        b"partition",
        b"object",
        b"file",
        b"group",
        b"row",
        b"idempotency",
        b"lookup",
        b"index",
        b"hash",
        b"route",
        b"translation",
        b"i18n",
        b"locale",
        b"gpg",
        b"pgp",
        b"gnupg",
        b"ssh_host",
        b"host",
        b"map",
        b"dict",
        b"label",
        b"cursor",
        b"dedup",
        b"s3",
        b"bucket",
        b"issue",
        b"jira",
    ];
    let stem = &key[..key.len() - 3];
    let last = stem
        .split(|b| matches!(b, b'_' | b'-' | b'.'))
        .rfind(|p| !p.is_empty())
        .unwrap_or_default();
    if NOT_SECRET.contains(&last) || key.starts_with(b"ssh_public") || key.contains(&b' ') {
        return false;
    }
    secret.len() >= 16
        && secret.iter().any(u8::is_ascii_digit)
        && secret.iter().any(u8::is_ascii_alphabetic)
        && secret.iter().all(|&b| b.is_ascii_graphic() || b >= 0x80)
}

/// `mysql -p'...'`: anything but a placeholder (`-p$MYSQL_PASSWORD`, `-p${PW}`).
fn flag_value_ok(_: &Captures<'_>, secret: &[u8]) -> bool {
    !is_placeholder(secret)
}

/// `<password>...</password>`: anything but a placeholder (`${env.PW}`, `****`).
fn xml_value_ok(_: &Captures<'_>, secret: &[u8]) -> bool {
    !is_placeholder(secret) && !secret.starts_with(b"${")
}

fn auth_value_ok(caps: &Captures<'_>, secret: &[u8]) -> bool {
    const SCHEMES: &[&[u8]] = &[
        b"bearer",
        b"basic",
        b"token",
        b"digest",
        b"negotiate",
        b"bot",
    ];
    let lower = secret.to_ascii_lowercase();
    !SCHEMES.contains(&lower.as_slice()) && !is_placeholder(secret) && value_ok(caps, secret)
}

fn url_password_ok(_: &Captures<'_>, secret: &[u8]) -> bool {
    let printf_style = secret.len() <= 3 && secret.starts_with(b"%");
    let template = secret.starts_with(b"{") && secret.ends_with(b"}");
    !(is_placeholder(secret) || printf_style || template)
}

/// A value: double-quoted (with backslash escapes), single-quoted (with the shell's `'\''`,
/// and an unquoted rest glued to it: `'ab'cd`), or bare up to a blank or separator; a quote
/// inside a bare value (`PASSWORD=ab"cd`) does not end it when the value goes on after it, nor
/// does an `&` unless a `name=` follows it (`password=x&user=y`).
const ASSIGN_VALUE: &str = r#"(?:"(?P<s>(?:[^"\\\r\n]|\\[^\r\n])+)"|'(?P<s2>[^'\r\n]+(?:'\\''[^'\r\n]*)*(?:'[^\s'"]+)?)'?|(?P<s3>[^\s"'`;,&<>]+(?:["'`]+[^\s"'`;,&<>]+|&+(?:[^A-Za-z_\s"'`;,&<>=]|[A-Za-z_][A-Za-z0-9_]*[^A-Za-z0-9_=\s])[^\s"'`;,&<>]*)*))"#;
/// What can follow a key (which ends with one of its rule's keywords): the first byte of
/// [`ASSIGN_SEP`] and of the `authorization` separator.
const AFTER_KEY: &[u8] = b"\"' \t:=";
const ASSIGN_SEP: &str = r#"["']?(?P<sep>[ \t]*(?::=|=>|=|:)[ \t]*|[ \t]+)"#;

fn defs() -> Vec<Def> {
    let mut d = vec![
        // GitHub: 30 random base62 characters and a 6-character base62 CRC32.
        Def { validate: Some(crc_ok), ..token("github-pat", &["ghp_"], r"(?-u:\b)ghp_(?P<s>[A-Za-z0-9]{36})(?-u:\b)", 40) },
        Def { validate: Some(crc_ok), ..token("github-oauth-token", &["gho_"], r"(?-u:\b)gho_(?P<s>[A-Za-z0-9]{36})(?-u:\b)", 40) },
        Def { validate: Some(crc_ok), ..token("github-user-token", &["ghu_"], r"(?-u:\b)ghu_(?P<s>[A-Za-z0-9]{36})(?-u:\b)", 40) },
        Def { validate: Some(crc_ok), ..token("github-app-token", &["ghs_"], r"(?-u:\b)ghs_(?P<s>[A-Za-z0-9]{36})(?-u:\b)", 40) },
        Def { validate: Some(crc_ok), ..token("github-refresh-token", &["ghr_"], r"(?-u:\b)ghr_(?P<s>[A-Za-z0-9]{36})(?-u:\b)", 40) },
        token("github-fine-grained-pat", &["github_pat_"], r"(?-u:\b)(?P<s>github_pat_[A-Za-z0-9_]{60,})", 140),
        // npm: same checksum scheme as GitHub.
        Def { validate: Some(crc_ok), ..token("npm-token", &["npm_"], r"(?-u:\b)npm_(?P<s>[A-Za-z0-9]{36})(?-u:\b)", 40) },
        // GitLab: old 20-character and new routable forms (`<payload>.<version>.<crc>`).
        token("gitlab-runner-registration-token", &["gr1348941"], r"(?-u:\b)(?P<s>GR1348941[A-Za-z0-9_\-]{20,})", 80),
        // AWS
        token("aws-access-key-id", &["akia", "asia"],
            r"(?-u:\b)(?:AKIA|ASIA)(?P<s>[A-Z2-7]{16})(?-u:\b)", 20),
        Def { validate: Some(aws_secret_ok), ..token("aws-secret-access-key",
            &["secret_access_key", "secretaccesskey", "secret-access-key", "aws_secret", "awssecret", "secret_key", "secretkey"],
            r#"(?i)(?:aws_?secret_?(?:access_?)?key|secret_?access_?key|secret-access-key|aws_?secret|secret_?key)["']?[ \t]*(?::=|=>|=|:)?[ \t]*["']?(?P<s>[A-Za-z0-9/+]{40})(?:[^A-Za-z0-9/+=]|$)"#, 120) },
        Def { validate: Some(aws_secret_ok), ..token("aws-secret-access-key", &["akia", "asia"],
            r#"(?-u:\b)(?:AKIA|ASIA)[A-Z2-7]{16}["']?[ \t,;:|]{1,5}["']?(?P<s>[A-Za-z0-9/+]{40})(?:[^A-Za-z0-9/+=]|$)"#, 80) },
        // Slack
        token("slack-token", &["xox"], r"(?-u:\b)xox[baprseo]-(?P<s>[0-9A-Za-z\-]{10,})", 260),
        token("slack-app-token", &["xapp-"], r"(?-u:\b)xapp-(?P<s>[0-9]-[A-Za-z0-9\-]{20,})", 260),
        token("slack-webhook", &["hooks.slack.com"], r"hooks\.slack\.com/(?:services|workflows|triggers)/(?P<s>[A-Za-z0-9+/_\-]{20,})", 300),
        // Stripe
        token("stripe-key", &["sk_live_", "rk_live_", "sk_test_", "rk_test_"], r"(?-u:\b)(?P<s>[sr]k_(?:live|test)_[0-9A-Za-z]{10,})", 260),
        token("stripe-webhook-secret", &["whsec_"], r"(?-u:\b)whsec_(?P<s>[0-9A-Za-z+/]{24,})", 110),
        // Google
        token("google-api-key", &["aiza"], r"(?-u:\b)AIza(?P<s>[0-9A-Za-z_\-]{35})", 40),
        token("google-oauth-client-secret", &["gocspx-"], r"(?-u:\b)GOCSPX-(?P<s>[0-9A-Za-z_\-]{28})", 40),
        token("google-oauth-token", &["ya29."], r"(?-u:\b)ya29\.(?P<s>[0-9A-Za-z_\-]{20,})", 2060),
        // PyPI (macaroon whose first caveat names pypi.org or test.pypi.org)
        token("pypi-token", &["pypi-ageichlwas5vcmc", "pypi-agendgvzdc5wexbplm9yzw"], r"(?-u:\b)pypi-(?P<s>(?:AgEIcHlwaS5vcmc|AgENdGVzdC5weXBpLm9yZw)[A-Za-z0-9_\-]{40,})", 2100),
        // Docker Hub
        token("dockerhub-pat", &["dckr_pat_", "dckr_oat_"], r"(?-u:\b)dckr_(?:pat|oat)_(?P<s>[A-Za-z0-9_\-]{20,})", 110),
        // Anthropic before OpenAI: both start with `sk-`.
        token("anthropic-api-key", &["sk-ant-"], r"(?-u:\b)(?P<s>sk-ant-[a-z]{2,10}[0-9]{2}-[A-Za-z0-9_\-]{20,})", 320),
        token("openai-api-key", &["sk-proj-", "sk-svcacct-", "sk-admin-"], r"(?-u:\b)sk-(?:proj|svcacct|admin)-(?P<s>[A-Za-z0-9_\-]{40,})", 420),
        token("openai-api-key", &["t3blbkfj"], r"(?-u:\b)sk-(?P<s>[A-Za-z0-9_\-]{16,}T3BlbkFJ[A-Za-z0-9_\-]{16,})", 420),
        // Azure
        token("azure-storage-key", &["accountkey="], r"(?i)AccountKey=(?P<s>[A-Za-z0-9+/]{40,}={0,2})", 120),
        token("azure-shared-access-key", &["sharedaccesskey="], r"(?i)SharedAccessKey=(?P<s>[A-Za-z0-9+/]{30,}={0,2})", 120),
        token("azure-sas-signature", &["sig="], r"[?&]sig=(?P<s>[A-Za-z0-9%+/]{30,}(?:%3D|=){0,2})", 220),
        // JWT: header and payload are base64url JSON objects (`{"` encodes as `eyJ`).
        token("jwt", &["eyj"], r"(?-u:\b)(?P<s>eyJ[A-Za-z0-9_\-]{5,}\.eyJ[A-Za-z0-9_\-]{5,}\.[A-Za-z0-9_\-]*)", 14400),
        // PEM private key written on one line: JSON `\n`-escaped, or lines joined by spaces.
        token("private-key", &["private key"], r#"-{4,5} ?BEGIN [A-Z0-9 ]*PRIVATE KEY(?: BLOCK)? ?-{4,5}(?P<s>[^"\r\n]{16,}?)(?:-{4,5} ?END |"|$)"#, 16384),
        // A whole PEM private key base64-encoded (Kubernetes Secret `data:`, `*_B64`, `base64`
        // output): `-----BEGIN ` encoded at each of the three byte offsets, group-aligned.
        Def {
            validate: Some(pem_base64_ok),
            ..token(
                "private-key-base64",
                &["ls0tls1crudjti", "ls0tqkvhsu4g", "ls0tlujfr0lo"],
                r"(?P<s>[A-Za-z0-9+/]*(?:LS0tLS1CRUdJTi|LS0tQkVHSU4g|LS0tLUJFR0lO)[A-Za-z0-9+/]*={0,2})",
                16384,
            )
        },
        // Context rules.
        Def {
            id: "mysql-password-flag",
            keywords: vec!["mysql", "mariadb"],
            pattern: r#"(?i)(?:^|[^A-Za-z0-9_\-])(?:mysql|mysqldump|mysqladmin|mariadb|mariadb-dump)(?:[ \t]+[^\s]+)*?[ \t]+(?-i:-p)(?:'(?P<s2>[^'\r\n]+)'|"(?P<s>[^"\r\n]+)"|(?P<s3>[^\s'"]+))"#.to_string(),
            tier: Tier::Context,
            validate: Some(flag_value_ok),
            max_len: 4200,
            needs: None,
            after_keyword: None,
        },
        Def {
            id: "xml-secret-element",
            keywords: vec!["password>", "passwd>", "passphrase>", "secret>", "token>"],
            pattern: r#"(?i)<(?P<key>[A-Za-z0-9_:.\-]{0,40}(?:password|passwd|passphrase|secret|token))>(?P<s>[^<\r\n]+)</"#.to_string(),
            tier: Tier::Context,
            validate: Some(xml_value_ok),
            max_len: 4200,
            needs: None,
            after_keyword: None,
        },
        Def {
            id: "authorization-header",
            keywords: vec!["authorization"],
            pattern: r#"(?i)(?:^|[^A-Za-z0-9_\-])(?P<key>(?:proxy-)?authorization)["']?(?P<sep>[ \t]*[:=][ \t]*)["']?(?:(?:bearer|basic|token|digest|negotiate|bot|apikey|sso-key|jwt)[ \t]+)?(?P<s>[^\s"',;]+)"#.to_string(),
            tier: Tier::Context,
            validate: Some(auth_value_ok),
            max_len: 4200,
            needs: None,
            after_keyword: Some(AFTER_KEY),
        },
        Def {
            id: "url-credentials",
            keywords: vec!["://"],
            pattern: r#"(?i)(?-u:\b)[a-z][a-z0-9+.\-]{1,30}://[^:@/\s"'<>\[\]{}]*:(?P<s>[^/\s"'<>]+)@[A-Za-z0-9\[_\-]"#.to_string(),
            tier: Tier::Context,
            validate: Some(url_password_ok),
            max_len: 1400,
            needs: Some(b'@'),
            after_keyword: None,
        },
    ];
    // GitLab token prefixes.
    const GITLAB: &[(&str, &str, &str)] = &[
        ("gitlab-pat", "glpat-", r"(?-u:\b)glpat-"),
        ("gitlab-deploy-token", "gldt-", r"(?-u:\b)gldt-"),
        ("gitlab-runner-token", "glrt-", r"(?-u:\b)glrtr?-"),
        ("gitlab-ci-build-token", "glcbt-", r"(?-u:\b)glcbt-"),
        ("gitlab-pipeline-trigger-token", "glptt-", r"(?-u:\b)glptt-"),
        ("gitlab-feed-token", "glft-", r"(?-u:\b)glft-"),
        ("gitlab-incoming-mail-token", "glimt-", r"(?-u:\b)glimt-"),
        ("gitlab-agent-token", "glagent-", r"(?-u:\b)glagent-"),
        ("gitlab-scim-token", "glsoat-", r"(?-u:\b)glsoat-"),
        ("gitlab-oauth-app-secret", "gloas-", r"(?-u:\b)gloas-"),
        ("gitlab-feature-flag-token", "glffct-", r"(?-u:\b)glffct-"),
        ("gitlab-workspace-token", "glwt-", r"(?-u:\b)glwt-"),
    ];
    for &(id, kw, prefix) in GITLAB {
        let pattern =
            format!(r"{prefix}(?P<s>[A-Za-z0-9_\-]{{20,}}(?:\.[A-Za-z0-9_\-]{{2,}}){{0,3}})");
        let keywords = [kw];
        d.push(token(id, &keywords, &pattern, 340));
    }
    d
}

/// Assignment rules are built from one template: a key that ends in a secret word, a
/// separator, and a value (quoted or bare).
fn assignment_defs() -> Vec<(String, &'static str, Vec<&'static str>, Validator)> {
    let pw = r"(?:password|passwd|passphrase|pwd)";
    let secret = r"(?:secret|token|api[_\-.]?key|access[_\-.]?key|private[_\-.]?key|secret[_\-.]?key|signing[_\-.]?key|account[_\-.]?key|master[_\-.]?key|encryption[_\-.]?key|auth[_\-.]?key|client[_\-.]?secret|[_\-.]key)";
    let build = |word: &str| {
        format!(
            r#"(?i)(?:^|[^A-Za-z0-9_.\-])(?P<key>[A-Za-z0-9_.\-]{{0,64}}?{word}){ASSIGN_SEP}{ASSIGN_VALUE}"#
        )
    };
    vec![
        (
            build(pw),
            "password-assignment",
            vec!["password", "passwd", "passphrase", "pwd"],
            value_ok as Validator,
        ),
        (
            build(secret),
            "secret-assignment",
            vec!["secret", "token", "key"],
            secret_value_ok as Validator,
        ),
    ]
}

/// The built-in rules, each compiled on first use by the redactor that holds them.
///
/// Not cached per process: every redactor (like every guest instance) pays for the regexes its
/// log wakes, so native and guest figures compare like with like, and a long-lived process
/// holds no compiled regex it no longer uses.
pub fn rules() -> Result<Vec<Rule>, crate::Error> {
    compile_rules()
}

/// Compiles the built-in rules. Fails only on a bug in this table (tests compile it).
fn compile_rules() -> Result<Vec<Rule>, crate::Error> {
    let mut out = Vec::new();
    for d in defs() {
        out.push(Rule {
            id: d.id.to_string(),
            keywords: d.keywords.iter().map(|k| k.to_ascii_lowercase()).collect(),
            regex: LazyRegex::new(format!("(?-u){}", d.pattern)),
            secret: S,
            tier: d.tier,
            validate: d.validate,
            entropy: None,
            allowlists: Vec::new(),
            max_len: d.max_len,
            needs: d.needs,
            after_keyword: d.after_keyword,
        });
    }
    for (pattern, id, keywords, validate) in assignment_defs() {
        out.push(Rule {
            id: id.to_string(),
            keywords: keywords.iter().map(|k| k.to_string()).collect(),
            regex: LazyRegex::new(format!("(?-u){pattern}")),
            secret: S,
            tier: Tier::Context,
            validate: Some(validate),
            entropy: None,
            allowlists: Vec::new(),
            max_len: 4300,
            needs: None,
            after_keyword: Some(AFTER_KEY),
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    /// Built-in regexes compile lazily, on first use: check every one of them here.
    #[test]
    fn every_builtin_pattern_compiles() {
        for rule in super::rules().expect("the built-in table") {
            assert!(
                rule.regex.get().is_some(),
                "built-in rule `{}` does not compile: {}",
                rule.id,
                rule.regex.as_str()
            );
        }
    }

    /// A rule's `needs` byte lets a line skip the regex, so every match must hold it: random
    /// text over the bytes the patterns care about, with and without that byte, never gives a
    /// match without it.
    #[test]
    fn every_match_holds_the_needed_byte() {
        let rules = super::rules().expect("the built-in table");
        let needing: Vec<_> = rules.iter().filter(|r| r.needs.is_some()).collect();
        assert!(
            !needing.is_empty(),
            "no built-in rule declares a needed byte"
        );
        let alphabet = b"aZ9_-.:/@%{}=' \"xhttps";
        let mut seed = 0x2545_f491_4f6c_dd1d_u64;
        let mut matches = 0;
        for round in 0..20_000 {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            let len = 8 + (seed % 40) as usize;
            let mut line: Vec<u8> = b"https://".to_vec();
            let mut s = seed;
            for _ in 0..len {
                line.push(alphabet[(s % alphabet.len() as u64) as usize]);
                s = s.rotate_left(5) ^ (round as u64);
            }
            for rule in &needing {
                let (Some(b), Some(re)) = (rule.needs, rule.regex.get()) else {
                    continue;
                };
                for m in re.find_iter(&line) {
                    matches += 1;
                    assert!(
                        m.as_bytes().contains(&b),
                        "`{}` matched {:?} without {:?}",
                        rule.id,
                        String::from_utf8_lossy(m.as_bytes()),
                        b as char
                    );
                }
            }
        }
        assert!(
            matches > 100,
            "the random lines matched only {matches} times"
        );
    }

    /// A rule with `after_keyword` bytes is only woken by a keyword hit followed by one of
    /// them, so every accepted hit must come with such a keyword occurrence in its line.
    #[test]
    fn every_hit_follows_a_keyword_with_an_allowed_byte() {
        let rules = super::rules().expect("the built-in table");
        let gated: Vec<_> = rules.iter().filter(|r| r.after_keyword.is_some()).collect();
        assert!(
            gated.len() >= 3,
            "the assignment and header rules are gated"
        );
        let pieces: &[&str] = &[
            "token",
            "TOKEN",
            "api_key",
            "Secret",
            "client.secret",
            "password",
            "PWD",
            "passphrase",
            "Authorization",
            "proxy-authorization",
            "=",
            ":",
            " ",
            "\t",
            "\"",
            "'",
            ":=",
            "=>",
            "_count",
            "s",
            "x",
            "abc123XYZ",
            "hunter2hunter2",
            "Bearer ",
            "-",
            ".",
            ",",
            ";",
            "export ",
            "${VAR}",
        ];
        let woken = |rule: &super::Rule, line: &[u8]| {
            let after = rule.after_keyword.unwrap_or_default();
            rule.keywords.iter().any(|k| {
                (0..line.len()).any(|p| {
                    line[p..].len() >= k.len()
                        && line[p..p + k.len()].eq_ignore_ascii_case(k.as_bytes())
                        && line.get(p + k.len()).is_some_and(|b| after.contains(b))
                })
            })
        };
        let mut seed = 0x9e37_79b9_7f4a_7c15_u64;
        let mut hits_seen = 0;
        for _ in 0..20_000 {
            let mut line = Vec::new();
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            let mut s = seed;
            for _ in 0..2 + seed % 7 {
                line.extend_from_slice(pieces[(s % pieces.len() as u64) as usize].as_bytes());
                s = s.rotate_left(7).wrapping_mul(0x2545_f491_4f6c_dd1d);
            }
            for rule in &gated {
                let mut hits = Vec::new();
                rule.find_all(&line, &mut hits);
                if !hits.is_empty() {
                    hits_seen += 1;
                    assert!(
                        woken(rule, &line),
                        "`{}` found {:?} in {:?}, which no keyword hit wakes it for",
                        rule.id,
                        hits,
                        String::from_utf8_lossy(&line)
                    );
                }
            }
        }
        assert!(
            hits_seen > 500,
            "the random lines gave only {hits_seen} hits"
        );
    }
}
