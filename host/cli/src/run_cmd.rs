//! `exlogare run [--log build.log] -- CMD [ARGS...]`: the capture half of the product.
//!
//! It replaces `set -o pipefail; CMD 2>&1 | tee build.log`, which needs a shell with
//! `pipefail` (not every image has bash), loses the difference between stdout and stderr on
//! the console, and turns the command's exit status into tee's unless `pipefail` is set.
//! Here the command runs as a child with its stdout and stderr on two pipes; one thread per
//! pipe copies each block as it arrives to the matching console stream and to the log, so:
//! - the console keeps stdout and stderr apart (a terminal or CI trace sees both as usual);
//! - the log holds both, in the order the blocks arrived (as `2>&1 | tee` would);
//! - memory is bounded (64 KiB per pipe), whatever the output's size;
//! - the exit status is the command's own (128 + N when it was killed by signal N, as shells
//!   report it), so the CI job fails exactly when the command does.
//!
//! SIGINT and SIGTERM sent to exlogare are forwarded to the command (a CI cancel or a
//! `timeout` reaches the real work, which may clean up), and exlogare keeps running until the
//! command has exited, so its output is still captured. The child stays in exlogare's process
//! group, so a signal sent to the whole group (Ctrl-C in a terminal, some runners' cancel) may
//! reach it twice; that is the price of never leaving an orphan behind when the group is
//! killed outright.
//!
//! `run` is fail-open about the log: if the log cannot be written, the command still runs and
//! its output still reaches the console, with a warning; only the command decides the status.

use std::fs::{File, OpenOptions};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use signal_hook::consts::{SIGINT, SIGTERM};
use signal_hook::iterator::Signals;

use crate::cli::RunArgs;

/// Bytes read from a pipe per block.
const BLOCK: usize = 64 << 10;

/// Exit status when the command cannot be found (as shells say).
pub const NOT_FOUND: u8 = 127;
/// Exit status when the command exists but cannot be run (as shells say).
pub const CANNOT_EXECUTE: u8 = 126;
/// Exit status for a usage problem of `run` itself.
const USAGE: u8 = 2;

/// How long to keep reading after the command exited while a pipe is still open and silent
/// (a background process it started may hold the pipe open forever).
const DRAIN_GRACE: Duration = Duration::from_secs(2);

/// Runs `run` and returns the exit status for the process.
pub fn run(args: &RunArgs) -> u8 {
    let Some((program, program_args)) = args.command.split_first() else {
        eprintln!(
            "exlogare: run: no command given — usage: exlogare run [--log FILE] -- CMD [ARGS...]"
        );
        return USAGE;
    };
    let log_path = log_path(args);
    let log = open_log(&log_path, args.append);
    let sink = Arc::new(LogSink {
        file: Mutex::new(log),
        path: log_path,
        failed: AtomicBool::new(false),
    });

    // Register the handlers before the child exists, so no signal slips between spawn and
    // registration. (Handlers are reset to the default in the child at exec.)
    let signals = match Signals::new([SIGINT, SIGTERM]) {
        Ok(s) => Some(s),
        Err(e) => {
            eprintln!(
                "exlogare: run: warning: cannot handle SIGINT/SIGTERM ({e}); they will not be forwarded"
            );
            None
        }
    };

    let mut child = match Command::new(program)
        .args(program_args)
        .stdin(Stdio::inherit())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
    {
        Ok(child) => child,
        Err(e) => {
            let (code, why) = match e.kind() {
                io::ErrorKind::NotFound => (NOT_FOUND, "command not found".to_string()),
                io::ErrorKind::PermissionDenied => (
                    CANNOT_EXECUTE,
                    "permission denied (is it executable?)".to_string(),
                ),
                _ => (CANNOT_EXECUTE, e.to_string()),
            };
            let line = format!(
                "exlogare: run: cannot run `{}`: {why}\n",
                program.to_string_lossy()
            );
            // Into the log too: the report of this failed job should say why it failed.
            sink.write(line.as_bytes());
            let _ = io::stderr().write_all(line.as_bytes());
            return code;
        }
    };

    let pid = child.id();
    let forwarder = signals.map(|mut signals| {
        let handle = signals.handle();
        thread::spawn(move || {
            for signal in signals.forever() {
                forward(pid, signal);
            }
        });
        handle
    });
    let progress = Arc::new(AtomicU64::new(0));
    let copiers = [
        child
            .stdout
            .take()
            .map(|pipe| copy_thread(pipe, Console::Stdout, sink.clone(), progress.clone())),
        child
            .stderr
            .take()
            .map(|pipe| copy_thread(pipe, Console::Stderr, sink.clone(), progress.clone())),
    ];
    let code = finish(&mut child, copiers, &progress, &sink);
    if let Some(handle) = forwarder {
        handle.close();
    }
    code
}

/// The path of the log: `--log`, else `EXLOGARE_LOG` (as `report` reads it), else `build.log`.
fn log_path(args: &RunArgs) -> PathBuf {
    if let Some(path) = &args.log {
        return path.clone();
    }
    match std::env::var_os("EXLOGARE_LOG") {
        Some(v) if !v.is_empty() && v != "-" => PathBuf::from(v),
        _ => PathBuf::from("build.log"),
    }
}

