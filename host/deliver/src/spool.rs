//! The spool: payloads that could not be delivered, kept on disk for `exlogare send`.
//!
//! Nothing is lost: when delivery finally fails, the redacted payload is written here instead.
//! One file per payload, `exlogare-<UTC time>-<idempotency key>.json.gz`, mode 0600. It is an
//! ordinary gzip file whose content is exactly the JSON body (`zcat` shows what would be sent);
//! where it was going and why it was kept ([`SpoolMeta`]) ride in the gzip header's comment
//! field as one line of ASCII JSON. The token is never written: it is not part of the body nor
//! of the metadata, and `send` takes it from the environment again.

use std::fs::{self, File, OpenOptions};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use serde::{Deserialize, Serialize};

/// The format tag in every spool file's metadata.
pub const FORMAT: &str = "exlogare-spool/1";

/// A spooled payload is never read beyond this many bytes once decompressed.
const MAX_PAYLOAD: u64 = 1 << 30;

/// What is known about a spooled payload besides its bytes. Never holds the token.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SpoolMeta {
    /// [`FORMAT`].
    pub format: String,
    /// The endpoint URL it was meant for.
    pub endpoint: String,
    /// The idempotency key it was sent with (a resend uses the same one).
    pub idempotency_key: String,
    /// When it was spooled, RFC 3339 UTC.
    pub created: String,
    /// Attempts made before it was spooled.
    pub attempts: u32,
    /// Why it was not delivered.
    pub last_error: String,
    /// Size of the JSON body.
    pub bytes: u64,
}

impl SpoolMeta {
    /// Metadata for a payload spooled now.
    pub fn new(
        endpoint: &str,
        idempotency_key: &str,
        attempts: u32,
        last_error: &str,
        bytes: u64,
    ) -> SpoolMeta {
        SpoolMeta {
            format: FORMAT.to_string(),
            endpoint: endpoint.to_string(),
            idempotency_key: idempotency_key.to_string(),
            created: rfc3339(SystemTime::now()),
            attempts,
            last_error: last_error.to_string(),
            bytes,
        }
    }
}

/// A spool file could not be written or read.
#[derive(Debug, thiserror::Error)]
pub enum SpoolError {
    /// The directory or file could not be written.
    #[error("cannot write to the spool directory {dir}: {reason}")]
    Write { dir: PathBuf, reason: String },
    /// The directory could not be listed.
    #[error("cannot list the spool directory {dir}: {reason}")]
    List { dir: PathBuf, reason: String },
    /// A file could not be read or is not a spool file.
    #[error("{path} is not a readable exlogare spool file: {reason}")]
    Read { path: PathBuf, reason: String },
    /// A file could not be removed after delivery.
    #[error("cannot remove {path} after it was delivered: {reason}")]
    Remove { path: PathBuf, reason: String },
}

/// A spool directory.
#[derive(Clone, Debug)]
pub struct Spool {
    dir: PathBuf,
}

impl Spool {
    /// The spool in `dir` (created when the first payload is written).
    pub fn new(dir: impl Into<PathBuf>) -> Spool {
        Spool { dir: dir.into() }
    }

    /// Its directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Writes `body` with `meta`, atomically (a temporary file renamed into place), mode 0600;
    /// returns the file's path.
    pub fn write(&self, body: &[u8], meta: &SpoolMeta) -> Result<PathBuf, SpoolError> {
        let fail = |reason: String| SpoolError::Write {
            dir: self.dir.clone(),
            reason,
        };
        create_private_dir(&self.dir).map_err(|e| fail(e.to_string()))?;
        let stamp: String = meta
            .created
            .chars()
            .filter(|c| c.is_ascii_alphanumeric())
            .collect();
        let key: String = meta
            .idempotency_key
            .chars()
            .filter(|c| c.is_ascii_alphanumeric())
            .take(64)
            .collect();
        let name = format!("exlogare-{stamp}-{key}.json.gz");
        let final_path = self.dir.join(&name);
        let tmp_path = self.dir.join(format!(".{name}.{}.tmp", std::process::id()));
        let comment = ascii_json(meta).map_err(|e| fail(e.to_string()))?;
        let result = (|| -> std::io::Result<()> {
            let file = create_private_file(&tmp_path)?;
            let mut gz = flate2::GzBuilder::new()
                .comment(comment.into_bytes())
                .write(file, flate2::Compression::default());
            gz.write_all(body)?;
            let file = gz.finish()?;
            file.sync_all()?;
            fs::rename(&tmp_path, &final_path)
        })();
        if let Err(e) = result {
            let _ = fs::remove_file(&tmp_path);
            return Err(fail(e.to_string()));
        }
        Ok(final_path)
    }

