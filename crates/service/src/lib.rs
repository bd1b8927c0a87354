//! Contextual singletons: `ServiceContext`, `Client`, `OperationContext`, decorations, interruption (kill, deadline, shutdown) and the periodic runner.
//!
//! See docs/ARCHITECTURE.md for what this crate owns and the invariants it keeps.
