//! The secret kinds of the adversarial corpus, each drawn fresh per plant and rendered as the
//! line(s) a tool would print: known values (configured as variables) in each of their
//! encodings, private keys, `Authorization: Basic`, hex values assigned to secret-named
//! variables, passwords with symbols, and documented token formats. Every value is FAKE and
//! random, so an 8-byte window of one is found nowhere else.

use super::encode;
use super::rng::{ALNUM, BASE64, Rng};
use super::segs::Segs;

/// What kind of secret a plant is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Kind {
    /// A value given to exlogare as a secret-named variable.
    Known,
    /// A PEM private key (plain, or base64-encoded as a whole).
    PrivateKey,
    /// `Authorization: Basic base64(user:pass)`.
    BasicAuth,
    /// A hex/hash-looking value assigned to a secret-named variable in the log.
    NamedHex,
    /// A password with symbols in an assignment.
    Password,
    /// A token in a documented format (ghp_, glpat-, AKIA, xoxb-, sk_live_, npm_).
    Token,
}

impl Kind {
    /// Every kind, in report order.
    pub const ALL: [Kind; 6] = [
        Kind::Known,
        Kind::PrivateKey,
        Kind::BasicAuth,
        Kind::NamedHex,
        Kind::Password,
        Kind::Token,
    ];

    /// The name in reports.
    pub fn name(self) -> &'static str {
        match self {
            Kind::Known => "known-value",
            Kind::PrivateKey => "private-key",
            Kind::BasicAuth => "basic-auth",
            Kind::NamedHex => "named-hex",
            Kind::Password => "password",
            Kind::Token => "token",
        }
    }
}

/// The encoding a known value appears in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Form {
    /// As it is.
    Raw,
    /// Inside base64 of a longer text, at byte offset 0, 1 or 2 modulo 3.
    Base64(u8),
    /// Percent-encoded.
    Url,
    /// JSON-escaped.
    Json,
}

impl Form {
    /// Every form.
    pub const ALL: [Form; 6] = [
        Form::Raw,
        Form::Base64(0),
        Form::Base64(1),
        Form::Base64(2),
        Form::Url,
        Form::Json,
    ];

    /// The name in reports.
    pub fn name(self) -> &'static str {
        match self {
            Form::Raw => "raw",
            Form::Base64(0) => "base64+0",
            Form::Base64(1) => "base64+1",
            Form::Base64(_) => "base64+2",
            Form::Url => "url",
            Form::Json => "json",
        }
    }
}

/// The shapes of known values.
pub const KNOWN_STYLES: [&str; 4] = ["alnum", "symbols", "hex", "long"];

/// A secret rendered as the lines a tool printed, before any context is applied.
#[derive(Clone, Debug)]
pub struct Core {
    /// The lines, without line ends; secret bytes are marked.
    pub lines: Vec<Segs>,
    /// The strings whose 8-byte windows must not survive.
    pub needles: Vec<Vec<u8>>,
    /// The variable to configure, for known values.
    pub known: Option<(String, String)>,
    /// A short description of the variant (style, template, key type).
    pub variant: String,
}

impl Core {
    fn one_line(line: Segs, needles: Vec<Vec<u8>>, variant: String) -> Core {
        Core {
            lines: vec![line],
            needles,
            known: None,
            variant,
        }
    }
}

/// A line made of `before`, the secret and `after`.
fn line(before: &str, secret: &str, after: &str) -> Segs {
    let mut s = Segs::of_text(before);
    s.secret(secret).text(after);
    s
}

/// A known value of `style`.
pub fn known_value(rng: &mut Rng, style: &str) -> String {
    match style {
        "symbols" => loop {
            const SYMBOLS: &[u8] = b"%~!#@'\"$&*()=+-_^";
            let len = rng.range(12, 20);
            let mut v: Vec<u8> = rng.string(ALNUM, len).into_bytes();
            for _ in 0..rng.range(3, 5) {
                let at = rng.below(v.len());
                v[at] = *rng.pick(SYMBOLS);
            }
            let v = String::from_utf8(v).unwrap_or_default();
            if v.len() >= 12 {
                return v;
            }
        },
        "hex" => {
            let len = *rng.pick(&[32, 40, 64]);
            rng.hex(len)
        }
        "long" => {
            let len = rng.range(120, 260);
            rng.string(BASE64, len)
        }
        _ => {
            let len = rng.range(16, 28);
            rng.string(ALNUM, len)
        }
    }
}

