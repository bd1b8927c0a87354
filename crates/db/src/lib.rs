//! The embedded database behind the default server: storage engines, commands and cursors.
//!
//! See docs/ARCHITECTURE.md for what this crate owns and the invariants it keeps.
