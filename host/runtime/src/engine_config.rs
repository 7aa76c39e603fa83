//! The one wasmtime configuration, shared by the build script (which precompiles the default
//! guest) and the runtime (which loads it): a precompiled artifact only loads into an engine
//! configured the same way.

/// The engine configuration every exlogare guest runs under.
pub fn config() -> wasmtime::Config {
    let mut config = wasmtime::Config::new();
    config.wasm_component_model(true);
    // Deadlines per call and per job are enforced by epoch interruption: cheap, unlike fuel.
    config.epoch_interruption(true);
    config.cranelift_opt_level(wasmtime::OptLevel::Speed);
    // No native-to-wasm address map: a trap still names the guest's function, only without
    // its wasm byte offset, and every compiled guest (the embedded one: 0.47 MB of the
    // binary) is smaller (bench/RESULTS.md, "Release binaries").
    config.generate_address_map(false);
    config
}
