//! JSON-RPC envelopes as Core 31 handles them (httprpc.cpp, rpc/request.cpp): a request body to
//! an HTTP status and reply body. JSON-RPC 1.0 (and requests without `"jsonrpc"`) answer with
//! both `result` and `error` and turn errors into HTTP errors; 2.0 omits the null one, always
//! answers 200, and gives notifications (no `id`) no reply; batches are always 200.

use serde_json::{Map, Value};

use super::error::{RpcError, RPC_INVALID_REQUEST, RPC_METHOD_NOT_FOUND, RPC_PARSE_ERROR};
use super::registry::Registry;

/// What to send back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    pub status: u16,
    /// `None`: no body (204, or an HTTP error Core sends empty).
    pub body: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Version {
    V1,
    V2,
}

/// One parsed request object. `id` is `None` when the member is absent.
struct Call {
    id: Option<Value>,
    version: Version,
    method: String,
    params: Value,
}

impl Call {
    fn is_notification(&self) -> bool {
        self.id.is_none() && self.version == Version::V2
    }
}

/// Parse state: the id and version found before a parse error (Core parses them first so
/// later errors carry them; a batch reuses one request object, so an item that is not an object
/// inherits the previous item's).
#[derive(Clone)]
struct Partial {
    id: Option<Value>,
    version: Version,
}

impl Default for Partial {
    fn default() -> Self {
        Self {
            id: Some(Value::Null),
            version: Version::V1,
        }
    }
}

fn parse_call(v: &Value, before: &Partial) -> Result<Call, (RpcError, Partial)> {
    let mut partial = before.clone();
    let Value::Object(o) = v else {
        return Err((
            RpcError::new(RPC_INVALID_REQUEST, "Invalid Request object"),
            partial,
        ));
    };
    partial.id = o.get("id").cloned();
    partial.version = Version::V1;
    let fail = |msg: &str, p: Partial| Err((RpcError::new(RPC_INVALID_REQUEST, msg), p));
    match o.get("jsonrpc") {
        None | Some(Value::Null) => {}
        Some(Value::String(s)) if s == "1.0" => {}
        Some(Value::String(s)) if s == "2.0" => partial.version = Version::V2,
        Some(Value::String(_)) => return fail("JSON-RPC version not supported", partial),
        Some(_) => return fail("jsonrpc field must be a string", partial),
    }
    let method = match o.get("method") {
        None | Some(Value::Null) => return fail("Missing method", partial),
        Some(Value::String(s)) => s.clone(),
        Some(_) => return fail("Method must be a string", partial),
    };
    let params = match o.get("params") {
        Some(p @ (Value::Array(_) | Value::Object(_))) => p.clone(),
        None | Some(Value::Null) => Value::Array(Vec::new()),
        Some(_) => return fail("Params must be an array or object", partial),
    };
    Ok(Call {
        id: partial.id,
        version: partial.version,
        method,
        params,
    })
}

/// Core's `JSONRPCReplyObj`.
fn reply_obj(
    result: Option<Value>,
    error: Option<&RpcError>,
    id: Option<Value>,
    v: Version,
) -> Value {
    let mut o = Map::new();
    if v == Version::V2 {
        o.insert("jsonrpc".into(), "2.0".into());
    }
    match error {
        None => {
            o.insert("result".into(), result.unwrap_or(Value::Null));
            if v == Version::V1 {
                o.insert("error".into(), Value::Null);
            }
        }
        Some(e) => {
            if v == Version::V1 {
                o.insert("result".into(), Value::Null);
            }
            o.insert("error".into(), e.to_json());
        }
    }
    if let Some(id) = id {
        o.insert("id".into(), id);
    }
    Value::Object(o)
}

/// Core's `JSONErrorReply`: the HTTP status of a 1.0 error.
fn error_status(e: &RpcError) -> u16 {
    match e.code {
        RPC_INVALID_REQUEST => 400,
        RPC_METHOD_NOT_FOUND => 404,
        _ => 500,
    }
}

fn body(v: &Value) -> Option<String> {
    Some(format!("{v}\n"))
}

/// Handles one request body.
#[must_use]
pub fn handle(raw: &[u8], registry: &Registry) -> Reply {
    let Ok(request) = serde_json::from_slice::<Value>(raw) else {
        let e = RpcError::new(RPC_PARSE_ERROR, "Parse error");
        return Reply {
            status: 500,
            body: body(&reply_obj(None, Some(&e), Some(Value::Null), Version::V1)),
        };
    };
    match &request {
        Value::Object(_) => single(&request, registry),
        Value::Array(items) => batch(items, registry),
        _ => {
            let e = RpcError::new(RPC_PARSE_ERROR, "Top-level object parse error");
            Reply {
                status: 500,
                body: body(&reply_obj(None, Some(&e), Some(Value::Null), Version::V1)),
            }
        }
    }
}

fn single(request: &Value, registry: &Registry) -> Reply {
    let call = match parse_call(request, &Partial::default()) {
        Ok(c) => c,
        Err((e, p)) => {
            // Core answers a request it cannot parse with an HTTP error even when it said 2.0
            // (JSONErrorReply, shaped with the version parsed so far).
            return Reply {
                status: error_status(&e),
                body: body(&reply_obj(None, Some(&e), p.id, p.version)),
            };
        }
    };
    let result = registry.execute(&call.method, &call.params);
    if call.is_notification() {
        return Reply {
            status: 204,
            body: None,
        };
    }
    match result {
        Ok(v) => Reply {
            status: 200,
            body: body(&reply_obj(Some(v), None, call.id, call.version)),
        },
        Err(e) => Reply {
            status: if call.version == Version::V2 {
                200
            } else {
                error_status(&e)
            },
            body: body(&reply_obj(None, Some(&e), call.id, call.version)),
        },
    }
}

