//! Path patterns and the tier of a change.
//!
//! A pattern is a `/`-separated path where `**` (a whole segment) matches any number of
//! segments and `*` inside a segment matches any characters but `/`. Nothing else is special.

use crate::error::Error;
use crate::keyring::{Keyring, Tier, CONSENSUS_TIER};

/// The consensus crate's sources: always the consensus tier, whatever a policy says.
pub const CONSENSUS_PREFIX: &str = "consensus/";

/// A checked path pattern.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pattern {
    text: String,
}

impl Pattern {
    /// Checks the pattern's shape.
    pub fn parse(text: &str) -> Result<Self, Error> {
        let bad = |reason| Error::BadPattern {
            pattern: text.to_string(),
            reason,
        };
        if text.is_empty() || text.starts_with('/') || text.ends_with('/') {
            return Err(bad("empty, absolute or ending in /"));
        }
        for seg in text.split('/') {
            if seg.is_empty() || seg == "." || seg == ".." {
                return Err(bad("empty, . or .. segment"));
            }
            if seg.contains("**") && seg != "**" {
                return Err(bad("** must be a whole segment"));
            }
        }
        Ok(Pattern {
            text: text.to_string(),
        })
    }

    /// The pattern as written.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// Does `path` (a repository-relative file path) match?
    pub fn matches(&self, path: &str) -> bool {
        let pat: Vec<&str> = self.text.split('/').collect();
        let segs: Vec<&str> = path.split('/').collect();
        match_segments(&pat, &segs)
    }
}

fn match_segments(pat: &[&str], segs: &[&str]) -> bool {
    match pat.split_first() {
        None => segs.is_empty(),
        Some((&"**", rest)) => (0..=segs.len()).any(|skip| match_segments(rest, &segs[skip..])),
        Some((p, rest)) => match segs.split_first() {
            Some((s, srest)) => {
                match_segment(p.as_bytes(), s.as_bytes()) && match_segments(rest, srest)
            }
            None => false,
        },
    }
}

fn match_segment(p: &[u8], s: &[u8]) -> bool {
    match p.split_first() {
        None => s.is_empty(),
        Some((b'*', rest)) => (0..=s.len()).any(|skip| match_segment(rest, &s[skip..])),
        Some((c, rest)) => s.first() == Some(c) && match_segment(rest, &s[1..]),
    }
}

/// The tier name one policy gives `path`: the strictest (by `rank_of`) among matching rules,
/// the strictest tier of all when no rule matches.
fn policy_tier<'a>(policy: &'a Keyring, path: &str) -> Option<&'a str> {
    let mut best: Option<&Tier> = None;
    for rule in &policy.rules {
        if rule.pattern.matches(path) {
            let t = policy.tier(&rule.tier)?;
            if best.is_none_or(|b| t.rank > b.rank) {
                best = Some(t);
            }
        }
    }
    best.or_else(|| policy.strictest()).map(|t| t.name.as_str())
}

/// The tier a change needs: the strictest over its paths. Each path gets the stricter of the
/// current keyring's policy and (when the base tree has one) the base tree's policy, never
/// the target's: a change cannot loosen the rules it is judged by. Paths under `consensus/`
/// are at least the consensus tier. Tier names are resolved in `current`; a base policy
/// naming a tier `current` lacks fails closed.
pub fn tier_of_change<'k>(
    current: &'k Keyring,
    base_policy: Option<&Keyring>,
    paths: &[String],
) -> Result<&'k Tier, Error> {
    if paths.is_empty() {
        return Err(Error::EmptyChange);
    }
    let resolve = |name: &str| {
        current.tier(name).ok_or_else(|| Error::UnknownTier {
            name: name.to_string(),
        })
    };
    let mut need: Option<&Tier> = None;
    for path in paths {
        let mut candidates = Vec::with_capacity(3);
        candidates.push(resolve(policy_tier(current, path).unwrap_or_default())?);
        if let Some(base) = base_policy {
            let name = policy_tier(base, path)
                .ok_or_else(|| Error::Keyring("base policy has no tiers".into()))?;
            candidates.push(resolve(name)?);
        }
        if path.starts_with(CONSENSUS_PREFIX) {
            candidates.push(resolve(CONSENSUS_TIER)?);
        }
        for t in candidates {
            if need.is_none_or(|n| t.rank > n.rank) {
                need = Some(t);
            }
        }
    }
    need.ok_or(Error::EmptyChange)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn m(p: &str, path: &str) -> bool {
        Pattern::parse(p).unwrap().matches(path)
    }

    #[test]
    fn globbing() {
        assert!(m("consensus/**", "consensus/src/lib.rs"));
        assert!(m("consensus/**", "consensus/x"));
        assert!(!m("consensus/**", "consensusx/src/lib.rs"));
        assert!(!m("consensus/**", "node/consensus/x"));
        assert!(m("**/*.md", "README.md"));
        assert!(m("**/*.md", "docs/a/b.md"));
        assert!(!m("**/*.md", "docs/a/b.mdx"));
        assert!(m("docs/*", "docs/a.md"));
        assert!(!m("docs/*", "docs/a/b.md"));
        assert!(m("Cargo.lock", "Cargo.lock"));
        assert!(!m("Cargo.lock", "x/Cargo.lock"));
        assert!(m("**", "anything/at/all"));
    }

    #[test]
    fn bad_patterns() {
        for p in ["", "/abs", "a//b", "a/../b", "a/**b", "dir/"] {
            assert!(
                matches!(Pattern::parse(p), Err(Error::BadPattern { .. })),
                "{p}"
            );
        }
    }
}
