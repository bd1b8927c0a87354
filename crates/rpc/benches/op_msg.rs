//! Criterion benchmarks of OP_MSG parse and build (placeholder until written).
fn main() {}
