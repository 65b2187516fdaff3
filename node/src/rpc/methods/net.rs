//! Network methods: getpeerinfo, getnetworkinfo, getconnectioncount, addnode, disconnectnode.

use std::net::{SocketAddr, ToSocketAddrs as _};
use std::sync::Arc;

use serde_json::{json, Value};
use sluice_net::wire::services;
use sluice_net::{Direction, TransportKind};

use super::super::error::{RpcError, RPC_CLIENT_NODE_NOT_CONNECTED, RPC_INVALID_PARAMETER};
use super::super::registry::{Arg, ArgType, Params, Registry};
use super::super::Context;
use super::add;
use crate::run::AddNode;

const CAT: &str = "Network";
/// Core's `PROTOCOL_VERSION`.
const PROTOCOL_VERSION: u32 = 70016;

pub(super) fn register(reg: &mut Registry, ctx: &Arc<Context>) {
    use ArgType::{Bool, Num, Str};
    add(
        reg,
        ctx,
        (
            "getpeerinfo",
            CAT,
            "Returns data about each connected network peer as a json array of objects.",
        ),
        &[],
        getpeerinfo,
    );
    add(
        reg,
        ctx,
        (
            "getnetworkinfo",
            CAT,
            "Returns an object containing various state info regarding P2P networking.",
        ),
        &[],
        getnetworkinfo,
    );
    add(
        reg,
        ctx,
        (
            "getconnectioncount",
            CAT,
            "Returns the number of connections to other nodes.",
        ),
        &[],
        |c, _| {
            let (i, o) = c.query(|l| l.connection_counts())?;
            Ok((i + o).into())
        },
    );
    add(reg, ctx, ("addnode", CAT, "Attempts to add or remove a node from the addnode list. Or try a connection to a node once."), &[Arg::req("node", Str), Arg::req("command", Str), Arg::opt("v2transport", Bool)], addnode);
    add(
        reg,
        ctx,
        (
            "disconnectnode",
            CAT,
            "Immediately disconnects from the specified peer node.",
        ),
        &[Arg::opt("address", Str), Arg::opt("nodeid", Num)],
        disconnectnode,
    );
}

/// Core's `GetServicesNames`.
fn service_names(bits: u64) -> Vec<&'static str> {
    [
        (services::NODE_NETWORK, "NETWORK"),
        (services::NODE_BLOOM, "BLOOM"),
        (services::NODE_WITNESS, "WITNESS"),
        (services::NODE_COMPACT_FILTERS, "COMPACT_FILTERS"),
        (services::NODE_NETWORK_LIMITED, "NETWORK_LIMITED"),
        (services::NODE_P2P_V2, "P2P_V2"),
    ]
    .into_iter()
    .filter(|(b, _)| bits & b != 0)
    .map(|(_, n)| n)
    .collect()
}

fn network_of(addr: &SocketAddr) -> &'static str {
    match addr {
        SocketAddr::V4(a) if a.ip().is_loopback() || a.ip().is_private() => "not_publicly_routable",
        SocketAddr::V6(a) if a.ip().is_loopback() => "not_publicly_routable",
        SocketAddr::V4(_) => "ipv4",
        SocketAddr::V6(_) => "ipv6",
    }
}

fn getpeerinfo(ctx: &Context, _: &Params) -> Result<Value, RpcError> {
    let rows = ctx.query(|l| l.peer_rows())?;
    let peers: Vec<Value> = rows
        .into_iter()
        .map(|r| {
            let i = &r.info;
            let inbound = i.direction == Direction::Inbound;
            let conn_type = if inbound {
                "inbound"
            } else if r.manual {
                "manual"
            } else {
                "outbound-full-relay"
            };
            json!({
                "id": r.id,
                "addr": i.addr.to_string(),
                "network": network_of(&i.addr),
                "services": format!("{:016x}", i.services),
                "servicesnames": service_names(i.services),
                "relaytxes": i.relay,
                "conntime": r.conn_time,
                "version": i.version,
                "subver": i.user_agent,
                "inbound": inbound,
                "connection_type": conn_type,
                "transport_protocol_type": match i.transport {
                    TransportKind::V1 => "v1",
                    TransportKind::V2 => "v2",
                    // Not a Core value: a Sluice node over QUIC (docs/rpc.md).
                    TransportKind::Quic => "quic",
                },
            })
        })
        .collect();
    Ok(peers.into())
}

