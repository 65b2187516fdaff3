//! Placeholder until the verifier lands.
fn main() {}