/// A known value: `name` holds it; `form` is how the line shows it.
pub fn known(rng: &mut Rng, name: &str, style: &str, form: Form) -> Core {
    let value = known_value(rng, style);
    let (line, template) = match form {
        Form::Raw => {
            const T: [(&str, &str); 6] = [
                (
                    "Connecting to postgres://db:5432/app as app with password ",
                    "",
                ),
                ("  secret value: ", " (from vault)"),
                ("Using credentials ci/", " for the upload"),
                ("[DEBUG]   (f) value = ", ""),
                (
                    "curl: (22) The requested URL returned error: 401 for key ",
                    "",
                ),
                ("deploy: signing release with ", " ... failed"),
            ];
            let i = rng.below(T.len());
            (line(T[i].0, &value, T[i].1), format!("raw#{i}"))
        }
        Form::Base64(pad) => {
            let user = loop {
                let n = rng.range(2, 6);
                let u = format!("ci{}", rng.string(ALNUM, n));
                if (u.len() + 1) % 3 == usize::from(pad) {
                    break u;
                }
            };
            let blob = encode::b64(format!("{user}:{value}").as_bytes());
            const T: [(&str, &str); 4] = [
                ("Authorization: Basic ", ""),
                ("{\"auths\":{\"registry.example.com\":{\"auth\":\"", "\"}}}"),
                ("  .dockerconfigjson: ", ""),
                ("$ echo ", " | base64 -d > /tmp/creds"),
            ];
            let i = rng.below(T.len());
            (line(T[i].0, &blob, T[i].1), format!("b64#{i}"))
        }
        Form::Url => {
            let enc = encode::url(&value);
            const T: [(&str, &str); 3] = [
                (
                    "remote: https://ci-bot:",
                    "@gitlab.example.com/acme/app.git",
                ),
                ("GET /callback?state=ok&password=", "&next=%2Fhome HTTP/1.1"),
                (
                    "fatal: unable to access 'https://deploy:",
                    "@git.example.com/repo.git/': 403",
                ),
            ];
            let i = rng.below(T.len());
            (line(T[i].0, &enc, T[i].1), format!("url#{i}"))
        }
        Form::Json => {
            let enc = encode::json(&value);
            const T: [(&str, &str); 2] = [
                ("{\"user\":\"ci\",\"password\":\"", "\",\"retries\":3}"),
                ("  \"value\": \"", "\","),
            ];
            let i = rng.below(T.len());
            (line(T[i].0, &enc, T[i].1), format!("json#{i}"))
        }
    };
    Core {
        lines: vec![line],
        needles: encode::known_forms(&value),
        known: Some((name.to_string(), value)),
        variant: format!("{style}/{template}"),
    }
}

/// The PEM key types.
pub const PEM_TYPES: [&str; 3] = ["RSA", "EC", "OPENSSH"];

/// The ways a whole PEM block is shown base64-encoded.
pub const PEM_B64_STYLES: [&str; 3] = ["k8s-data", "env-b64", "echo-base64"];

/// A PEM private key, plain (`b64_style` = None) or base64-encoded as a whole.
pub fn private_key(rng: &mut Rng, key_type: &str, b64_style: Option<&str>) -> Core {
    let (label, body_len, width): (&str, usize, usize) = match key_type {
        "EC" => ("EC PRIVATE KEY", 121, 64),
        "OPENSSH" => ("OPENSSH PRIVATE KEY", 400, 70),
        _ => ("RSA PRIVATE KEY", 1190, 64),
    };
    let body = rng.string(BASE64, body_len.div_ceil(3) * 4);
    let body_lines: Vec<&str> = body
        .as_bytes()
        .chunks(width)
        .map(|c| std::str::from_utf8(c).unwrap_or(""))
        .collect();
    let begin = format!("-----BEGIN {label}-----");
    let end = format!("-----END {label}-----");
    let Some(style) = b64_style else {
        let mut lines = vec![Segs::of_text(&begin)];
        for l in &body_lines {
            let mut s = Segs::new();
            s.secret(l);
            lines.push(s);
        }
        lines.push(Segs::of_text(&end));
        return Core {
            lines,
            needles: body_lines.iter().map(|l| l.as_bytes().to_vec()).collect(),
            known: None,
            variant: key_type.to_string(),
        };
    };
    let pem = format!("{begin}\n{}\n{end}\n", body_lines.join("\n"));
    let blob = encode::b64(pem.as_bytes());
    // The needle is the part of the blob that encodes the body alone.
    let first = (begin.len() + 1).div_ceil(3) * 4;
    let last = (pem.len() - end.len() - 2) / 3 * 4;
    let needle = blob.get(first..last).unwrap_or("").as_bytes().to_vec();
    let lines = match style {
        "k8s-data" => vec![line("  tls.key: ", &blob, "")],
        "env-b64" => vec![line("DEPLOY_SSH_KEY_B64=", &blob, "")],
        _ => {
            let mut lines = vec![Segs::of_text("$ echo \"$SSH_PRIVATE_KEY\" | base64")];
            for c in blob.as_bytes().chunks(76) {
                let mut s = Segs::new();
                s.secret(c);
                lines.push(s);
            }
            lines
        }
    };
    Core {
        lines,
        needles: vec![needle],
        known: None,
        variant: format!("{key_type}/{style}"),
    }
}

