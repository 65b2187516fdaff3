//! Control methods: uptime, stop, help.

use std::sync::Arc;

use serde_json::Value;

use super::super::error::RpcError;
use super::super::registry::{Arg, ArgType, Method, Params, Registry};
use super::super::Context;
use super::add;

const CAT: &str = "Control";

pub(super) fn register(reg: &mut Registry, ctx: &Arc<Context>) {
    add(
        reg,
        ctx,
        ("uptime", CAT, "Returns the total uptime of the server."),
        &[],
        |c, _| Ok(c.started.elapsed().as_secs().into()),
    );
    add(
        reg,
        ctx,
        ("stop", CAT, "Request a graceful shutdown of Sluice."),
        &[Arg::opt("wait", ArgType::Num)],
        |c, _| {
            c.query(crate::run::NodeLoop::request_stop)?;
            Ok("Sluice stopping".into())
        },
    );
}

/// Adds `help`, listing every method registered so far (call it last).
pub fn register_help(reg: &mut Registry) {
    let listing: Vec<Method> = reg.methods().cloned().collect();
    let help = move |p: &Params| -> Result<Value, RpcError> {
        if let Some(name) = p.str(0) {
            return Ok(match listing.iter().find(|m| m.name == name) {
                Some(m) => format!("{}\n\n{}", m.usage(), m.summary),
                None => format!("help: unknown command: {name}"),
            }
            .into());
        }
        let mut cats: Vec<&str> = listing.iter().map(|m| m.category).collect();
        cats.sort_unstable();
        cats.dedup();
        let mut out = Vec::new();
        for cat in cats {
            let mut section = format!("== {cat} ==");
            for m in listing.iter().filter(|m| m.category == cat) {
                section.push('\n');
                section.push_str(&m.usage());
            }
            out.push(section);
        }
        Ok(out.join("\n\n").into())
    };
    reg.add(Method {
        name: "help",
        category: CAT,
        args: vec![Arg::opt("command", ArgType::Str)],
        summary: "List all commands, or get help for a specified command.",
        handler: Arc::new(help),
    });
}
