//! The built-in methods, registered over a shared [`Context`].

mod chain;
mod control;
mod mempool;
mod net;
mod rawtx;

use std::sync::Arc;

use serde_json::Value;

use super::error::RpcError;
use super::registry::{Arg, Method, Params, Registry};
use super::Context;

/// Registers every built-in method except `help`.
pub fn register_all(reg: &mut Registry, ctx: &Arc<Context>) {
    chain::register(reg, ctx);
    rawtx::register(reg, ctx);
    net::register(reg, ctx);
    control::register(reg, ctx);
}

pub use control::register_help;
pub use mempool::register as register_mempool;

/// Adds a method whose handler takes the context.
fn add(
    reg: &mut Registry,
    ctx: &Arc<Context>,
    (name, category, summary): (&'static str, &'static str, &'static str),
    args: &[Arg],
    f: fn(&Context, &Params) -> Result<Value, RpcError>,
) {
    let ctx = ctx.clone();
    reg.add(Method {
        name,
        category,
        args: args.to_vec(),
        summary,
        handler: Arc::new(move |p: &Params| f(&ctx, p)),
    });
}
