//! The pooling, routing and failover proxy: client sessions and server sessions in front of upstream servers.
//!
//! See docs/ARCHITECTURE.md for what this crate owns and the invariants it keeps.
