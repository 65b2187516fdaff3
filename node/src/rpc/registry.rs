//! The method table: names, argument specifications and handlers, and the checks Core's
//! `CRPCTable::execute` / `RPCHelpMan::HandleRequest` make before a handler runs (warm-up,
//! unknown method, named to positional arguments, argument count and JSON types).
//!
//! This is the seam other parts of the node plug methods into (the mempool's
//! `sendrawtransaction`, `testmempoolaccept`, …): [`Registry::add`] before the server starts.

use std::collections::BTreeMap;
use std::sync::{Arc, RwLock};

use serde_json::{Map, Value};

use super::error::{
    RpcError, RPC_INVALID_PARAMETER, RPC_IN_WARMUP, RPC_METHOD_NOT_FOUND, RPC_MISC_ERROR,
    RPC_TYPE_ERROR,
};

/// The JSON type an argument must have (Core's `RPCArg::Type`, as far as it is checked).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ArgType {
    Str,
    Num,
    Bool,
    Obj,
    Arr,
    /// Not checked (Core's `skip_type_check`, or several accepted types).
    Any,
}

impl ArgType {
    fn name(self) -> &'static str {
        match self {
            ArgType::Str => "string",
            ArgType::Num => "number",
            ArgType::Bool => "bool",
            ArgType::Obj => "object",
            ArgType::Arr => "array",
            ArgType::Any => "any",
        }
    }
}

/// One argument: its names (`"verbosity|verbose"`: aliases), type and whether it may be left
/// out.
#[derive(Debug, Clone, Copy)]
pub struct Arg {
    pub names: &'static str,
    pub ty: ArgType,
    pub optional: bool,
}

impl Arg {
    #[must_use]
    pub const fn req(names: &'static str, ty: ArgType) -> Self {
        Self {
            names,
            ty,
            optional: false,
        }
    }

    #[must_use]
    pub const fn opt(names: &'static str, ty: ArgType) -> Self {
        Self {
            names,
            ty,
            optional: true,
        }
    }
}

/// A method's body: positional arguments (named ones already placed) to a result.
pub type Handler = Arc<dyn Fn(&Params) -> Result<Value, RpcError> + Send + Sync>;

/// A registered method.
#[derive(Clone)]
pub struct Method {
    pub name: &'static str,
    /// Core's category, for `help`'s grouping ("Blockchain", "Network", …).
    pub category: &'static str,
    pub args: Vec<Arg>,
    /// One line for `help` and the text of the -1 error on a wrong argument count.
    pub summary: &'static str,
    pub handler: Handler,
}

impl std::fmt::Debug for Method {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Method").field("name", &self.name).finish()
    }
}

impl Method {
    /// `name "arg1" ( "opt" )`: the first line of Core's help for the method.
    #[must_use]
    pub fn usage(&self) -> String {
        let mut s = self.name.to_owned();
        for a in &self.args {
            let n = a.names.split('|').next().unwrap_or(a.names);
            if a.optional {
                s.push_str(&format!(" ( {n} )"));
            } else {
                s.push_str(&format!(" {n}"));
            }
        }
        s
    }
}

/// Positional arguments after checking.
#[derive(Debug, Clone)]
pub struct Params(pub Vec<Value>);

impl Params {
    /// Argument `i`, `None` when absent or JSON null.
    #[must_use]
    pub fn get(&self, i: usize) -> Option<&Value> {
        self.0.get(i).filter(|v| !v.is_null())
    }

    /// A string argument (its type was checked by the registry).
    #[must_use]
    pub fn str(&self, i: usize) -> Option<&str> {
        self.get(i).and_then(Value::as_str)
    }

    /// An integer argument in `T`'s range; out of range is Core's -1 ("JSON integer out of
    /// range"), a non-integer -3.
    ///
    /// # Errors
    /// As above.
    pub fn int<T: TryFrom<i64>>(&self, i: usize) -> Result<Option<T>, RpcError> {
        let Some(v) = self.get(i) else {
            return Ok(None);
        };
        let n = v
            .as_i64()
            .ok_or_else(|| RpcError::new(RPC_TYPE_ERROR, "JSON integer out of range"))?;
        T::try_from(n)
            .map(Some)
            .map_err(|_| RpcError::new(RPC_TYPE_ERROR, "JSON integer out of range"))
    }

