//! Test fixtures: keyrings written as TOML from a spec, deterministic keys, trees, signatures.
#![allow(clippy::unwrap_used, missing_docs)]

use crate::approval::{ApprovalFile, Scope, Signed, Statement};
use crate::hash::Digest;
use crate::keyring::{keyring_digest, Keyring};
use crate::keys::SigningKey;
use crate::rotation::{
    rotation_message, rotation_toml, verify_chain, KeyringFile, RotationSig, TrustedKeyring,
};
use crate::time::Timestamp;
use crate::tree::Tree;

/// A deterministic key: secret bytes all `seed` (valid for 1..=200).
pub fn key(seed: u8) -> SigningKey {
    SigningKey::from_secret(&[seed; 32]).unwrap()
}

pub fn t(s: &str) -> Timestamp {
    Timestamp::parse(s).unwrap()
}

/// The verifier's clock in these tests.
pub fn now() -> Timestamp {
    t("2030-06-01T00:00:00Z")
}

#[derive(Clone, Debug)]
pub struct Member {
    pub id: String,
    pub seed: u8,
    pub role: String,
    pub valid_from: String,
    pub valid_until: String,
    pub revoked_at: Option<String>,
}

pub fn member(id: &str, seed: u8, role: &str) -> Member {
    Member {
        id: id.into(),
        seed,
        role: role.into(),
        valid_from: "2020-01-01T00:00:00Z".into(),
        valid_until: "2040-01-01T00:00:00Z".into(),
        revoked_at: None,
    }
}

#[derive(Clone, Debug)]
pub struct Spec {
    pub version: u64,
    pub previous: Option<Digest>,
    pub repository: String,
    pub expires: String,
    pub maintainers: Vec<Member>,
    pub keyholders: Vec<Member>,
    /// (name, rank, threshold, review period, roles)
    pub tiers: Vec<(String, u32, usize, String, Vec<String>)>,
    /// (pattern, tier)
    pub rules: Vec<(String, String)>,
    pub rotation: (usize, Vec<String>),
    pub emergency: (usize, String),
    /// Raw TOML appended at the top level (for unknown-field tests).
    pub extra: String,
}

fn roles(r: &[&str]) -> Vec<String> {
    r.iter().map(ToString::to_string).collect()
}

impl Spec {
    /// alice, bob, carol: consensus; dave, erin: maintainer; frank, grace: emergency.
    /// Tiers: docs 1-of-5 (0s) < code 2-of-5 (1d) < release 2-of-5 (0s) < governance 3-of-5
    /// (7d) < consensus 3-of-3 (14d).
    pub fn base() -> Self {
        let all = roles(&["consensus", "maintainer"]);
        Spec {
            version: 1,
            previous: None,
            repository: "sluice-test".into(),
            expires: "2040-01-01T00:00:00Z".into(),
            maintainers: vec![
                member("alice", 1, "consensus"),
                member("bob", 2, "consensus"),
                member("carol", 3, "consensus"),
                member("dave", 4, "maintainer"),
                member("erin", 5, "maintainer"),
            ],
            keyholders: vec![member("frank", 11, ""), member("grace", 12, "")],
            tiers: vec![
                ("docs".into(), 1, 1, "0s".into(), all.clone()),
                ("code".into(), 2, 2, "1d".into(), all.clone()),
                ("release".into(), 3, 2, "0s".into(), all.clone()),
                ("governance".into(), 4, 3, "7d".into(), all.clone()),
                (
                    "consensus".into(),
                    5,
                    3,
                    "14d".into(),
                    roles(&["consensus"]),
                ),
            ],
            rules: [
                ("consensus/**", "consensus"),
                ("governance/**", "governance"),
                ("docs/**", "docs"),
                ("**/*.md", "docs"),
                ("node/**", "code"),
            ]
            .iter()
            .map(|(p, t)| (p.to_string(), t.to_string()))
            .collect(),
            rotation: (2, all),
            emergency: (2, "3d".into()),
            extra: String::new(),
        }
    }

    pub fn toml(&self) -> String {
        let mut s = format!("version = {}\n", self.version);
        if let Some(p) = &self.previous {
            s += &format!("previous = \"{p}\"\n");
        }
        s += &format!(
            "repository = \"{}\"\nexpires = \"{}\"\n{}",
            self.repository, self.expires, self.extra
        );
        s += &format!(
            "\n[rotation]\nthreshold = {}\nroles = {:?}\n\n[emergency]\nthreshold = {}\nmax_window = \"{}\"\n",
            self.rotation.0, self.rotation.1, self.emergency.0, self.emergency.1
        );
        for k in &self.keyholders {
            s += &format!("\n[[emergency.keyholder]]\n{}", key_fields(k));
        }
        for m in &self.maintainers {
            s += &format!("\n[[maintainer]]\n{}role = \"{}\"\n", key_fields(m), m.role);
        }
        for (name, rank, m, review, r) in &self.tiers {
            s += &format!(
                "\n[[tier]]\nname = \"{name}\"\nrank = {rank}\nthreshold = {m}\nreview_period = \"{review}\"\nroles = {r:?}\n"
            );
        }
        for (p, tier) in &self.rules {
            s += &format!("\n[[path]]\npattern = \"{p}\"\ntier = \"{tier}\"\n");
        }
        s
    }

