//! The exlogare redaction engine (API sketch; being filled in).
