//! One test per built-in rule: real formats (fake values, valid checksums) must be redacted as
//! documented; look-alikes, hashes and prose must survive untouched.

use exlogare_redact::{Config, KnownSecret, redact_all, with_crc32_base62};

fn red(input: &str) -> String {
    red_with(
        &Config {
            min_secret_len: 8,
            ..Config::default()
        },
        input,
    )
}

fn red_with(config: &Config, input: &str) -> String {
    let (out, _) = redact_all(config, input.as_bytes()).expect("config");
    String::from_utf8(out).expect("utf8")
}

fn report(input: &str) -> Vec<(String, u64)> {
    redact_all(
        &Config {
            min_secret_len: 8,
            ..Config::default()
        },
        input.as_bytes(),
    )
    .expect("config")
    .1
}

#[track_caller]
fn same(input: &str) {
    assert_eq!(red(input), input, "must not be redacted");
}

fn gh(prefix: &str) -> String {
    format!(
        "{prefix}{}",
        with_crc32_base62("Zq3X9kLm2Pw8Rt5Yv1Bn7Cd4Fg6Hj0")
    )
}

#[test]
fn github_tokens_with_checksum() {
    for (p, id) in [
        ("ghp_", "github-pat"),
        ("gho_", "github-oauth-token"),
        ("ghu_", "github-user-token"),
        ("ghs_", "github-app-token"),
        ("ghr_", "github-refresh-token"),
    ] {
        let t = gh(p);
        assert_eq!(
            red(&format!("using {t} now")),
            format!("using {p}[REDACTED:{id}] now")
        );
    }
    // Same shape, wrong checksum: not a GitHub token.
    same("ghp_Zq3X9kLm2Pw8Rt5Yv1Bn7Cd4Fg6Hj0AAAAAA");
    same("ghp_short");
    let fg = format!(
        "github_pat_11ABCDEFG0{}_{}",
        "a1B2c3D4e5F6",
        "Zz9".repeat(19) + "xy"
    );
    assert_eq!(
        red(&format!("t={fg}")),
        "t=[REDACTED:github-fine-grained-pat]"
    );
}

#[test]
fn assignment_defers_to_token_rule() {
    let t = gh("ghp_");
    assert_eq!(
        red(&format!("GITHUB_TOKEN={t}")),
        "GITHUB_TOKEN=ghp_[REDACTED:github-pat]"
    );
}

#[test]
fn npm_tokens_with_checksum() {
    let t = format!(
        "npm_{}",
        with_crc32_base62("aB3dE5gH7jK9mN1pQ3sT5vW7yZ9bC1")
    );
    assert_eq!(
        red(&format!("//registry.npmjs.org/:_authToken={t}")),
        "//registry.npmjs.org/:_authToken=npm_[REDACTED:npm-token]"
    );
    same("npm_aB3dE5gH7jK9mN1pQ3sT5vW7yZ9bC1000000 is not valid");
}

