//! Egress connection pooling: per-host specific pools, the controller, generations and tag closers.
//!
//! See docs/ARCHITECTURE.md for what this crate owns and the invariants it keeps.
