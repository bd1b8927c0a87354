//! The task executor (events, callbacks, cancellable handles, timed work, remote commands), the network interface (real and virtual-clock mock) and replica-set targeting.
//!
//! See docs/ARCHITECTURE.md for what this crate owns and the invariants it keeps.