    /// The spool files, oldest first; an absent directory holds none.
    pub fn list(&self) -> Result<Vec<PathBuf>, SpoolError> {
        let entries = match fs::read_dir(&self.dir) {
            Ok(entries) => entries,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => {
                return Err(SpoolError::List {
                    dir: self.dir.clone(),
                    reason: e.to_string(),
                });
            }
        };
        let mut files: Vec<PathBuf> = entries
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|p| {
                p.is_file()
                    && p.file_name()
                        .and_then(|n| n.to_str())
                        .is_some_and(|n| n.starts_with("exlogare-") && n.ends_with(".json.gz"))
            })
            .collect();
        files.sort();
        Ok(files)
    }
}

/// Reads a spool file: its metadata and the JSON body.
pub fn read(path: &Path) -> Result<(SpoolMeta, Vec<u8>), SpoolError> {
    let fail = |reason: String| SpoolError::Read {
        path: path.to_path_buf(),
        reason,
    };
    let file = File::open(path).map_err(|e| fail(e.to_string()))?;
    let mut gz = flate2::read::GzDecoder::new(file);
    let mut body = Vec::new();
    (&mut gz)
        .take(MAX_PAYLOAD)
        .read_to_end(&mut body)
        .map_err(|e| fail(format!("not gzip ({e})")))?;
    let comment = gz
        .header()
        .and_then(|h| h.comment())
        .ok_or_else(|| fail("its gzip header has no exlogare metadata".into()))?;
    let meta: SpoolMeta =
        serde_json::from_slice(comment).map_err(|e| fail(format!("bad metadata ({e})")))?;
    if meta.format != FORMAT {
        return Err(fail(format!(
            "unknown format `{}` (this exlogare reads {FORMAT})",
            meta.format
        )));
    }
    Ok((meta, body))
}

/// Removes a delivered spool file.
pub fn remove(path: &Path) -> Result<(), SpoolError> {
    fs::remove_file(path).map_err(|e| SpoolError::Remove {
        path: path.to_path_buf(),
        reason: e.to_string(),
    })
}

/// JSON with every non-ASCII character escaped: a gzip comment is Latin-1 and NUL-terminated.
fn ascii_json(meta: &SpoolMeta) -> Result<String, serde_json::Error> {
    let text = serde_json::to_string(meta)?;
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if c.is_ascii() && c != '\0' {
            out.push(c);
        } else {
            let mut units = [0u16; 2];
            for unit in c.encode_utf16(&mut units) {
                out.push_str(&format!("\\u{unit:04x}"));
            }
        }
    }
    Ok(out)
}

#[cfg(unix)]
fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::DirBuilderExt;
    fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
}

#[cfg(not(unix))]
fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    fs::create_dir_all(dir)
}

#[cfg(unix)]
fn create_private_file(path: &Path) -> std::io::Result<File> {
    use std::os::unix::fs::OpenOptionsExt;
    OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
}

#[cfg(not(unix))]
fn create_private_file(path: &Path) -> std::io::Result<File> {
    OpenOptions::new().write(true).create_new(true).open(path)
}

/// `2026-11-27T06:52:01Z`.
pub fn rfc3339(time: SystemTime) -> String {
    let secs = time
        .duration_since(SystemTime::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let days = (secs / 86_400) as i64;
    let rem = secs % 86_400;
    // Howard Hinnant's civil_from_days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn formats_utc_times() {
        assert_eq!(rfc3339(SystemTime::UNIX_EPOCH), "1970-01-01T00:00:00Z");
        let t = SystemTime::UNIX_EPOCH + Duration::from_secs(1_709_210_096);
        assert_eq!(rfc3339(t), "2024-02-29T12:34:56Z");
    }

    #[test]
    fn writes_private_gzip_files_that_read_back() {
        let dir = tempfile::tempdir().unwrap();
        let spool = Spool::new(dir.path().join("spool"));
        assert!(
            spool.list().unwrap().is_empty(),
            "a missing directory is an empty spool"
        );
        let meta = SpoolMeta::new(
            "https://x.example/api/ingest/log",
            "abc123",
            3,
            "HTTP 503 — naïve",
            9,
        );
        let path = spool.write(br#"{"a":"b"}"#, &meta).unwrap();
        assert_eq!(spool.list().unwrap(), vec![path.clone()]);
        let (back, body) = read(&path).unwrap();
        assert_eq!(back, meta);
        assert_eq!(body, br#"{"a":"b"}"#);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = fs::metadata(&path).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o600);
        }
        remove(&path).unwrap();
        assert!(spool.list().unwrap().is_empty());
    }

    #[test]
    fn refuses_files_that_are_not_spool_files() {
        let dir = tempfile::tempdir().unwrap();
        let plain = dir.path().join("exlogare-x.json.gz");
        fs::write(&plain, b"not gzip").unwrap();
        assert!(matches!(read(&plain), Err(SpoolError::Read { .. })));
    }
}