    /// A boolean argument.
    #[must_use]
    pub fn bool(&self, i: usize) -> Option<bool> {
        self.get(i).and_then(Value::as_bool)
    }
}

/// Every method, plus the warm-up status (-28 while it is set).
#[derive(Debug, Clone, Default)]
pub struct Registry {
    methods: BTreeMap<&'static str, Method>,
    warmup: Arc<RwLock<Option<String>>>,
}

fn json_type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "bool",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

/// UniValue's `write(4)`: pretty JSON with four-space indentation.
fn pretty4(v: &Value) -> String {
    use serde::Serialize as _;
    let mut out = Vec::new();
    let fmt = serde_json::ser::PrettyFormatter::with_indent(b"    ");
    let mut ser = serde_json::Serializer::with_formatter(&mut out, fmt);
    if v.serialize(&mut ser).is_err() {
        return v.to_string();
    }
    String::from_utf8(out).unwrap_or_default()
}

impl Registry {
    /// Adds (or replaces) a method.
    pub fn add(&mut self, method: Method) {
        self.methods.insert(method.name, method);
    }

    /// The method called `name`.
    #[must_use]
    pub fn get(&self, name: &str) -> Option<&Method> {
        self.methods.get(name)
    }

    /// Every method, sorted by name.
    pub fn methods(&self) -> impl Iterator<Item = &Method> {
        self.methods.values()
    }

    /// Sets (`Some`) or ends (`None`) warm-up; while set every call gets -28 with this text.
    pub fn set_warmup(&self, status: Option<String>) {
        *self
            .warmup
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = status;
    }

    /// Runs `method` with `params` (a JSON array or object) as Core's table does.
    ///
    /// # Errors
    /// Core's error for the case: -28 in warm-up, -32601 unknown method, -8 bad named
    /// arguments, -1 (with the usage) for a wrong argument count, -3 for wrong types, or the
    /// handler's own error.
    pub fn execute(&self, method: &str, params: &Value) -> Result<Value, RpcError> {
        if let Some(status) = self
            .warmup
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
        {
            return Err(RpcError::new(RPC_IN_WARMUP, status));
        }
        let m = self
            .methods
            .get(method)
            .ok_or_else(|| RpcError::new(RPC_METHOD_NOT_FOUND, "Method not found"))?;
        let positional = match params {
            Value::Object(named) => named_to_positional(named, &m.args)?,
            Value::Array(a) => a.clone(),
            _ => Vec::new(),
        };
        let required = m
            .args
            .iter()
            .rposition(|a| !a.optional)
            .map_or(0, |i| i + 1);
        if positional.len() < required || positional.len() > m.args.len() {
            return Err(RpcError::new(RPC_MISC_ERROR, m.usage()));
        }
        let mut mismatch = Map::new();
        for (i, (arg, v)) in m.args.iter().zip(&positional).enumerate() {
            let ok = (arg.optional && v.is_null())
                || match arg.ty {
                    ArgType::Any => true,
                    ArgType::Str => v.is_string(),
                    ArgType::Num => v.is_number(),
                    ArgType::Bool => v.is_boolean(),
                    ArgType::Obj => v.is_object(),
                    ArgType::Arr => v.is_array(),
                };
            if !ok {
                mismatch.insert(
                    format!("Position {} ({})", i + 1, arg.names),
                    Value::String(format!(
                        "JSON value of type {} is not of expected type {}",
                        json_type_name(v),
                        arg.ty.name()
                    )),
                );
            }
        }
        if !mismatch.is_empty() {
            return Err(RpcError::new(
                RPC_TYPE_ERROR,
                format!("Wrong type passed:\n{}", pretty4(&Value::Object(mismatch))),
            ));
        }
        (m.handler)(&Params(positional))
    }
}

