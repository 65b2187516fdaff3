//! Shared pieces of the node's integration tests.
#![allow(dead_code)]

pub mod bitcoind;
