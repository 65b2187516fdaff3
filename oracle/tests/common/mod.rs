pub mod core_verdict;
pub mod scriptgen;
pub mod sluice_verdict;
