//! Which values are secret: the token, variables whose names look secret, the names the user
//! listed, and the contents of GitLab "file" variables with such names.

use std::path::Path;

/// A secret value and the variable it came from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Secret {
    /// Variable name (shown in reports).
    pub name: String,
    /// The value (never shown).
    pub value: String,
}

/// Name segments that mark a variable as secret (`DB_PASSWORD`, `NPM_TOKEN`, `API_KEY`...).
const SECRET_SEGMENTS: &[&str] = &[
    "TOKEN",
    "TOKENS",
    "SECRET",
    "SECRETS",
    "PASSWORD",
    "PASSWORDS",
    "PASSWD",
    "PASSPHRASE",
    "PASS",
    "PW",
    "PWD",
    "KEY",
    "KEYS",
    "APIKEY",
    "ACCESSKEY",
    "SECRETKEY",
    "PRIVATEKEY",
    "CREDENTIAL",
    "CREDENTIALS",
    "CREDS",
    "AUTH",
    "JWT",
    "COOKIE",
    "DSN",
    "SALT",
    "SIGNATURE",
    "CONNECTIONSTRING",
    "WEBHOOK",
];

/// Suffixes of a segment that mark it secret (`GITHUBTOKEN`, `CLIENTSECRET`).
const SECRET_SUFFIXES: &[&str] = &["TOKEN", "SECRET", "PASSWORD", "PASSWD", "APIKEY"];

/// Variables that look secret by name but hold none.
const NOT_SECRET: &[&str] = &[
    "PWD",
    "OLDPWD",
    "EXLOGARE_REDACT_VARS",
    "CI_JOB_TOKEN_SCOPE",
    "SSH_AUTH_SOCK",
    "GPG_AGENT_INFO",
    "XAUTHORITY",
];

/// Whether a variable name looks like it holds a secret.
pub fn name_looks_secret(name: &str) -> bool {
    let upper = name.to_ascii_uppercase();
    if NOT_SECRET.contains(&upper.as_str()) {
        return false;
    }
    upper
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|s| !s.is_empty())
        .any(|seg| {
            SECRET_SEGMENTS.contains(&seg) || SECRET_SUFFIXES.iter().any(|suf| seg.ends_with(suf))
        })
}

/// Largest file whose contents are taken as a secret (GitLab file-type variables).
const MAX_SECRET_FILE: u64 = 64 << 10;

/// Collects the known secrets from the environment: `token`, every secret-named variable,
/// and the variables named in `extra_names`. A secret-named variable whose value is the path
/// of a small file (GitLab file-type variables) contributes the file's contents too.
pub fn collect(
    env: &[(String, String)],
    token: Option<&str>,
    extra_names: &[String],
) -> Vec<Secret> {
    let mut out: Vec<Secret> = Vec::new();
    let mut push = |name: &str, value: &str| {
        let value = value.trim_matches(|c| c == '\n' || c == '\r');
        if value.trim().is_empty() {
            return;
        }
        if !out.iter().any(|s| s.value == value) {
            out.push(Secret {
                name: name.to_string(),
                value: value.to_string(),
            });
        }
    };
    if let Some(token) = token {
        push("EXLOGARE_TOKEN", token);
    }
    for (name, value) in env {
        let listed = extra_names.iter().any(|n| n == name);
        if !(listed || name_looks_secret(name)) {
            continue;
        }
        push(name, value);
        if let Some(contents) = file_variable_contents(value) {
            push(&format!("{name}(file)"), &contents);
        }
    }
    // A proxy URL's password (HTTPS_PROXY=http://user:pass@proxy:3128) is a secret too.
    for (name, value) in env {
        if name.to_ascii_uppercase().ends_with("_PROXY")
            && let Some(password) = url_password(value)
        {
            push(&format!("{name}(password)"), &password);
        }
    }
    out
}

/// The password in a URL's userinfo, as written.
fn url_password(value: &str) -> Option<String> {
    let rest = value
        .trim()
        .split_once("://")
        .map_or(value.trim(), |(_, r)| r);
    let authority = rest.split(['/', '?', '#']).next()?;
    let (userinfo, _) = authority.rsplit_once('@')?;
    let (_, password) = userinfo.split_once(':')?;
    (!password.is_empty()).then(|| password.to_string())
}

/// The contents of a GitLab file-type variable: its value is an absolute path to a small
/// UTF-8 file.
fn file_variable_contents(value: &str) -> Option<String> {
    let path = Path::new(value.trim());
    if !path.is_absolute() || value.contains('\n') {
        return None;
    }
    let meta = std::fs::metadata(path).ok()?;
    if !meta.is_file() || meta.len() == 0 || meta.len() > MAX_SECRET_FILE {
        return None;
    }
    String::from_utf8(std::fs::read(path).ok()?).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_that_look_secret() {
        for name in [
            "DB_PASSWORD",
            "NPM_TOKEN",
            "AWS_SECRET_ACCESS_KEY",
            "API_KEY",
            "CI_JOB_TOKEN",
            "GITHUBTOKEN",
            "client_secret",
            "SENTRY_DSN",
            "DEPLOY_KEY",
            "MY_PASSPHRASE",
            "CI_JOB_JWT_V2",
            "REGISTRY_PASS",
        ] {
            assert!(name_looks_secret(name), "{name}");
        }
        for name in [
            "PWD",
            "HOME",
            "CI_PROJECT_PATH",
            "MONKEY_BUSINESS",
            "KEYBOARD",
            "PATH",
            "CI_COMMIT_SHA",
            "SSH_AUTH_SOCK",
            "TOKENIZER_MODE_X",
        ] {
            assert!(!name_looks_secret(name), "{name}");
        }
    }

    #[test]
    fn collects_token_secret_names_listed_names_and_file_contents() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("SERVICE_KEY");
        std::fs::write(&file, "line-one-secret\nline-two-secret\n").unwrap();
        let env = vec![
            ("DB_PASSWORD".to_string(), "hunter2hunter2".to_string()),
            ("MY_THING".to_string(), "listed-value-1".to_string()),
            ("CI_PROJECT_PATH".to_string(), "group/project".to_string()),
            ("SERVICE_KEY".to_string(), file.display().to_string()),
            ("EMPTY_TOKEN".to_string(), "  ".to_string()),
            (
                "HTTPS_PROXY".to_string(),
                "http://user:pr0xy-passw0rd@proxy:3128".to_string(),
            ),
        ];
        let got = collect(&env, Some("tok-123456789"), &["MY_THING".to_string()]);
        let names: Vec<&str> = got.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "EXLOGARE_TOKEN",
                "DB_PASSWORD",
                "MY_THING",
                "SERVICE_KEY",
                "SERVICE_KEY(file)",
                "HTTPS_PROXY(password)"
            ]
        );
        assert_eq!(got[5].value, "pr0xy-passw0rd");
        assert_eq!(got[4].value, "line-one-secret\nline-two-secret");
    }
}
