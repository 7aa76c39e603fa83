//! An adversarial corpus of CI logs and its scorer, for the redaction promise on logs the engine
//! was never tuned on (issue 15). Deterministic for a seed, with no Python at test time: every
//! secret kind (known values in each encoding, private keys plain and base64-encoded,
//! `Authorization: Basic`, hex values under secret names, passwords with symbols, documented
//! token formats) × every context (wraps, per-line prefixes, colour codes, `\r`, invalid UTF-8,
//! NUL bytes, long lines, read-chunk boundaries), inside real tool output with must-keep tokens
//! around. `tests/adversarial.rs` runs the built binary over it and asserts the targets.

pub mod contexts;
pub mod corpus;
pub mod encode;
pub mod kinds;
pub mod rng;
pub mod score;
pub mod segs;
pub mod tools;
