//! Caps on what a plugin may ask the compiler to do, checked before compiling it.
//!
//! Compiling is the first thing the host does with an untrusted component, and Cranelift's
//! time grows with the number and size of functions (and, within one function, with its
//! locals and nesting). So before any compile the host walks the component's core modules
//! with `wasmparser` (structure only, nothing is validated or compiled) and refuses one that
//! is over any cap, naming the plugin and the cap. The compile itself is then also bounded by
//! the job's deadline (see `Runtime::compile_plugin`); these caps make the common bombs fail
//! at once with a clear message instead of after the deadline.

use wasmparser::{Parser, Payload};

/// The caps checked before a plugin is compiled. The defaults are far above what a real
/// redaction plugin needs (the example plugin has a few hundred functions, its largest body is
/// a few KiB), and far below what makes Cranelift run for minutes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CompileCaps {
    /// Core modules in the component, nested components included.
    pub modules: u32,
    /// Defined functions in all core modules together.
    pub functions: u32,
    /// Bytes of one function body.
    pub function_bytes: u32,
    /// Bytes of all code sections together.
    pub code_bytes: u64,
    /// Locals declared by one function.
    pub locals: u32,
}

impl Default for CompileCaps {
    fn default() -> Self {
        CompileCaps {
            modules: 64,
            functions: 50_000,
            function_bytes: 1 << 20,
            code_bytes: 32 << 20,
            locals: 50_000,
        }
    }
}

/// What a component asks to compile.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CompileSize {
    /// Core modules.
    pub modules: u32,
    /// Defined functions.
    pub functions: u32,
    /// The largest function body, in bytes.
    pub largest_function: u32,
    /// All code, in bytes.
    pub code_bytes: u64,
    /// The most locals of one function.
    pub most_locals: u32,
}

/// Why a component is refused before compiling: the cap it breaks, said for people.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OverCap(pub String);

impl CompileCaps {
    /// Measures `wasm` and refuses it at the first cap it breaks. A binary that does not parse
    /// is left to the compiler, which refuses it with its own message.
    pub fn check(&self, wasm: &[u8]) -> Result<CompileSize, OverCap> {
        let mut size = CompileSize::default();
        for payload in Parser::new(0).parse_all(wasm) {
            let Ok(payload) = payload else { break };
            match payload {
                Payload::Version { .. } => {}
                Payload::ModuleSection { .. } => {
                    size.modules += 1;
                    if size.modules > self.modules {
                        return Err(OverCap(format!(
                            "it holds more than {} core modules (the cap on modules)",
                            self.modules
                        )));
                    }
                }
                Payload::CodeSectionStart {
                    count, size: bytes, ..
                } => {
                    size.functions = size.functions.saturating_add(count);
                    size.code_bytes += u64::from(bytes);
                    if size.functions > self.functions {
                        return Err(OverCap(format!(
                            "it defines {} or more functions, over the cap of {}",
                            size.functions, self.functions
                        )));
                    }
                    if size.code_bytes > self.code_bytes {
                        return Err(OverCap(format!(
                            "it holds {} or more bytes of code, over the cap of {}",
                            size.code_bytes, self.code_bytes
                        )));
                    }
                }
                Payload::CodeSectionEntry(body) => {
                    let len = u32::try_from(body.range().len()).unwrap_or(u32::MAX);
                    size.largest_function = size.largest_function.max(len);
                    if len > self.function_bytes {
                        return Err(OverCap(format!(
                            "one of its functions is {len} bytes, over the cap of {} per function",
                            self.function_bytes
                        )));
                    }
                    let mut locals: u32 = 0;
                    if let Ok(reader) = body.get_locals_reader() {
                        for entry in reader {
                            let Ok((count, _)) = entry else { break };
                            locals = locals.saturating_add(count);
                        }
                    }
                    size.most_locals = size.most_locals.max(locals);
                    if locals > self.locals {
                        return Err(OverCap(format!(
                            "one of its functions declares {locals} locals, over the cap of {} per function",
                            self.locals
                        )));
                    }
                }
                _ => {}
            }
        }
        Ok(size)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_guest_is_well_within_the_caps() {
        let size = CompileCaps::default()
            .check(crate::default_guest_wasm())
            .expect("the default guest passes");
        assert!(size.modules >= 1 && size.functions > 10, "{size:?}");
    }

    #[test]
    fn a_component_over_a_cap_is_refused_naming_the_cap() {
        let caps = CompileCaps {
            functions: 3,
            ..CompileCaps::default()
        };
        let err = caps.check(crate::default_guest_wasm()).unwrap_err();
        assert!(err.0.contains("over the cap of 3"), "{err:?}");
    }
}
