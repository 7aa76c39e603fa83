//! exlogare-settings (being filled in).
