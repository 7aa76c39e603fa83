//! Runs the default guest's precompiled code where the binary already holds it.
//!
//! `Component::deserialize` copies the 4.7 MB artifact into fresh memory on every start; with
//! the page faults that follow, that was about 4 ms of a 10 ms run. The artifact is already in
//! the binary's read-only data, page-aligned, and its code section is page-aligned inside it.
//! On x86-64 Linux a code-memory hook makes that section executable where it lies (`mprotect`
//! to read + execute: the pages are never writable, so W^X holds), and the kernel maps only
//! the pages the guest touches, straight from the page cache. x86-64 needs no instruction-cache
//! maintenance, which is why the hook is limited to it. Anywhere else, or if the kernel
//! refuses, [`load`] returns `None` and the runtime copies the artifact as before.
//!
//! The same memory can back only one live component per process (wasmtime registers code by
//! address): a claim is taken before loading and given back when wasmtime drops that code,
//! which it announces by "unpublishing" it. Until then, other loads take the copying path.

use std::sync::Arc;

use wasmtime::Engine;
use wasmtime::component::Component;

/// The code-memory hook to install in the engine, where running in place is supported.
pub(crate) fn hook() -> Option<Arc<dyn wasmtime::CustomCodeMemory>> {
    imp::hook()
}

/// Loads the component whose precompiled artifact is `artifact` (embedded in the binary)
/// without copying it, or `None` when that cannot be done here (then copy it).
pub(crate) fn load(engine: &Engine, artifact: &'static [u8]) -> Option<Component> {
    imp::load(engine, artifact)
}

#[cfg(all(target_os = "linux", target_arch = "x86_64"))]
mod imp {
    use std::ptr::NonNull;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

    use wasmtime::component::Component;
    use wasmtime::{CustomCodeMemory, Engine};

    /// x86-64 Linux pages.
    const PAGE: usize = 4096;

    /// Whether a live component runs from the embedded artifact.
    static CLAIMED: AtomicBool = AtomicBool::new(false);
    /// The embedded artifact's address range (start, end), once a load has begun.
    static EMBEDDED_START: AtomicUsize = AtomicUsize::new(0);
    static EMBEDDED_END: AtomicUsize = AtomicUsize::new(0);

    /// Flips page protections with `mprotect`. Compiled plugins go through it too: for them it
    /// does what wasmtime does by default (read + execute once published), and makes their
    /// pages writable again just before wasmtime unmaps them.
    struct Protect;

    fn protect(ptr: *const u8, len: usize, prot: libc::c_int) -> wasmtime::Result<()> {
        if len == 0 {
            return Ok(());
        }
        // SAFETY: wasmtime passes a page-aligned range of memory it owns or that was handed to
        // it (the embedded artifact); changing its protection does not free or move it.
        let rc = unsafe { libc::mprotect(ptr as *mut libc::c_void, len, prot) };
        if rc == 0 {
            Ok(())
        } else {
            Err(wasmtime::format_err!(
                "mprotect failed: {}",
                std::io::Error::last_os_error()
            ))
        }
    }

    fn in_embedded(ptr: *const u8, len: usize) -> bool {
        let (start, end) = (
            EMBEDDED_START.load(Ordering::Acquire),
            EMBEDDED_END.load(Ordering::Acquire),
        );
        let p = ptr as usize;
        start != 0 && p >= start && p.saturating_add(len) <= end
    }

    impl CustomCodeMemory for Protect {
        fn required_alignment(&self) -> usize {
            PAGE
        }

        fn publish_executable(&self, ptr: *const u8, len: usize) -> wasmtime::Result<()> {
            protect(ptr, len, libc::PROT_READ | libc::PROT_EXEC)
        }

        fn unpublish_executable(&self, ptr: *const u8, len: usize) -> wasmtime::Result<()> {
            if in_embedded(ptr, len) {
                // The component that ran from the binary is gone. Its pages stay read +
                // execute: they are never written, and a later load publishes them again.
                CLAIMED.store(false, Ordering::Release);
                return Ok(());
            }
            // Other code (a compiled plugin) is unpublished only just before wasmtime unmaps
            // it, and a failure here would abort the process (wasmtime expects success): make
            // it writable again if the kernel agrees, and go on either way.
            let _ = protect(ptr, len, libc::PROT_READ | libc::PROT_WRITE);
            Ok(())
        }
    }

    pub(super) fn hook() -> Option<Arc<dyn CustomCodeMemory>> {
        Some(Arc::new(Protect))
    }

    pub(super) fn load(engine: &Engine, artifact: &'static [u8]) -> Option<Component> {
        let start = artifact.as_ptr() as usize;
        if !start.is_multiple_of(PAGE) || artifact.is_empty() {
            return None;
        }
        if CLAIMED.swap(true, Ordering::AcqRel) {
            return None;
        }
        EMBEDDED_START.store(start, Ordering::Release);
        EMBEDDED_END.store(start + artifact.len(), Ordering::Release);
        // SAFETY: the artifact was produced by this build's own build script for this engine
        // configuration (wasmtime checks compatibility and refuses a mismatch); it is a
        // `'static` in read-only data, so it outlives the component and is never modified; the
        // claim keeps a second component from registering the same code.
        // A failure leaves the claim taken (unless wasmtime already gave the code back): this
        // process then copies, which always works.
        unsafe { Component::deserialize_raw(engine, NonNull::from(artifact)) }.ok()
    }
}

#[cfg(not(all(target_os = "linux", target_arch = "x86_64")))]
mod imp {
    use std::sync::Arc;

    use wasmtime::component::Component;
    use wasmtime::{CustomCodeMemory, Engine};

    pub(super) fn hook() -> Option<Arc<dyn CustomCodeMemory>> {
        None
    }

    pub(super) fn load(_: &Engine, _: &'static [u8]) -> Option<Component> {
        None
    }
}
