//! Placeholder until the pool benchmark is written.
fn main() {}