fn getnetworkinfo(ctx: &Context, _: &Params) -> Result<Value, RpcError> {
    let (inbound, outbound) = ctx.query(|l| l.connection_counts())?;
    let networks: Vec<Value> = ["ipv4", "ipv6", "onion", "i2p", "cjdns"]
        .into_iter()
        .map(|n| {
            let reachable = matches!(n, "ipv4" | "ipv6");
            json!({"name": n, "limited": !reachable, "reachable": reachable, "proxy": "", "proxy_randomize_credentials": false})
        })
        .collect();
    Ok(json!({
        "version": node_version(),
        "subversion": ctx.subversion,
        "protocolversion": PROTOCOL_VERSION,
        "localservices": format!("{:016x}", ctx.local_services),
        "localservicesnames": service_names(ctx.local_services),
        "localrelay": true,
        "timeoffset": 0,
        "networkactive": true,
        "connections": inbound + outbound,
        "connections_in": inbound,
        "connections_out": outbound,
        "networks": networks,
        "relayfee": 0.00001,
        "incrementalfee": 0.00001,
        "localaddresses": [],
        "warnings": [],
    }))
}

/// Sluice's version as Core encodes its own (`major * 10000 + minor * 100 + patch`).
fn node_version() -> u32 {
    let mut parts = env!("CARGO_PKG_VERSION")
        .split('.')
        .map(|p| p.parse::<u32>().unwrap_or(0));
    let (a, b, c) = (
        parts.next().unwrap_or(0),
        parts.next().unwrap_or(0),
        parts.next().unwrap_or(0),
    );
    a * 10_000 + b * 100 + c
}

fn resolve(node: &str) -> Result<SocketAddr, RpcError> {
    node.to_socket_addrs()
        .ok()
        .and_then(|mut a| a.next())
        .ok_or_else(|| {
            RpcError::new(
                RPC_INVALID_PARAMETER,
                format!("Error: Unable to resolve {node} (give host:port)"),
            )
        })
}

fn addnode(ctx: &Context, p: &Params) -> Result<Value, RpcError> {
    let cmd = match p.str(1).unwrap_or_default() {
        "add" => AddNode::Add,
        "remove" => AddNode::Remove,
        "onetry" => AddNode::OneTry,
        _ => {
            return Err(RpcError::misc(
                "addnode \"node\" \"command\" ( v2transport )\n\ncommand must be one of 'add', 'remove' or 'onetry'",
            ))
        }
    };
    let addr = resolve(p.str(0).unwrap_or_default())?;
    ctx.query(move |l| l.add_node(addr, cmd))?
        .map_err(|(code, msg)| RpcError::new(code, msg))?;
    Ok(Value::Null)
}

fn disconnectnode(ctx: &Context, p: &Params) -> Result<Value, RpcError> {
    let (addr, id) = match (p.str(0), p.get(1)) {
        (Some(a), None) if !a.is_empty() => (Some(resolve(a)?), None),
        (None | Some(""), Some(_)) => (None, p.int::<u64>(1)?),
        _ => {
            return Err(RpcError::new(
                RPC_INVALID_PARAMETER,
                "Only one of address and nodeid should be provided.",
            ))
        }
    };
    if ctx.query(move |l| l.disconnect_peer(addr, id))? {
        Ok(Value::Null)
    } else {
        Err(RpcError::new(
            RPC_CLIENT_NODE_NOT_CONNECTED,
            "Node not found in connected nodes",
        ))
    }
}
