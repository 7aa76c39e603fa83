//! Delivery of a payload to the ingest API.
//!
//! The CLI hands over finished bytes (already redacted and leak-checked); this crate only moves
//! them: it builds the HTTP client (rustls), POSTs with the bearer token, and says exactly what
//! happened in a [`DeliveryError`] that never contains the token.

mod client;
mod endpoint;

pub use client::{Delivered, DeliveryError, Request, Uploader, UploaderConfig};
pub use endpoint::{Endpoint, EndpointError};