/// `Authorization: Basic` with fresh credentials, in one of several spellings.
pub fn basic_auth(rng: &mut Rng) -> Core {
    let n = rng.range(3, 8);
    let user = format!("svc-{}", rng.string(ALNUM, n));
    let style = if rng.below(2) == 0 {
        "symbols"
    } else {
        "alnum"
    };
    let pass = known_value(rng, style);
    let blob = encode::b64(format!("{user}:{pass}").as_bytes());
    let header = *rng.pick(&["Authorization", "authorization", "AUTHORIZATION"]);
    let templates = [
        (format!("{header}: Basic "), String::new()),
        (
            format!("\"{}\": \"Basic ", header.to_ascii_lowercase()),
            "\",".to_string(),
        ),
        (
            format!("curl -sS -H '{header}: Basic "),
            "' https://nexus.example.com/service/rest/v1/status".to_string(),
        ),
        ("proxy-authorization: Basic ".to_string(), String::new()),
        (
            format!("{{'{header}': 'Basic "),
            "', 'Accept': '*/*'}".to_string(),
        ),
    ];
    let i = rng.below(templates.len());
    let (before, after) = &templates[i];
    Core::one_line(
        line(before, &blob, after),
        vec![blob.clone().into_bytes()],
        format!("{header}#{i}"),
    )
}

/// The names of secret-named variables given hex values in logs.
const HEX_NAMES: [&str; 10] = [
    "SIGNING_SECRET",
    "API_KEY",
    "WEBHOOK_SECRET",
    "CLIENT_SECRET",
    "ENCRYPTION_KEY",
    "HMAC_KEY",
    "DEPLOY_TOKEN",
    "SESSION_SECRET",
    "JWT_SECRET",
    "APP_KEY",
];

/// A hex/hash-looking value assigned to a secret-named variable.
pub fn named_hex(rng: &mut Rng) -> Core {
    let name = *rng.pick(&HEX_NAMES);
    let len = *rng.pick(&[32, 40, 64]);
    let value = rng.hex(len);
    let lower = name.to_ascii_lowercase();
    let templates = [
        (format!("export {name}="), String::new()),
        (format!("{name}: "), String::new()),
        (format!("{name}=\""), "\"".to_string()),
        (
            format!("--set secrets.{lower}="),
            " --namespace ci".to_string(),
        ),
        (format!("{lower} = \""), "\"".to_string()),
        (format!("\"{lower}\": \""), "\",".to_string()),
        (format!("#7 [4/9] ENV {name}="), String::new()),
        (format!("{name}='"), "'".to_string()),
    ];
    let i = rng.below(templates.len());
    let (before, after) = &templates[i];
    Core::one_line(
        line(before, &value, after),
        vec![value.clone().into_bytes()],
        format!("{name}/{len}#{i}"),
    )
}

