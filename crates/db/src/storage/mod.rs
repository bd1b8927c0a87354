//! storage (being written).