/// Core's `transformNamedArguments`: named arguments placed by position (nulls fill holes
/// between them, not after), `args` as a source of leading positional ones, unknown names -8.
fn named_to_positional(named: &Map<String, Value>, args: &[Arg]) -> Result<Vec<Value>, RpcError> {
    let mut left: BTreeMap<&str, &Value> = named.iter().map(|(k, v)| (k.as_str(), v)).collect();
    let mut out = Vec::new();
    let mut hole = 0usize;
    let mut initial_hole = 0usize;
    let mut initial_param: Option<&str> = None;
    for arg in args {
        let found = arg
            .names
            .split('|')
            .find_map(|n| left.get_key_value(n).map(|(k, v)| (*k, *v)));
        if let Some((key, v)) = found {
            out.extend(std::iter::repeat_n(Value::Null, hole));
            hole = 0;
            initial_param.get_or_insert(arg.names);
            out.push(v.clone());
            left.remove(key);
        } else {
            hole += 1;
            if out.is_empty() {
                initial_hole = hole;
            }
        }
    }
    if let Some(Value::Array(pos)) = left.remove("args") {
        if let Some(p) = initial_param.filter(|_| initial_hole < pos.len()) {
            return Err(RpcError::new(
                RPC_INVALID_PARAMETER,
                format!("Parameter {p} specified twice both as positional and named argument"),
            ));
        }
        let named_part = out;
        out = pos.clone();
        for v in named_part.into_iter().skip(out.len()) {
            out.push(v);
        }
    }
    if let Some(k) = left.keys().next() {
        return Err(RpcError::new(
            RPC_INVALID_PARAMETER,
            format!("Unknown named parameter {k}"),
        ));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use serde_json::json;

    fn echo_registry() -> Registry {
        let mut r = Registry::default();
        r.add(Method {
            name: "getblock",
            category: "Blockchain",
            args: vec![
                Arg::req("blockhash", ArgType::Str),
                Arg::opt("verbosity|verbose", ArgType::Any),
                Arg::opt("extra", ArgType::Bool),
            ],
            summary: "test",
            handler: Arc::new(|p: &Params| Ok(Value::Array(p.0.clone()))),
        });
        r
    }

    #[test]
    fn named_arguments_are_placed_like_core() {
        let r = echo_registry();
        let run = |p: Value| r.execute("getblock", &p);
        assert_eq!(run(json!({"blockhash": "aa"})).unwrap(), json!(["aa"]));
        assert_eq!(
            run(json!({"blockhash": "aa", "verbose": 2})).unwrap(),
            json!(["aa", 2])
        );
        assert_eq!(
            run(json!({"blockhash": "aa", "extra": true})).unwrap(),
            json!(["aa", null, true]),
            "holes between named arguments are nulls"
        );
        assert_eq!(
            run(json!({"args": ["aa"], "verbosity": 0})).unwrap(),
            json!(["aa", 0])
        );
        let e = run(json!({"blockhash": "aa", "bogus": 1})).unwrap_err();
        assert_eq!(
            (e.code, e.message.as_str()),
            (-8, "Unknown named parameter bogus")
        );
        let e = run(json!({"args": ["aa"], "blockhash": "bb"})).unwrap_err();
        assert_eq!(e.code, -8);
    }

    #[test]
    fn count_type_method_and_warmup_errors() {
        let r = echo_registry();
        let e = r.execute("getblock", &json!([])).unwrap_err();
        assert_eq!(e.code, -1);
        assert!(e.message.starts_with("getblock blockhash"), "{}", e.message);
        assert_eq!(
            r.execute("getblock", &json!([1, 2, 3, 4]))
                .unwrap_err()
                .code,
            -1
        );
        let e = r.execute("getblock", &json!([1])).unwrap_err();
        assert_eq!(e.code, -3);
        assert_eq!(
            e.message,
            "Wrong type passed:\n{\n    \"Position 1 (blockhash)\": \"JSON value of type number is not of expected type string\"\n}"
        );
        assert_eq!(
            r.execute("getblock", &json!(["a", null, null])).unwrap(),
            json!(["a", null, null])
        );
        assert_eq!(r.execute("nope", &json!([])).unwrap_err().code, -32601);
        r.set_warmup(Some("Loading block index…".into()));
        assert_eq!(r.execute("getblock", &json!(["a"])).unwrap_err().code, -28);
        r.set_warmup(None);
        assert!(r.execute("getblock", &json!(["a"])).is_ok());
    }
}