#[test]
fn gitlab_tokens() {
    assert_eq!(
        red("glpat-AbCdEfGhIjKlMnOpQrSt"),
        "glpat-[REDACTED:gitlab-pat]"
    );
    assert_eq!(
        red("token glpat-Xy9_Zk3-Lm5Nq7Rs1Tu3Vw5Yz7Ab9Cd.01.171abcd12 ok"),
        "token glpat-[REDACTED:gitlab-pat] ok"
    );
    assert_eq!(
        red("gldt-AbCdEfGhIjKlMnOpQrSt1"),
        "gldt-[REDACTED:gitlab-deploy-token]"
    );
    assert_eq!(
        red("glrt-t1_AbCdEfGhIjKlMnOpQrSt"),
        "glrt-[REDACTED:gitlab-runner-token]"
    );
    assert_eq!(
        red("glcbt-64_AbCdEfGhIjKlMnOpQrSt"),
        "glcbt-[REDACTED:gitlab-ci-build-token]"
    );
    assert_eq!(
        red("glptt-0123456789abcdef0123456789abcdef01234567"),
        "glptt-[REDACTED:gitlab-pipeline-trigger-token]"
    );
    assert_eq!(
        red("glft-AbCdEfGhIjKlMnOpQrSt"),
        "glft-[REDACTED:gitlab-feed-token]"
    );
    assert_eq!(
        red("glimt-AbCdEfGhIjKlMnOpQrSt1234"),
        "glimt-[REDACTED:gitlab-incoming-mail-token]"
    );
    assert_eq!(
        red("glagent-AbCdEfGhIjKlMnOpQrStAbCdEfGhIjKlMnOpQrSt12345678"),
        "glagent-[REDACTED:gitlab-agent-token]"
    );
    assert_eq!(
        red("glsoat-AbCdEfGhIjKlMnOpQrSt"),
        "glsoat-[REDACTED:gitlab-scim-token]"
    );
    assert_eq!(
        red("gloas-0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"),
        "gloas-[REDACTED:gitlab-oauth-app-secret]"
    );
    assert_eq!(
        red("--registration-token GR1348941AbCdEfGhIjKlMnOpQrSt"),
        "--registration-token [REDACTED:gitlab-runner-registration-token]"
    );
    same("glpat-short");
    same("see the glpat- docs");
}

