//! The harness for black-box tests of the built `exlogare` binary, in the style of ripgrep's
//! `tests/util.rs`: a temporary directory, a command with a clean environment, and a real HTTP
//! receiver on 127.0.0.1 that records what arrived. A failing assertion prints the command,
//! its directory, status, stdout and stderr, so each test stays a few lines of intent.

pub mod adversarial;
pub mod bombs;
pub mod proxy;
pub mod receiver;
pub mod tls;

use std::ffi::OsStr;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

pub use receiver::{Received, Receiver, Reply};

/// The `exlogare` binary under test: `EXLOGARE_BIN`, else the one built beside this test.
pub fn binary() -> PathBuf {
    if let Some(path) = std::env::var_os("EXLOGARE_BIN") {
        return PathBuf::from(path);
    }
    let exe = std::env::current_exe().expect("the test knows its own path");
    // target/<profile>/deps/<test> -> target/<profile>/exlogare
    let dir = exe
        .parent()
        .and_then(Path::parent)
        .expect("the test runs from target/<profile>/deps");
    let bin = dir.join("exlogare");
    assert!(
        bin.is_file(),
        "{} does not exist: build it first (`cargo build -p exlogare`, which `./dev test` does), or set EXLOGARE_BIN",
        bin.display()
    );
    bin
}

/// A temporary directory that is removed when dropped.
pub struct Dir {
    tmp: tempfile::TempDir,
}

impl Default for Dir {
    fn default() -> Self {
        Self::new()
    }
}

impl Dir {
    /// A new empty directory.
    pub fn new() -> Dir {
        Dir {
            tmp: tempfile::Builder::new()
                .prefix("exlogare-test-")
                .tempdir()
                .expect("a temp dir"),
        }
    }

    /// Its path.
    pub fn path(&self) -> &Path {
        self.tmp.path()
    }

    /// Writes a file (creating parent directories) and returns its path.
    pub fn create(&self, name: &str, contents: impl AsRef<[u8]>) -> PathBuf {
        let path = self.path().join(name);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).expect("create parent dirs");
        }
        std::fs::write(&path, contents).expect("write test file");
        path
    }

    /// A command running the binary in this directory, with an environment that holds only
    /// `PATH`, a private `HOME` and cache, and what the test adds.
    pub fn command(&self) -> TestCommand {
        let mut cmd = Command::new(binary());
        cmd.current_dir(self.path())
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", self.path())
            .env("EXLOGARE_CACHE_DIR", self.path().join(".cache"))
            .stdin(Stdio::null());
        TestCommand {
            cmd,
            dir: self.path().to_path_buf(),
            stdin: None,
        }
    }
}

/// A command under test.
pub struct TestCommand {
    cmd: Command,
    dir: PathBuf,
    stdin: Option<Vec<u8>>,
}

impl TestCommand {
    /// Adds arguments.
    pub fn args<I, S>(&mut self, args: I) -> &mut Self
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        self.cmd.args(args);
        self
    }

    /// Sets one variable.
    pub fn env(&mut self, key: impl AsRef<OsStr>, value: impl AsRef<OsStr>) -> &mut Self {
        self.cmd.env(key, value);
        self
    }

    /// Sets many variables.
    pub fn envs<'a>(&mut self, vars: impl IntoIterator<Item = (&'a str, &'a str)>) -> &mut Self {
        for (k, v) in vars {
            self.cmd.env(k, v);
        }
        self
    }

    /// Removes a variable.
    pub fn env_remove(&mut self, key: impl AsRef<OsStr>) -> &mut Self {
        self.cmd.env_remove(key);
        self
    }

    /// Feeds standard input.
    pub fn stdin(&mut self, data: impl Into<Vec<u8>>) -> &mut Self {
        self.stdin = Some(data.into());
        self
    }

    /// Runs it, whatever the exit status.
    pub fn output(&mut self) -> Run {
        self.cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
        if self.stdin.is_some() {
            self.cmd.stdin(Stdio::piped());
        }
        let mut child = self.cmd.spawn().expect("spawn exlogare");
        if let Some(data) = self.stdin.take() {
            use std::io::Write;
            let mut pipe = child.stdin.take().expect("stdin pipe");
            std::thread::spawn(move || {
                let _ = pipe.write_all(&data);
            });
        }
        let output = child.wait_with_output().expect("wait for exlogare");
        Run {
            description: format!("{:?}", self.cmd),
            dir: self.dir.clone(),
            output,
        }
    }

    /// Runs it and checks it exited with `code`.
    pub fn expect_code(&mut self, code: i32) -> Run {
        let run = self.output();
        if run.output.status.code() != Some(code) {
            panic!("expected exit code {code}\n{}", run.report());
        }
        run
    }

    /// Runs it and checks it exited 0.
    pub fn ok(&mut self) -> Run {
        self.expect_code(0)
    }
}

