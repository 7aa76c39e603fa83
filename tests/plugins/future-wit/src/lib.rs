//! A harmless plugin built against `exlogare:ingest@9.0.0`, a version this host does not
//! support: loading it must fail with a message naming both versions.

wit_bindgen::generate!({
    world: "redactor-plugin",
    path: "wit",
});

use exports::exlogare::ingest::redaction;

struct Plugin;

export!(Plugin);

impl redaction::Guest for Plugin {
    type Redactor = Redactor;

    fn info() -> redaction::PluginInfo {
        redaction::PluginInfo {
            name: "future-wit".to_string(),
            version: "0.1.0".to_string(),
            description: "built for exlogare:ingest@9.0.0".to_string(),
        }
    }
}

struct Redactor;

impl redaction::GuestRedactor for Redactor {
    fn create(_: redaction::Options) -> Result<redaction::Redactor, String> {
        Ok(redaction::Redactor::new(Redactor))
    }
    fn push(&self, chunk: Vec<u8>) -> Vec<u8> {
        chunk
    }
    fn finish(&self) -> Vec<u8> {
        Vec::new()
    }
    fn report(&self) -> Vec<redaction::RuleCount> {
        Vec::new()
    }
}