#[test]
fn aws_keys() {
    assert_eq!(
        red("id AKIAIOSFODNN7EXAMPLE"),
        "id AKIA[REDACTED:aws-access-key-id]"
    );
    assert_eq!(
        red("ASIAY34FZKBOKMUTVV7A"),
        "ASIA[REDACTED:aws-access-key-id]"
    );
    assert_eq!(
        red("aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"),
        "aws_secret_access_key = [REDACTED:aws-secret-access-key]"
    );
    assert_eq!(
        red(r#"  "SecretAccessKey": "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY","#),
        r#"  "SecretAccessKey": "[REDACTED:aws-secret-access-key]","#
    );
    assert_eq!(
        red("AKIAIOSFODNN7EXAMPLE,wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"),
        "AKIA[REDACTED:aws-access-key-id],[REDACTED:aws-secret-access-key]"
    );
    // A commit SHA next to nothing AWS-like stays; a 40-hex next to a key id is not a secret key.
    same("commit 3f786850e387550fdab836ed7e6dc881de23001b");
    assert_eq!(
        red("AKIAIOSFODNN7EXAMPLE 3f786850e387550fdab836ed7e6dc881de23001b"),
        "AKIA[REDACTED:aws-access-key-id] 3f786850e387550fdab836ed7e6dc881de23001b"
    );
    same("Travelling to ASIA next week");
}

#[test]
fn slack_stripe_google_others() {
    assert_eq!(
        red("xoxb-1234567890-0987654321-AbCdEfGhIjKlMnOpQrStUvWx"),
        "xoxb-[REDACTED:slack-token]"
    );
    assert_eq!(
        red("xapp-1-A0123456789-1234567890123-abcdef0123456789abcdef"),
        "xapp-[REDACTED:slack-app-token]"
    );
    assert_eq!(
        red("https://hooks.slack.com/services/T00000000/B00000000/XXXXXXXXXXXXXXXXXXXXXXXX"),
        "https://hooks.slack.com/services/[REDACTED:slack-webhook]"
    );
    assert_eq!(
        red("sk_live_4eC39HqLyjWDarjtT1zdp7dc"),
        "[REDACTED:stripe-key]"
    );
    assert_eq!(
        red("rk_test_4eC39HqLyjWDarjtT1zdp7dc"),
        "[REDACTED:stripe-key]"
    );
    assert_eq!(
        red("key=AIzaSyA1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q"),
        "key=AIza[REDACTED:google-api-key]"
    );
    assert_eq!(
        red(&format!(
            "pypi-AgEIcHlwaS5vcmc{}",
            "CJDQ2ZTVkNmY0LWE3NjgtNDc5Mi1hMzY1LTFmMzdmNmE5NzE0ZAACKlsz".repeat(2)
        )),
        "pypi-[REDACTED:pypi-token]"
    );
    assert_eq!(
        red("dckr_pat_AbCdEfGhIjKlMnOpQrStUvWxYz0"),
        "dckr_pat_[REDACTED:dockerhub-pat]"
    );
    assert_eq!(
        red("OPENAI sk-proj-AbCdEfGhIjKlMnOpQrStUvWxYz0123456789AbCdEfGhIjKlMnOpQrSt_uv-wx"),
        "OPENAI sk-proj-[REDACTED:openai-api-key]"
    );
    assert_eq!(
        red("sk-AbCdEfGhIjKlMnOpQrStT3BlbkFJAbCdEfGhIjKlMnOpQrSt"),
        "sk-[REDACTED:openai-api-key]"
    );
    assert_eq!(
        red(
            "x sk-ant-api03-AbCdEfGhIjKlMnOpQrStUvWxYz0123456789_-AbCdEfGhIjKlMnOpQrStUvWxYz0123456789AbCdEfGhIjKlMnOpQrStUvWxAA"
        ),
        "x [REDACTED:anthropic-api-key]"
    );
    let key =
        "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";
    assert_eq!(
        red(&format!(
            "DefaultEndpointsProtocol=https;AccountName=acct;AccountKey={key};EndpointSuffix=core.windows.net"
        )),
        "DefaultEndpointsProtocol=https;AccountName=acct;AccountKey=[REDACTED:azure-storage-key];EndpointSuffix=core.windows.net"
    );
}

#[test]
fn jwt() {
    let jwt = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4ifQ.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c";
    assert_eq!(red(&format!("jwt: {jwt}")), "jwt: [REDACTED:jwt]");
    assert_eq!(
        red(&format!("Authorization: Bearer {jwt}")),
        "Authorization: Bearer [REDACTED:jwt]"
    );
    same("eyJhbGciOiJIUzI1NiJ9 alone is just a header");
}

#[test]
fn pem_blocks() {
    let body = "MIIEowIBAAKCAQEAu1SU1LfVLPHCozMxH2Mo4lgOEePzNm0tRgeLezV6ffAt0gun\nVTLw7onLRnrq0/IzW7yWR7QkrmBL7jTKEn5u+qKhbwKfBstIs+bMY2Zkp18gnTxK\nLxoS2tFczGkPLPgizskuemMghRniWaoLcyehkd3qqGElvW/VDL5AaWTg0nLVkjRo\n9z+40RQzuVaE8AkAFmxZzow3x+VJYKdjykkJ0iT9wCS0DRTXu269V264Vf/3jvre\nQIDAQAB";
    for kind in [
        "RSA PRIVATE KEY",
        "PRIVATE KEY",
        "EC PRIVATE KEY",
        "OPENSSH PRIVATE KEY",
        "ENCRYPTED PRIVATE KEY",
        "DSA PRIVATE KEY",
        "PGP PRIVATE KEY BLOCK",
    ] {
        let input =
            format!("before\n-----BEGIN {kind}-----\n{body}\n-----END {kind}-----\nafter\n");
        assert_eq!(
            red(&input),
            format!(
                "before\n-----BEGIN {kind}-----\n[REDACTED:private-key]\n-----END {kind}-----\nafter\n"
            ),
            "{kind}"
        );
    }
    // With a timestamp prefix on every line.
    let mut input = String::from("2024-05-01T10:00:00.000Z -----BEGIN RSA PRIVATE KEY-----\n");
    for (i, l) in body.lines().enumerate() {
        input.push_str(&format!("2024-05-01T10:00:0{i}.123Z {l}\n"));
    }
    input.push_str(
        "2024-05-01T10:00:09.000Z -----END RSA PRIVATE KEY-----\n2024-05-01T10:00:09.500Z done\n",
    );
    assert_eq!(
        red(&input),
        "2024-05-01T10:00:00.000Z -----BEGIN RSA PRIVATE KEY-----\n2024-05-01T10:00:00.123Z [REDACTED:private-key]\n2024-05-01T10:00:09.000Z -----END RSA PRIVATE KEY-----\n2024-05-01T10:00:09.500Z done\n"
    );
    // Encrypted PEM headers and a blank line are kept.
    let input = format!(
        "-----BEGIN RSA PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\nDEK-Info: AES-128-CBC,0123456789ABCDEF\n\n{body}\n-----END RSA PRIVATE KEY-----\n"
    );
    assert_eq!(
        red(&input),
        "-----BEGIN RSA PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\nDEK-Info: AES-128-CBC,0123456789ABCDEF\n\n[REDACTED:private-key]\n-----END RSA PRIVATE KEY-----\n"
    );
    // Unterminated: redacted up to the first line that is not body.
    let input = format!("-----BEGIN PRIVATE KEY-----\n{body}\nerror: build failed\n");
    assert_eq!(
        red(&input),
        "-----BEGIN PRIVATE KEY-----\n[REDACTED:private-key]\nerror: build failed\n"
    );
    // One line, JSON-escaped.
    let esc = body.replace('\n', "\\n");
    let input = format!(
        r#"{{"private_key": "-----BEGIN PRIVATE KEY-----\n{esc}\n-----END PRIVATE KEY-----\n", "x": 1}}"#
    );
    assert_eq!(
        red(&input),
        r#"{"private_key": "-----BEGIN PRIVATE KEY-----[REDACTED:private-key]-----END PRIVATE KEY-----\n", "x": 1}"#
    );
    same("-----BEGIN CERTIFICATE-----\nMIIBszCCAVmgAwIBAgIUX\n-----END CERTIFICATE-----\n");
    assert_eq!(
        report(&format!(
            "-----BEGIN PRIVATE KEY-----\n{body}\n-----END PRIVATE KEY-----\n"
        )),
        vec![("private-key".to_string(), 1)]
    );
}

#[test]
fn authorization_headers() {
    assert_eq!(
        red("Authorization: Bearer abcdef0123456789"),
        "Authorization: Bearer [REDACTED:authorization-header]"
    );
    assert_eq!(
        red("curl -H \"Authorization: Basic dXNlcjpwYXNzd29yZA==\" x"),
        "curl -H \"Authorization: Basic [REDACTED:authorization-header]\" x"
    );
    assert_eq!(
        red("authorization: token 0123456789abcdef0123"),
        "authorization: token [REDACTED:authorization-header]"
    );
    same("-H \"Authorization: Bearer $EXLOGARE_TOKEN\"");
    same("Authorization: Bearer ${TOKEN}");
    same("Authorization: Bearer [MASKED]");
    same("missing authorization header");
}

#[test]
fn url_credentials() {
    assert_eq!(
        red("cloning https://user:s3cretpass@gitlab.example.com/g/p.git"),
        "cloning https://user:[REDACTED:url-credentials]@gitlab.example.com/g/p.git"
    );
    assert_eq!(
        red("postgres://app:hunter2@db:5432/app"),
        "postgres://app:[REDACTED:url-credentials]@db:5432/app"
    );
    assert_eq!(
        red("redis://:p4ss@cache:6379"),
        "redis://:[REDACTED:url-credentials]@cache:6379"
    );
    assert_eq!(
        red("mongodb+srv://u:p%40ss@cluster0.mongodb.net/db"),
        "mongodb+srv://u:[REDACTED:url-credentials]@cluster0.mongodb.net/db"
    );
    same("https://gitlab-ci-token:[MASKED]@gitlab.com/g/p.git");
    same("postgres://app:${DB_PASSWORD}@db/app");
    same("https://example.com:8443/path?a=b");
    same("git@github.com:org/repo.git");
}

#[test]
fn assignments() {
    assert_eq!(
        red("password=hunter2"),
        "password=[REDACTED:password-assignment]"
    );
    assert_eq!(
        red("DB_PASSWORD: 'correct horse'"),
        "DB_PASSWORD: '[REDACTED:password-assignment]'"
    );
    assert_eq!(
        red(r#"{"password":"s3cr3t!"}"#),
        r#"{"password":"[REDACTED:password-assignment]"}"#
    );
    assert_eq!(
        red("mysql --password s3cr3tpw -h db"),
        "mysql --password [REDACTED:password-assignment] -h db"
    );
    assert_eq!(
        red("export API_KEY=abcd1234efgh5678"),
        "export API_KEY=[REDACTED:secret-assignment]"
    );
    assert_eq!(
        red("client_secret: 0123456789abcdefXYZ"),
        "client_secret: [REDACTED:secret-assignment]"
    );
    assert_eq!(
        red("Server=db;User Id=sa;Password=Sup3rS3cret!;"),
        "Server=db;User Id=sa;Password=[REDACTED:password-assignment];"
    );
    assert_eq!(
        red("token: abcdefgh12345678"),
        "token: [REDACTED:secret-assignment]"
    );
    same("SyntaxError: Unexpected token '}'");
    same("Unexpected token: punc (;)");
    same("cache key: abc-123-def");
    same("password: ***");
    same("password=[MASKED]");
    same("PASSWORD=$DB_PASSWORD");
    same("password=${DB_PASSWORD}");
    same("password: <redacted>");
    same("password=");
    same("password: null");
    same("PWD=/builds/group/project");
    same("max_tokens: 4096");
    same("token_type: bearer");
}

#[test]
fn passwords_with_symbols_and_quotes() {
    for (input, expected) in [
        (
            "DB_PASSWORD=p%4~x!#@Zq9",
            "DB_PASSWORD=[REDACTED:password-assignment]",
        ),
        (
            r#"DB_PASSWORD=ab"cd'ef!9"#,
            "DB_PASSWORD=[REDACTED:password-assignment]",
        ),
        (
            r#"+ export 'DB_PASSWORD=ab"cd#9'"#,
            "+ export 'DB_PASSWORD=[REDACTED:password-assignment]'",
        ),
        (
            r#"{"password":"ab\"cd\\ef~1","user":"app"}"#,
            r#"{"password":"[REDACTED:password-assignment]","user":"app"}"#,
        ),
        (
            r"export DB_PASSWORD='ab'\''cd%9'",
            "export DB_PASSWORD='[REDACTED:password-assignment]'",
        ),
        (
            "REDIS_PASSWORD: \"~!@#%^*()_+\" # from vault",
            "REDIS_PASSWORD: \"[REDACTED:password-assignment]\" # from vault",
        ),
    ] {
        assert_eq!(red(input), expected, "{input}");
    }
    assert_eq!(
        red("Login succeeded for user ci with passwd Vh1dDg@=6l79lU*"),
        "Login succeeded for user ci with passwd [REDACTED:password-assignment]"
    );
    same("FATAL: password authentication failed for user \"app\"");
    same("Enter password for new role:");
    same("the password is incorrect");
    for (input, expected) in [
        (
            "password=$9ExRU%1_#Ol",
            "password=[REDACTED:password-assignment]",
        ),
        (
            "password='-Vhj'jnr(m#f",
            "password='[REDACTED:password-assignment]",
        ),
        (
            "with passwd al&BXA5TLg2'8HExd8r",
            "with passwd [REDACTED:password-assignment]",
        ),
        (
            "with passwd LxCdBA*72&#35ts-JF",
            "with passwd [REDACTED:password-assignment]",
        ),
    ] {
        assert_eq!(red(input), expected, "{input}");
    }
    same("password=$DB_PASSWORD");
    same("password=$(cat /run/secrets/db)");
    // Separators still end a bare value.
    assert_eq!(
        red("password=abc123&user=app"),
        "password=[REDACTED:password-assignment]&user=app"
    );
}

#[test]
fn secret_named_hex_values_the_name_decides() {
    let hex40 = "b3575489d132bb43a882d71df01ad8d01737dc19";
    let hex64 = "5c8c6c51936591521a106ee1779bec8e22980aebf73f8ea2f9d840d56c77b4cb";
    for input in [
        format!("--set secrets.hmac_key={hex40} --namespace ci"),
        format!("#7 [4/9] ENV APP_KEY={hex40}"),
        format!("HMAC_KEY='{hex64}'"),
        format!("export SIGNING_SECRET={hex64}"),
        format!("API_KEY: {hex40}"),
        format!("\"session_secret\": \"{hex64}\","),
    ] {
        let out = red(&input);
        assert!(
            !out.contains(&hex40[..12]) && !out.contains(&hex64[..12]),
            "{input} -> {out}"
        );
    }
    for input in [
        format!("CACHE_KEY={hex40}"),
        format!("GPG_KEY={hex40}"),
        format!("commit {hex40}"),
        format!("IMAGE_SHA={hex64}"),
        format!("digest: sha256:{hex64}"),
        "primary_key: id".to_string(),
        format!("sort_key={hex40}"),
    ] {
        same(&input);
    }
}

#[test]
fn mysql_password_flags_and_xml_elements() {
    assert_eq!(
        red("$ mysql -uroot -p'5(KdHg)b3rGKY42)^~sQ' -e 'show databases'"),
        "$ mysql -uroot -p'[REDACTED:mysql-password-flag]' -e 'show databases'"
    );
    assert_eq!(
        red("mysqldump -h db -P3306 -u app -pS3cr3t!x app > dump.sql"),
        "mysqldump -h db -P3306 -u app -p[REDACTED:mysql-password-flag] app > dump.sql"
    );
    same("mysql -h db -P3306 -uroot -p$MYSQL_ROOT_PASSWORD");
    same("mysql -h db -P 3306 -uroot -p");
    assert_eq!(
        red("[DEBUG] settings.xml server nexus: <password>GXj8GT6w*nC$\"g</password>"),
        "[DEBUG] settings.xml server nexus: <password>[REDACTED:xml-secret-element]</password>"
    );
    same("<password>${env.NEXUS_PASSWORD}</password>");
    same("<password>****</password>");
}

#[test]
fn passwords_inside_very_long_lines() {
    let filler = "x=1 ".repeat(40_000); // 160 KB: processed in windows
    for at in [0, 70_000, 159_990] {
        let (head, tail) = filler.split_at(at);
        let input = format!("{head} SMTP_PASSWORD=\"Q!w2#E4%r~\" {tail}\n");
        let out = red(&input);
        assert!(!out.contains("Q!w2#E4%r~"), "leaked at {at}");
        assert!(out.contains("SMTP_PASSWORD=\"[REDACTED:password-assignment]\""));
        assert_eq!(
            out.len(),
            input.len() - 10 + "[REDACTED:password-assignment]".len()
        );
    }
}

#[test]
fn hashes_and_ids_survive() {
    for s in [
        "commit 3f786850e387550fdab836ed7e6dc881de23001b",
        "sha256:9b2a3f1c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f708192a3b4c5d6e7f8",
        "Digest: sha256:9b2a3f1c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f708192a3b4c5d6e7f8",
        "id 123e4567-e89b-12d3-a456-426614174000",
        "\"integrity\": \"sha512-z4PhNX7vuL3xVChQ1m2AB9Yg5AULVxXcg/SpIdNs6c5H0NE8XYXysP+DGNKHfuwvY7kxvUdBeoGlODJ6+SfaPg==\"",
        "version 1.2.3-beta.4+build.5",
        "2024-05-01T10:00:00.000Z INFO started",
        "md5sum 9e107d9d372bb6826bd81d3542a419d6",
        "go: downloading golang.org/x/mod v0.14.0 h1:dGoOF9QVLYng8IHTm7BAyWqCqSheQ5pYWGhzW00YJr0=",
    ] {
        same(s);
    }
}

#[test]
fn known_values_and_encodings() {
    let config = Config {
        known: vec![KnownSecret {
            name: "DB_PASSWORD".into(),
            value: "p@ss w/rd\"42!".into(),
        }],
        min_secret_len: 8,
        rules_toml: None,
    };
    let cases = [
        "raw p@ss w/rd\"42! end",
        "url p%40ss%20w%2Frd%2242%21 end",
        "json \"p@ss w\\/rd\\\"42!\" end",
    ];
    for c in cases {
        let out = red_with(&config, c);
        assert!(out.contains("[REDACTED:DB_PASSWORD]"), "{c} -> {out}");
    }
    use base64::Engine as _;
    for prefix in ["", "u", "us", "user:"] {
        let b64 =
            base64::engine::general_purpose::STANDARD.encode(format!("{prefix}p@ss w/rd\"42!"));
        let out = red_with(&config, &format!("Authorization-ish {b64} x"));
        assert!(out.contains("[REDACTED:DB_PASSWORD]"), "{b64} -> {out}");
    }
    let (_, rep) = redact_all(&config, b"p@ss w/rd\"42! and again p@ss w/rd\"42!").expect("ok");
    assert_eq!(rep, vec![("known:DB_PASSWORD".to_string(), 2)]);
}

#[test]
fn short_values_are_reported_not_searched() {
    let known = vec![
        KnownSecret {
            name: "B".into(),
            value: "docker".into(),
        },
        KnownSecret {
            name: "A".into(),
            value: " true ".into(),
        },
        KnownSecret {
            name: "C".into(),
            value: "long-enough-value".into(),
        },
    ];
    assert_eq!(
        exlogare_redact::short_secret_names(&known, 8),
        vec!["A", "B"]
    );
    let config = Config {
        known,
        min_secret_len: 8,
        rules_toml: None,
    };
    assert_eq!(
        red_with(&config, "docker true long-enough-value"),
        "docker true [REDACTED:C]"
    );
}

#[test]
fn user_rules() {
    let config = Config {
        known: vec![],
        min_secret_len: 8,
        rules_toml: Some(
            r#"
[[rules]]
id = "acme-token"
regex = '''acme_([a-z0-9]{16})'''
keywords = ["acme_"]
"#
            .into(),
        ),
    };
    assert_eq!(
        red_with(&config, "t=acme_0123456789abcdef."),
        "t=acme_[REDACTED:acme-token]."
    );
    let bad = Config {
        rules_toml: Some("[[rules]]\nid = \"x\"\nregex = '(?!a)b'\n".into()),
        ..Config::default()
    };
    let err = redact_all(&bad, b"").expect_err("error");
    assert!(err.to_string().contains("`x`"), "{err}");
}

/// Values longer than any fixed bound are redacted whole: no tail is left in clear.
#[test]
fn long_values_are_redacted_whole() {
    let long: String = "aB3dE6gH9j".repeat(600); // 6000 bytes
    for (input, expected) in [
        (
            format!("export DB_PASSWORD={long} done"),
            "export DB_PASSWORD=[REDACTED:password-assignment] done".to_string(),
        ),
        (
            format!("Authorization: Bearer {long}"),
            "Authorization: Bearer [REDACTED:authorization-header]".to_string(),
        ),
        (
            format!("git clone https://ci:{long}@gitlab.example.com/g/p.git"),
            "git clone https://ci:[REDACTED:url-credentials]@gitlab.example.com/g/p.git"
                .to_string(),
        ),
        (
            format!("token eyJhbGciOiJIUzI1NiJ9.eyJ{long}.{long} end"),
            "token [REDACTED:jwt] end".to_string(),
        ),
    ] {
        let out = red(&input);
        assert_eq!(out, expected);
        assert!(!out.contains("aB3dE6gH9j"), "a piece of the value leaked");
    }
}
