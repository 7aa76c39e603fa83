//! exlogare-runtime (being filled in).
