//! exlogare-deliver (being filled in).