/// A password with symbols in an assignment.
pub fn password(rng: &mut Rng) -> Core {
    // Quote-safe alphabets per template: a value never holds its own quote.
    let value = |rng: &mut Rng, forbid: &[u8]| loop {
        let v = known_value(rng, "symbols");
        if !v.bytes().any(|b| forbid.contains(&b) || b == b' ') && v.len() >= 10 {
            return v;
        }
    };
    let i = rng.below(9);
    let (before, secret, after) = match i {
        0 => ("password=".to_string(), value(rng, b"&"), String::new()),
        1 => (
            "+ PGPASSWORD='".to_string(),
            value(rng, b"'"),
            "' psql -h db -U app -c 'select 1'".to_string(),
        ),
        2 => (
            "$ mysql -uroot -p'".to_string(),
            value(rng, b"'"),
            "' -e 'show databases'".to_string(),
        ),
        3 => (
            "docker login --username ci --password \"".to_string(),
            value(rng, b"\"\\$"),
            "\" registry.example.com".to_string(),
        ),
        4 => (
            "  \"password\": \"".to_string(),
            encode::json(&value(rng, b"")),
            "\",".to_string(),
        ),
        5 => (
            "[DEBUG] settings.xml server nexus: <password>".to_string(),
            value(rng, b"&<>"),
            "</password>".to_string(),
        ),
        6 => (
            "MYSQL_ROOT_PASSWORD: ".to_string(),
            value(rng, b"#'\""),
            String::new(),
        ),
        7 => (
            "admin_password = \"".to_string(),
            value(rng, b"\"\\"),
            "\"".to_string(),
        ),
        _ => (
            "Login succeeded for user ci with passwd ".to_string(),
            value(rng, b""),
            String::new(),
        ),
    };
    Core::one_line(
        line(&before, &secret, &after),
        vec![secret.clone().into_bytes()],
        format!("assign#{i}"),
    )
}

/// The documented token formats.
pub const TOKEN_TYPES: [&str; 6] = ["ghp", "glpat", "akia", "xoxb", "sk_live", "npm"];

const B62: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/// `body` + base62(crc32(body)) in 6 digits: GitHub's and npm's checksummed token layout.
fn with_crc(body: &str) -> String {
    let mut n = crc32fast::hash(body.as_bytes());
    let mut digits = Vec::new();
    while n > 0 {
        digits.push(B62[(n % 62) as usize]);
        n /= 62;
    }
    while digits.len() < 6 {
        digits.push(b'0');
    }
    digits.reverse();
    format!("{body}{}", String::from_utf8(digits).unwrap_or_default())
}

/// A fresh token of `kind`, valid for its format (checksums included).
pub fn token_value(rng: &mut Rng, kind: &str) -> String {
    match kind {
        "ghp" => format!("ghp_{}", with_crc(&rng.string(ALNUM, 30))),
        "npm" => format!("npm_{}", with_crc(&rng.string(ALNUM, 30))),
        "glpat" => format!(
            "glpat-{}",
            rng.string(
                b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-",
                20
            )
        ),
        "akia" => format!(
            "AKIA{}",
            rng.string(b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", 16)
        ),
        "xoxb" => format!(
            "xoxb-{}-{}-{}",
            rng.string(b"0123456789", 12),
            rng.string(b"0123456789", 13),
            rng.string(ALNUM, 24)
        ),
        _ => format!("sk_live_{}", rng.string(ALNUM, 24)),
    }
}

/// A documented-format token in a line where a tool would print it.
pub fn token(rng: &mut Rng, kind: &str) -> Core {
    let value = token_value(rng, kind);
    let (before, after) = match kind {
        "ghp" => (
            "remote: https://x-access-token:",
            "@github.com/acme/app.git",
        ),
        "npm" => ("//registry.npmjs.org/:_authToken=", ""),
        "glpat" => (
            "$ curl -sf --header \"PRIVATE-TOKEN: ",
            "\" https://gitlab.example.com/api/v4/projects",
        ),
        "akia" => ("aws_access_key_id = ", ""),
        "xoxb" => ("Posting to Slack with ", " ... 200 OK"),
        _ => ("INFO  app: stripe key ", " loaded"),
    };
    Core::one_line(
        line(before, &value, after),
        vec![value.clone().into_bytes()],
        kind.to_string(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn github_tokens_carry_a_valid_checksum() {
        // The token of tests/corpus/generate.py.
        assert_eq!(
            with_crc("FAKEfake0000TestToken1234abcde"),
            "FAKEfake0000TestToken1234abcde0Na3wc"
        );
    }

    #[test]
    fn a_base64_pem_needle_is_inside_the_blob_and_encodes_only_the_body() {
        let mut rng = Rng::new(3);
        for style in PEM_B64_STYLES {
            let core = private_key(&mut rng, "EC", Some(style));
            let all: Vec<u8> = core
                .lines
                .iter()
                .flat_map(|l| l.secret_runs().concat())
                .collect();
            let needle = &core.needles[0];
            assert!(needle.len() > 100);
            assert!(
                all.windows(needle.len()).any(|w| w == &needle[..]),
                "{style}"
            );
            assert!(
                !needle.starts_with(b"LS0t"),
                "the header is not part of the needle"
            );
        }
    }
}
