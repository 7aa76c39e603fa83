//! A cache of compiled components, so that a plugin (or the default guest on a CPU its
//! embedded artifact does not fit) is compiled once and loaded in a millisecond afterwards.
//!
//! Loading a compiled artifact (`deserialize`) runs native code, and the cache directory is
//! often restored from a CI cache that the project itself can write. So the cache directory is
//! **not trusted**: next to it, in a state directory only exlogare writes (by default
//! `$XDG_STATE_HOME/exlogare/trust`, else `~/.local/state/exlogare/trust`; 0700, owned by the
//! user), one trust record per artifact holds the sha256 of the artifact exlogare itself
//! wrote. Both are keyed by the wasm's sha256 and the engine's fingerprint (its compatibility
//! hash and exlogare's version). Before loading, the artifact's bytes are read into memory,
//! hashed and compared with the record; only those very bytes are deserialized. Any mismatch,
//! a missing or unsafe record (a symlink, not ours, readable or writable by others), and the
//! plugin is compiled again from its wasm and both files are rewritten.

use std::collections::hash_map::DefaultHasher;
use std::fs;
use std::hash::{Hash, Hasher};
use std::io::{Read, Write};
use std::os::unix::fs::{MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};
use wasmtime::Engine;
use wasmtime::component::Component;

use crate::error::GuestError;

/// The largest artifact read back (the default guest's is about 1.5 MiB).
const MAX_ARTIFACT_BYTES: u64 = 512 << 20;

/// Where compiled components, and the records that vouch for them, are kept.
#[derive(Clone, Debug)]
pub struct ArtifactCache {
    dir: PathBuf,
    trust: PathBuf,
}

/// How a component was obtained, for the summary and benchmarks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CacheOutcome {
    /// Loaded from the cache, its bytes matching the trust record.
    Hit,
    /// Compiled now, and stored.
    Compiled,
    /// The cached artifact did not match its trust record (or had none): compiled again from
    /// the wasm, and both rewritten.
    Recompiled,
}

impl ArtifactCache {
    /// A cache of artifacts in `dir`, vouched for by records in `trust` (both created, private,
    /// on first store). `trust` must be a directory only exlogare writes, never inside `dir`.
    pub fn new(dir: impl Into<PathBuf>, trust: impl Into<PathBuf>) -> ArtifactCache {
        ArtifactCache {
            dir: dir.into(),
            trust: trust.into(),
        }
    }

    /// The directory of artifacts.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The directory of trust records.
    pub fn trust_dir(&self) -> &Path {
        &self.trust
    }

    /// `<wasm sha256>-<engine fingerprint>`: the name of both files of one artifact.
    fn key(engine: &Engine, wasm: &[u8]) -> String {
        let digest = hex::encode(Sha256::digest(wasm));
        let mut hasher = DefaultHasher::new();
        engine.precompile_compatibility_hash().hash(&mut hasher);
        env!("CARGO_PKG_VERSION").hash(&mut hasher);
        format!("{digest}-{:016x}", hasher.finish())
    }

    /// The file an artifact for `wasm` under `engine` is kept in.
    pub fn entry_path(&self, engine: &Engine, wasm: &[u8]) -> PathBuf {
        self.dir.join(format!("{}.cwasm", Self::key(engine, wasm)))
    }

    /// The trust record of that artifact.
    pub fn record_path(&self, engine: &Engine, wasm: &[u8]) -> PathBuf {
        self.trust
            .join(format!("{}.sha256", Self::key(engine, wasm)))
    }

    /// Loads the compiled form of `wasm`, compiling and storing it on a miss.
    pub fn load_or_compile(
        &self,
        engine: &Engine,
        guest: &str,
        wasm: &[u8],
    ) -> Result<Component, GuestError> {
        self.load_or_compile_with_outcome(engine, guest, wasm)
            .map(|(component, _)| component)
    }

