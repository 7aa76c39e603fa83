//! Delivery of a payload to the ingest API, and the spool for what could not be delivered.
//!
//! The CLI hands over finished bytes (already redacted and leak-checked); this crate only moves
//! them: it builds the HTTP client (rustls, system trust store plus extra CAs, proxies from the
//! environment), POSTs with the bearer token and an idempotency key, retries what is worth
//! retrying within one deadline ([`retry`]), and says exactly what happened in an
//! [`Undelivered`] that never contains the token. What could not be delivered goes to the
//! [`spool`], from which `exlogare send` delivers it later.

mod client;
mod endpoint;
pub mod retry;
pub mod spool;

/// The owned, cheaply cloned body type of [`Request`].
pub use bytes::Bytes;
pub use client::{
    Delivered, DeliveryError, Encoding, Request, Stop, Undelivered, Uploader, UploaderConfig,
};
pub use endpoint::{Endpoint, EndpointError};
pub use retry::RetryPolicy;
pub use spool::{Spool, SpoolError, SpoolMeta};
