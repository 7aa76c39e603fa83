//! A cache of compiled components, so that a plugin (or the default guest on a CPU its
//! embedded artifact does not fit) is compiled once and loaded in a millisecond afterwards.
//!
//! Entries are keyed by the wasm's sha256 and the engine's compatibility hash. Loading an
//! entry runs native code, so the cache directory must be private to the user: entries that
//! are not regular files owned by us, or are writable by others, are ignored and rebuilt.

use std::collections::hash_map::DefaultHasher;
use std::fs;
use std::hash::{Hash, Hasher};
use std::io::Write;
use std::os::unix::fs::{MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};
use wasmtime::Engine;
use wasmtime::component::Component;

use crate::error::GuestError;

/// Where compiled components are kept.
#[derive(Clone, Debug)]
pub struct ArtifactCache {
    dir: PathBuf,
}

/// How a component was obtained, for the summary and benchmarks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CacheOutcome {
    /// Loaded from the cache.
    Hit,
    /// Compiled now, and stored.
    Compiled,
}

impl ArtifactCache {
    /// A cache in `dir` (created, private, on first store).
    pub fn new(dir: impl Into<PathBuf>) -> ArtifactCache {
        ArtifactCache { dir: dir.into() }
    }

    /// The directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The file an artifact for `wasm` under `engine` is kept in.
    pub fn entry_path(&self, engine: &Engine, wasm: &[u8]) -> PathBuf {
        let digest = hex::encode(Sha256::digest(wasm));
        let mut hasher = DefaultHasher::new();
        engine.precompile_compatibility_hash().hash(&mut hasher);
        env!("CARGO_PKG_VERSION").hash(&mut hasher);
        self.dir
            .join(format!("{digest}-{:016x}.cwasm", hasher.finish()))
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

    /// Like [`ArtifactCache::load_or_compile`], also saying whether it was a hit.
    pub fn load_or_compile_with_outcome(
        &self,
        engine: &Engine,
        guest: &str,
        wasm: &[u8],
    ) -> Result<(Component, CacheOutcome), GuestError> {
        let path = self.entry_path(engine, wasm);
        if is_private_file(&path) {
            // SAFETY: the file is ours (owned by this user, not writable by others) and was
            // written by `store` below from this engine's own compilation; its name binds the
            // wasm's hash and the engine's compatibility hash, and wasmtime re-checks the
            // latter on load.
            if let Ok(component) = unsafe { Component::deserialize_file(engine, &path) } {
                return Ok((component, CacheOutcome::Hit));
            }
        }
        let component = Component::new(engine, wasm).map_err(|e| GuestError::Load {
            guest: guest.to_string(),
            reason: format!("{e:#}"),
        })?;
        // A cache that cannot be written only costs time: never fail a run for it.
        if let Ok(bytes) = component.serialize() {
            let _ = self.store(&path, &bytes);
        }
        Ok((component, CacheOutcome::Compiled))
    }

    fn store(&self, path: &Path, bytes: &[u8]) -> std::io::Result<()> {
        fs::create_dir_all(&self.dir)?;
        fs::set_permissions(&self.dir, fs::Permissions::from_mode(0o700))?;
        let tmp = path.with_extension(format!("tmp{}", std::process::id()));
        let mut file = fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&tmp)?;
        file.write_all(bytes)?;
        file.sync_all()?;
        fs::rename(&tmp, path)
    }
}

/// True when `path` is a regular file owned by the current user and writable by no one else.
fn is_private_file(path: &Path) -> bool {
    match fs::symlink_metadata(path) {
        Ok(meta) => {
            meta.file_type().is_file()
                && meta.uid() == current_uid()
                && meta.permissions().mode() & 0o022 == 0
        }
        Err(_) => false,
    }
}

fn current_uid() -> u32 {
    // The owner of a file we just created is our effective uid; avoid libc for one number.
    fs::metadata("/proc/self")
        .map(|m| m.uid())
        .unwrap_or(u32::MAX)
}
