//! Placeholder: filled in by the shadow work.
