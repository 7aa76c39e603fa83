//! The last line of defence for what exlogare itself prints: every message, summary and error
//! goes through here, so no known secret value (nor its encodings) is ever shown, even if it
//! came back inside a server's answer or a plugin's stderr.

use exlogare_redact::{Config, KnownSecret, LeakScanner, Redactor};

/// Removes known secret values from text before it is printed.
pub struct Scrubber {
    config: Config,
    scanner: LeakScanner,
}

impl Scrubber {
    /// A scrubber for these (name, value) secrets.
    pub fn new(secrets: &[(String, String)], min_secret_length: u32) -> Scrubber {
        let known: Vec<KnownSecret> = secrets
            .iter()
            .map(|(name, value)| KnownSecret {
                name: name.clone(),
                value: value.clone(),
            })
            .collect();
        let min = min_secret_length as usize;
        Scrubber {
            scanner: LeakScanner::new(&known, min),
            config: Config {
                known,
                min_secret_len: min,
                rules_toml: None,
            },
        }
    }

    /// `text` with every known value replaced by its placeholder.
    pub fn scrub(&self, text: &str) -> String {
        if self.scanner.is_empty() || self.scanner.find(text.as_bytes()).is_none() {
            return text.to_string();
        }
        let mut out = Vec::new();
        match Redactor::new(&self.config) {
            Ok(mut r) => {
                r.push(text.as_bytes(), &mut out);
                r.finish(&mut out);
                String::from_utf8_lossy(&out).into_owned()
            }
            // Cannot happen without user rules; never print unscrubbed text anyway.
            Err(_) => "[message withheld: it contained a secret]".to_string(),
        }
    }

    /// The scanner, for leak checks on bytes about to leave.
    pub fn scanner(&self) -> &LeakScanner {
        &self.scanner
    }
}
