//! docwire's automation (placeholder until written).
fn main() {}
