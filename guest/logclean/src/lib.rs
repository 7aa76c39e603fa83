//! Log clean-up (being filled in).
