//! Listeners and sessions (TCP, Unix socket), the ingress `ServiceStateMachine`, `ServiceEntryPoint`, service executors, and the egress async client with its handshake.
//!
//! See docs/ARCHITECTURE.md for what this crate owns and the invariants it keeps.