/// Opens (truncates, or appends to) the log; on failure warns and returns `None`.
fn open_log(path: &Path, append: bool) -> Option<File> {
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        let _ = std::fs::create_dir_all(parent);
    }
    let mut options = OpenOptions::new();
    options.create(true);
    if append {
        options.append(true);
    } else {
        options.write(true).truncate(true);
    }
    match options.open(path) {
        Ok(file) => Some(file),
        Err(e) => {
            eprintln!(
                "exlogare: run: warning: cannot write the log {}: {e}; the command runs anyway, its output goes to the console only",
                path.display()
            );
            None
        }
    }
}

/// The log, shared by the two copy threads: one block at a time, in arrival order.
struct LogSink {
    file: Mutex<Option<File>>,
    path: PathBuf,
    failed: AtomicBool,
}

impl LogSink {
    /// Appends a block; the first write error is reported once, and the log is given up.
    fn write(&self, block: &[u8]) {
        let Ok(mut guard) = self.file.lock() else {
            return;
        };
        let Some(file) = guard.as_mut() else { return };
        if let Err(e) = file.write_all(block) {
            *guard = None;
            if !self.failed.swap(true, Ordering::Relaxed) {
                eprintln!(
                    "exlogare: run: warning: writing the log {} failed: {e}; the rest of the output goes to the console only",
                    self.path.display()
                );
            }
        }
    }
}

/// Which console stream a pipe is copied to.
#[derive(Clone, Copy)]
enum Console {
    Stdout,
    Stderr,
}

/// Copies `pipe` block by block to its console stream and the log until end of file.
fn copy_thread(
    mut pipe: impl Read + Send + 'static,
    console: Console,
    sink: Arc<LogSink>,
    progress: Arc<AtomicU64>,
) -> thread::JoinHandle<()> {
    thread::spawn(move || {
        let mut buf = vec![0u8; BLOCK];
        let mut console_ok = true;
        loop {
            let n = match pipe.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(_) => break,
            };
            let block = &buf[..n];
            // The log first: a closed console (EPIPE) must not lose the log.
            sink.write(block);
            if console_ok {
                let written = match console {
                    Console::Stdout => {
                        let mut out = io::stdout().lock();
                        out.write_all(block).and_then(|_| out.flush())
                    }
                    Console::Stderr => io::stderr().lock().write_all(block),
                };
                console_ok = written.is_ok();
            }
            progress.fetch_add(n as u64, Ordering::Relaxed);
        }
    })
}

/// Waits for the command, then for its output to be drained, and returns the exit status.
fn finish(
    child: &mut std::process::Child,
    copiers: [Option<thread::JoinHandle<()>>; 2],
    progress: &AtomicU64,
    sink: &LogSink,
) -> u8 {
    let status = loop {
        match child.wait() {
            Ok(status) => break Some(status),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => {
                eprintln!("exlogare: run: cannot wait for the command: {e}");
                break None;
            }
        }
    };
    // Drain what is left in the pipes. A background process the command started may keep a
    // pipe open: stop once nothing has come for DRAIN_GRACE.
    let mut last = progress.load(Ordering::Relaxed);
    let mut quiet_since = Instant::now();
    while copiers.iter().flatten().any(|h| !h.is_finished()) {
        thread::sleep(Duration::from_millis(10));
        let now = progress.load(Ordering::Relaxed);
        if now != last {
            last = now;
            quiet_since = Instant::now();
        } else if quiet_since.elapsed() >= DRAIN_GRACE {
            eprintln!(
                "exlogare: run: the command exited but something it started still holds its output open; not waiting for it"
            );
            break;
        }
    }
    for handle in copiers.into_iter().flatten() {
        if handle.is_finished() {
            let _ = handle.join();
        }
    }
    if let Ok(mut guard) = sink.file.lock()
        && let Some(file) = guard.as_mut()
    {
        let _ = file.flush();
    }
    status.map(exit_code).unwrap_or(CANNOT_EXECUTE)
}

/// The shell convention: the exit code, or 128 + the signal that killed the command.
pub fn exit_code(status: ExitStatus) -> u8 {
    use std::os::unix::process::ExitStatusExt;
    if let Some(code) = status.code() {
        return (code & 0xff) as u8;
    }
    match status.signal() {
        Some(signal) => (128 + signal).clamp(0, 255) as u8,
        None => CANNOT_EXECUTE,
    }
}

/// Sends `signal` to the command.
fn forward(pid: u32, signal: i32) {
    let Ok(pid) = libc::pid_t::try_from(pid) else {
        return;
    };
    // SAFETY: kill(2) with a pid we spawned and a valid signal number has no memory effects.
    // The pid cannot have been reused yet: the child is not reaped until this process waits.
    unsafe {
        libc::kill(pid, signal);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::process::ExitStatusExt;

    #[test]
    fn exit_codes_follow_the_shell() {
        assert_eq!(exit_code(ExitStatus::from_raw(0)), 0);
        assert_eq!(exit_code(ExitStatus::from_raw(3 << 8)), 3);
        // Killed by SIGKILL (9): 128 + 9.
        assert_eq!(exit_code(ExitStatus::from_raw(9)), 137);
        assert_eq!(exit_code(ExitStatus::from_raw(15)), 143);
    }
}