fn batch(items: &[Value], registry: &Registry) -> Reply {
    let mut out = Vec::new();
    let mut state = Partial::default();
    for item in items {
        let (reply, notification) = match parse_call(item, &state) {
            Ok(call) => {
                state = Partial {
                    id: call.id.clone(),
                    version: call.version,
                };
                let r = registry.execute(&call.method, &call.params);
                let n = call.is_notification();
                let reply = match r {
                    Ok(v) => reply_obj(Some(v), None, call.id, call.version),
                    Err(e) => reply_obj(None, Some(&e), call.id, call.version),
                };
                (reply, n)
            }
            Err((e, p)) => {
                let n = p.id.is_none() && p.version == Version::V2;
                state = p.clone();
                (reply_obj(None, Some(&e), p.id, p.version), n)
            }
        };
        if !notification {
            out.push(reply);
        }
    }
    if out.is_empty() && !items.is_empty() {
        return Reply {
            status: 204,
            body: None,
        };
    }
    Reply {
        status: 200,
        body: body(&Value::Array(out)),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use std::sync::Arc;

    use serde_json::json;

    use super::super::registry::{Arg, ArgType, Method, Params};
    use super::*;

    fn registry() -> Registry {
        let mut r = Registry::default();
        r.add(Method {
            name: "getblockcount",
            category: "Blockchain",
            args: vec![],
            summary: "",
            handler: Arc::new(|_: &Params| Ok(json!(7))),
        });
        r.add(Method {
            name: "fail",
            category: "Test",
            args: vec![Arg::opt("x", ArgType::Num)],
            summary: "",
            handler: Arc::new(|_: &Params| Err(RpcError::new(-5, "Block not found"))),
        });
        r
    }

    fn run(body: &str) -> (u16, Option<Value>) {
        let r = handle(body.as_bytes(), &registry());
        (r.status, r.body.map(|b| serde_json::from_str(&b).unwrap()))
    }

    #[test]
    fn version_1_shapes_and_statuses() {
        assert_eq!(
            run(r#"{"id":1,"method":"getblockcount"}"#),
            (200, Some(json!({"result":7,"error":null,"id":1})))
        );
        assert_eq!(
            run(r#"{"jsonrpc":"1.0","id":"x","method":"fail"}"#),
            (
                500,
                Some(
                    json!({"result":null,"error":{"code":-5,"message":"Block not found"},"id":"x"})
                )
            )
        );
        assert_eq!(run(r#"{"id":1,"method":"nope"}"#).0, 404);
        assert_eq!(run(r#"{"id":1}"#).0, 400);
        assert_eq!(run(r#"{"id":1,"method":3}"#).0, 400);
        assert_eq!(run(r#"{"id":1,"method":"fail","params":3}"#).0, 400);
        assert_eq!(run(r#"{"jsonrpc":"3.0","id":1,"method":"x"}"#).0, 400);
        // A 1.0 request without id still gets an answer (no id member in it).
        assert_eq!(
            run(r#"{"method":"getblockcount"}"#),
            (200, Some(json!({"result":7,"error":null})))
        );
    }

    #[test]
    fn version_2_shapes_and_notifications() {
        assert_eq!(
            run(r#"{"jsonrpc":"2.0","id":1,"method":"getblockcount"}"#),
            (200, Some(json!({"jsonrpc":"2.0","result":7,"id":1})))
        );
        assert_eq!(
            run(r#"{"jsonrpc":"2.0","id":1,"method":"nope"}"#),
            (
                200,
                Some(
                    json!({"jsonrpc":"2.0","error":{"code":-32601,"message":"Method not found"},"id":1})
                )
            )
        );
        assert_eq!(
            run(r#"{"jsonrpc":"2.0","method":"getblockcount"}"#),
            (204, None)
        );
        assert_eq!(run(r#"{"jsonrpc":"2.0","method":"nope"}"#), (204, None));
        // A 2.0 request that cannot be parsed still gets Core's HTTP error.
        assert_eq!(
            run(r#"{"jsonrpc":"2.0","id":4}"#),
            (
                400,
                Some(
                    json!({"jsonrpc":"2.0","error":{"code":-32600,"message":"Missing method"},"id":4})
                )
            )
        );
    }

    #[test]
    fn parse_errors_and_batches() {
        assert_eq!(
            run("{not json"),
            (
                500,
                Some(
                    json!({"result":null,"error":{"code":-32700,"message":"Parse error"},"id":null})
                )
            )
        );
        assert_eq!(
            run("3"),
            (
                500,
                Some(
                    json!({"result":null,"error":{"code":-32700,"message":"Top-level object parse error"},"id":null})
                )
            )
        );
        assert_eq!(run("[]"), (200, Some(json!([]))));
        assert_eq!(
            run(r#"[{"jsonrpc":"2.0","method":"getblockcount"}]"#),
            (204, None),
            "an all-notification batch"
        );
        let (status, b) = run(
            r#"[{"id":1,"method":"getblockcount"},{"jsonrpc":"2.0","id":2,"method":"fail"},5,{"jsonrpc":"2.0","method":"getblockcount"}]"#,
        );
        assert_eq!(status, 200);
        assert_eq!(
            b.unwrap(),
            json!([
                {"result":7,"error":null,"id":1},
                {"jsonrpc":"2.0","error":{"code":-5,"message":"Block not found"},"id":2},
                // Core's quirk: a non-object item keeps the previous item's id and version.
                {"jsonrpc":"2.0","error":{"code":-32600,"message":"Invalid Request object"},"id":2}
            ])
        );
    }
}