    /// Like [`ArtifactCache::load_or_compile`], also saying how the component was obtained.
    pub fn load_or_compile_with_outcome(
        &self,
        engine: &Engine,
        guest: &str,
        wasm: &[u8],
    ) -> Result<(Component, CacheOutcome), GuestError> {
        let path = self.entry_path(engine, wasm);
        let record = self.record_path(engine, wasm);
        let mut outcome = CacheOutcome::Compiled;
        if let Some(bytes) = read_private(&path, MAX_ARTIFACT_BYTES) {
            match self.trusted_digest(&record) {
                Some(expected) if expected == hex::encode(Sha256::digest(&bytes)) => {
                    // SAFETY: these bytes hash to the digest exlogare recorded, in a directory
                    // only this user can write, when it serialized this engine's own
                    // compilation of exactly this wasm (the name binds the wasm's hash and the
                    // engine's fingerprint); wasmtime re-checks the engine on load. They are
                    // the bytes in memory that were hashed, so the file cannot change between
                    // the check and the load.
                    if let Ok(component) = unsafe { Component::deserialize(engine, &bytes) } {
                        return Ok((component, CacheOutcome::Hit));
                    }
                    outcome = CacheOutcome::Recompiled;
                }
                _ => outcome = CacheOutcome::Recompiled,
            }
        }
        let component = Component::new(engine, wasm).map_err(|e| GuestError::Load {
            guest: guest.to_string(),
            reason: format!("not a valid wasm component: {e:#}"),
        })?;
        // A cache that cannot be written only costs time: never fail a run for it.
        if let Ok(bytes) = component.serialize() {
            let _ = self.store(&path, &record, &bytes);
        }
        Ok((component, outcome))
    }

    /// The digest a trust record vouches for, when the record and its directory are safe:
    /// regular files and directories owned by this user, not a symlink, closed to others.
    fn trusted_digest(&self, record: &Path) -> Option<String> {
        if !is_private_dir(&self.trust) {
            return None;
        }
        let meta = fs::symlink_metadata(record).ok()?;
        if !meta.file_type().is_file()
            || meta.uid() != current_uid()
            || meta.permissions().mode() & 0o077 != 0
        {
            return None;
        }
        let text = read_private(record, 256)?;
        let text = String::from_utf8(text).ok()?;
        let digest = text.trim();
        (digest.len() == 64 && digest.bytes().all(|b| b.is_ascii_hexdigit()))
            .then(|| digest.to_ascii_lowercase())
    }

    fn store(&self, path: &Path, record: &Path, bytes: &[u8]) -> std::io::Result<()> {
        make_private_dir(&self.trust)?;
        make_private_dir(&self.dir)?;
        // The record first: an artifact without its record is never loaded.
        let digest = hex::encode(Sha256::digest(bytes));
        write_atomic(record, format!("{digest}\n").as_bytes())?;
        write_atomic(path, bytes)
    }
}

/// Creates `dir` (and its parents) and makes it 0700; refuses one that is a symlink or not ours.
fn make_private_dir(dir: &Path) -> std::io::Result<()> {
    fs::create_dir_all(dir)?;
    let meta = fs::symlink_metadata(dir)?;
    if !meta.file_type().is_dir() || meta.uid() != current_uid() {
        return Err(std::io::Error::new(
            std::io::ErrorKind::PermissionDenied,
            "not a directory of ours",
        ));
    }
    fs::set_permissions(dir, fs::Permissions::from_mode(0o700))
}

/// Writes `bytes` to `path` through a new 0600 file renamed into place.
fn write_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let tmp = path.with_extension(format!("tmp{}", std::process::id()));
    let _ = fs::remove_file(&tmp);
    let mut file = fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&tmp)?;
    file.write_all(bytes)?;
    file.sync_all()?;
    fs::rename(&tmp, path)
}

/// The contents of `path` when it is a regular file (not a symlink), owned by this user,
/// writable by no one else and at most `max` bytes.
fn read_private(path: &Path, max: u64) -> Option<Vec<u8>> {
    let meta = fs::symlink_metadata(path).ok()?;
    if !meta.file_type().is_file()
        || meta.uid() != current_uid()
        || meta.permissions().mode() & 0o022 != 0
        || meta.len() > max
    {
        return None;
    }
    // What is read is what is hashed and loaded, so a swap after the check gains nothing.
    let file = fs::File::open(path).ok()?;
    let mut bytes = Vec::with_capacity(meta.len() as usize);
    file.take(max + 1).read_to_end(&mut bytes).ok()?;
    (bytes.len() as u64 <= max).then_some(bytes)
}

/// True when `dir` is a directory (not a symlink) owned by this user and closed to others.
fn is_private_dir(dir: &Path) -> bool {
    match fs::symlink_metadata(dir) {
        Ok(meta) => {
            meta.file_type().is_dir()
                && meta.uid() == current_uid()
                && meta.permissions().mode() & 0o077 == 0
        }
        Err(_) => false,
    }
}

fn current_uid() -> u32 {
    // The owner of /proc/self is our effective uid; avoid libc for one number.
    fs::metadata("/proc/self")
        .map(|m| m.uid())
        .unwrap_or(u32::MAX)
}
