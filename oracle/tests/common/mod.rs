pub mod core_verdict;
pub mod scriptgen;
