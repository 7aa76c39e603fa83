//! Payload building (being filled in).