    pub fn bytes(&self) -> Vec<u8> {
        self.toml().into_bytes()
    }

    pub fn parse(&self) -> Result<Keyring, crate::Error> {
        Keyring::parse(&self.bytes())
    }

    /// The spec of the next version, following this one.
    pub fn next(&self) -> Spec {
        let mut n = self.clone();
        n.version += 1;
        n.previous = Some(keyring_digest(&self.bytes()));
        n
    }
}

fn key_fields(m: &Member) -> String {
    let mut s = format!(
        "id = \"{}\"\nkey = \"{}\"\nvalid_from = \"{}\"\nvalid_until = \"{}\"\n",
        m.id,
        hex::encode(key(m.seed).public().to_byte_array()),
        m.valid_from,
        m.valid_until
    );
    if let Some(r) = &m.revoked_at {
        s += &format!("revoked_at = \"{r}\"\n");
    }
    s
}

/// A keyring file for `next`, with rotation signatures by the keys of `seeds`.
pub fn rotated(prev: &Spec, next: &Spec, seeds: &[u8]) -> KeyringFile {
    let msg = rotation_message(
        &prev.repository,
        next.version,
        &keyring_digest(&prev.bytes()),
        &keyring_digest(&next.bytes()),
    );
    let sigs: Vec<RotationSig> = seeds
        .iter()
        .map(|s| RotationSig {
            key: key(*s).public(),
            signature: key(*s).sign(&msg),
        })
        .collect();
    KeyringFile {
        bytes: next.bytes(),
        rotation: Some(rotation_toml(&sigs).into_bytes()),
    }
}

pub fn root(spec: &Spec) -> KeyringFile {
    KeyringFile {
        bytes: spec.bytes(),
        rotation: None,
    }
}

/// Verifies a chain whose first file is pinned.
pub fn chain(files: &[KeyringFile]) -> Result<TrustedKeyring, crate::Error> {
    verify_chain(&keyring_digest(&files[0].bytes), files, now())
}

pub fn trusted(spec: &Spec) -> TrustedKeyring {
    chain(&[root(spec)]).unwrap()
}

pub fn tree(files: &[(&str, &str)]) -> Tree {
    Tree::from_files(files.iter().map(|(p, c)| {
        (
            p.as_bytes().to_vec(),
            "100644".to_string(),
            c.as_bytes().to_vec(),
        )
    }))
    .unwrap()
}

/// Times of a normal approval in these tests.
pub struct Times {
    pub proposed: Timestamp,
    pub signed: Timestamp,
    pub expires: Timestamp,
}

pub fn times() -> Times {
    Times {
        proposed: t("2030-05-01T00:00:00Z"),
        signed: t("2030-05-02T00:00:00Z"),
        expires: t("2031-01-01T00:00:00Z"),
    }
}

/// `id` (key `seed`) signs base → target at `tier` under `scope`.
pub fn sign_as(
    scope: &Scope<'_>,
    id: &str,
    seed: u8,
    base: &Tree,
    target: &Tree,
    tier: &str,
    tm: &Times,
) -> Signed {
    let msg = Statement {
        scope: *scope,
        base_tree: base.digest(),
        target_tree: target.digest(),
        tier,
        proposed_at: tm.proposed,
        signed_at: tm.signed,
        expires: tm.expires,
    }
    .message();
    Signed {
        signer: id.into(),
        signed_at: tm.signed,
        expires: tm.expires,
        signature: key(seed).sign(&msg),
    }
}

/// The channel these tests verify for.
pub const CH: &str = "main";
pub const ALICE: (&str, u8) = ("alice", 1);
pub const BOB: (&str, u8) = ("bob", 2);
pub const CAROL: (&str, u8) = ("carol", 3);
pub const DAVE: (&str, u8) = ("dave", 4);

/// `who` signs base → target at `tier` under the trusted keyring, for [`CH`].
pub fn sig(
    tk: &TrustedKeyring,
    who: (&str, u8),
    base: &Tree,
    target: &Tree,
    tier: &str,
    tm: &Times,
) -> Signed {
    sign_as(
        &Scope::of(tk.keyring(), CH),
        who.0,
        who.1,
        base,
        target,
        tier,
        tm,
    )
}

/// An approval file for base → target proposed at `tm.proposed`.
pub fn approval_file(base: &Tree, target: &Tree, tm: &Times, sigs: Vec<Signed>) -> ApprovalFile {
    ApprovalFile {
        base_tree: base.digest(),
        target_tree: target.digest(),
        proposed_at: tm.proposed,
        signatures: sigs,
    }
}
