//! exlogare-guest (being filled in).