/// A finished run.
pub struct Run {
    description: String,
    dir: PathBuf,
    /// What the process returned.
    pub output: Output,
}

impl Run {
    /// Standard output, lossy.
    pub fn stdout(&self) -> String {
        String::from_utf8_lossy(&self.output.stdout).into_owned()
    }

    /// Standard error, lossy.
    pub fn stderr(&self) -> String {
        String::from_utf8_lossy(&self.output.stderr).into_owned()
    }

    /// Everything the run printed.
    pub fn all_output(&self) -> String {
        format!("{}{}", self.stdout(), self.stderr())
    }

    /// A report for failed assertions.
    pub fn report(&self) -> String {
        let mut s = String::new();
        let _ = writeln!(s, "command: {}", self.description);
        let _ = writeln!(s, "cwd: {}", self.dir.display());
        let _ = writeln!(s, "status: {:?}", self.output.status);
        let stdout = self.stdout();
        let shown: String = stdout.chars().take(4000).collect();
        let _ = writeln!(s, "stdout ({} bytes):\n{shown}", stdout.len());
        let _ = writeln!(s, "stderr:\n{}", self.stderr());
        s
    }

    /// Asserts stderr contains `needle`.
    pub fn assert_stderr_contains(&self, needle: &str) -> &Self {
        assert!(
            self.stderr().contains(needle),
            "stderr lacks {needle:?}\n{}",
            self.report()
        );
        self
    }

    /// Asserts nothing printed contains `secret`.
    pub fn assert_never_printed(&self, secret: &str) -> &Self {
        assert!(
            !self.all_output().contains(secret),
            "a secret was printed\n{}",
            self.report()
        );
        self
    }
}

/// The variables GitLab sets for a failed job, as a real runner would.
pub fn gitlab_failed_job() -> Vec<(&'static str, &'static str)> {
    vec![
        ("GITLAB_CI", "true"),
        ("CI", "true"),
        ("CI_JOB_STATUS", "failed"),
        ("CI_PROJECT_PATH", "acme/payments/api"),
        ("CI_PROJECT_DIR", "/builds/acme/payments/api"),
        ("CI_PIPELINE_ID", "987654"),
        ("CI_JOB_ID", "123456789"),
        ("CI_JOB_NAME", "unit tests"),
        ("CI_JOB_STAGE", "test"),
        ("CI_COMMIT_REF_NAME", "feature/login"),
        ("CI_COMMIT_SHA", "3f786850e387550fdab836ed7e6dc881de23001b"),
        (
            "CI_PIPELINE_URL",
            "https://gitlab.example.com/acme/payments/api/-/pipelines/987654",
        ),
        (
            "CI_JOB_URL",
            "https://gitlab.example.com/acme/payments/api/-/jobs/123456789",
        ),
        ("CI_SERVER_URL", "https://gitlab.example.com"),
        ("CI_JOB_TOKEN", "glcbt-64_jobtokenvalue0123456789abcdef"),
        (
            "CI_REPOSITORY_URL",
            "https://gitlab-ci-token:glcbt-64_jobtokenvalue0123456789abcdef@gitlab.example.com/acme/payments/api.git",
        ),
    ]
}

/// The test token: long and distinctive, so any leak is found.
pub const TOKEN: &str = "exl_test_token_5b1f0c9e7d3a48f2a6c1";

/// Parses a JSON body.
pub fn json(body: &[u8]) -> serde_json::Value {
    serde_json::from_slice(body).unwrap_or_else(|e| {
        panic!(
            "body is not JSON ({e}): {}",
            String::from_utf8_lossy(&body[..body.len().min(2000)])
        )
    })
}

/// Base64 of `s` (for checking that encoded secrets do not leak).
pub fn base64(s: &str) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(s)
}
