//! The Sluice node (see README.md): typed configuration, the `run` daemon, the `demo`.

pub mod bytesize;
pub mod config;
pub mod demo;
pub mod hardening;
pub mod logging;
pub mod metrics;
pub mod release;
pub mod rpc;
pub mod run;
pub mod secret;
