//! [`Secret`]: a configuration value (an RPC password, an `rpcauth` HMAC, a cookie) that is
//! never printed. Its `Debug` and `Display` show a placeholder, so a config struct holding it
//! can be logged or shown in an error whole; the value is reached only through
//! [`Secret::expose`], which makes every use easy to find.

use serde::{Deserialize, Deserializer};

/// What `Debug` and `Display` print instead of the value.
pub const REDACTED: &str = "[redacted]";

/// A value that must not reach logs. It serializes as [`REDACTED`] too (printing the
/// effective configuration), so it cannot leak through JSON or TOML either.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Secret<T>(T);

impl<T> Secret<T> {
    /// Wraps a value.
    pub fn new(value: T) -> Self {
        Self(value)
    }

    /// The value, for the one place that needs it (checking a credential, writing a file).
    pub fn expose(&self) -> &T {
        &self.0
    }
}

impl<T> std::fmt::Debug for Secret<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(REDACTED)
    }
}

impl<T> std::fmt::Display for Secret<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(REDACTED)
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Secret<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        T::deserialize(d).map(Self)
    }
}

impl<T> serde::Serialize for Secret<T> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(REDACTED)
    }
}

impl<T> From<T> for Secret<T> {
    fn from(value: T) -> Self {
        Self(value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Shaped like the RPC settings that will carry secrets.
    #[derive(Debug, Deserialize)]
    #[allow(dead_code)] // read through Debug only
    struct Rpc {
        rpcuser: String,
        rpcpassword: Secret<String>,
        rpcauth: Vec<Secret<String>>,
        cookie: Option<Secret<String>>,
    }

    const PASSWORD: &str = "hunter2-very-secret";
    const HMAC: &str = "alice:f00d$c0ffee1234567890";

    fn parsed() -> Rpc {
        toml::from_str(&format!(
            "rpcuser = \"alice\"\nrpcpassword = \"{PASSWORD}\"\nrpcauth = [\"{HMAC}\"]\ncookie = \"__cookie__:abcdef0123\"\n"
        ))
        .unwrap()
    }

    #[test]
    fn debug_and_display_never_show_the_value() {
        let rpc = parsed();
        assert_eq!(
            rpc.rpcpassword.expose(),
            PASSWORD,
            "the value is still there"
        );
        assert_eq!(rpc.rpcauth[0].expose(), HMAC);
        for text in [
            format!("{rpc:?}"),
            format!("{rpc:#?}"),
            format!("{}", rpc.rpcpassword),
            format!("{:?}", rpc.cookie),
        ] {
            assert!(!text.contains("hunter2"), "{text}");
            assert!(!text.contains("c0ffee"), "{text}");
            assert!(!text.contains("abcdef0123"), "{text}");
            assert!(text.contains(REDACTED) || text.contains("alice"), "{text}");
        }
        assert!(
            format!("{rpc:?}").contains("alice"),
            "other fields still print"
        );
    }

    #[test]
    fn logs_in_both_formats_never_show_the_value() {
        use crate::logging::{subscriber_to, LogFormat};
        for format in [LogFormat::Human, LogFormat::Json] {
            let buf = crate::logging::tests::Capture::default();
            let sub = subscriber_to(format, "trace", buf.clone()).unwrap();
            tracing::subscriber::with_default(sub, || {
                let rpc = parsed();
                tracing::info!(?rpc, password = %rpc.rpcpassword, "config {rpc:?}");
                tracing::warn!(auth = ?rpc.rpcauth, "auth {}", rpc.rpcauth[0]);
            });
            let text = buf.text();
            assert!(
                text.contains("alice"),
                "{format:?}: the events were written: {text}"
            );
            assert!(!text.contains("hunter2"), "{format:?}: {text}");
            assert!(!text.contains("c0ffee"), "{format:?}: {text}");
            assert!(!text.contains("abcdef0123"), "{format:?}: {text}");
        }
    }
}
