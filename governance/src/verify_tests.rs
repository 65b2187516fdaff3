//! Approvals of a change: the approval cases of the forgery matrix. Every forgery test first
//! shows the honest version passing, so it fails if the check it targets is missing.
#![allow(clippy::unwrap_used)]

use super::*;
use crate::approval::{Signed, Statement};
use crate::error::Ignored;
use crate::hash::{sha256, tagged_hash, Digest, TAG_RELEASE};
use crate::keys::SigningKey;
use crate::testutil::{
    approval_file as file, key, now, sig, sign_as, t, times, tree, trusted, Spec, Times, ALICE,
    BOB, CAROL, CH, DAVE,
};

/// base → target edits `node/src/main.rs`: the `code` tier, 2 of 5, review 1 day.
fn node_change() -> (Tree, Tree) {
    (
        tree(&[("node/src/main.rs", "fn main() {}"), ("docs/a.md", "a")]),
        tree(&[
            ("node/src/main.rs", "fn main() { run() }"),
            ("docs/a.md", "a"),
        ]),
    )
}

fn run(
    tk: &TrustedKeyring,
    base: &Tree,
    target: &Tree,
    sigs: Vec<Signed>,
) -> Result<Approved, Error> {
    verify_change(
        tk,
        CH,
        base,
        target,
        &[file(base, target, &times(), sigs)],
        &[],
        now(),
    )
}

/// alice signs the `code` tier with `tm`, dave with the normal times: one of two odd.
fn alice_at(tk: &TrustedKeyring, b: &Tree, g: &Tree, tm: &Times) -> Result<Approved, Error> {
    let sigs = vec![
        sig(tk, ALICE, b, g, "code", tm),
        sig(tk, DAVE, b, g, "code", &times()),
    ];
    run(tk, b, g, sigs)
}

/// The reasons a NotApproved error gives, or a panic.
fn refused(r: Result<Approved, Error>, tier: &str, have: usize) -> Vec<Ignored> {
    match r {
        Err(Error::NotApproved {
            tier: got,
            have: h,
            ignored,
            ..
        }) if got == tier && h == have => ignored.into_iter().map(|(_, why)| why).collect(),
        other => panic!("expected NotApproved({tier}, have {have}), got {other:?}"),
    }
}

#[test]
fn honest_approval_passes() {
    let tk = trusted(&Spec::base());
    let (b, g) = node_change();
    let ok = run(
        &tk,
        &b,
        &g,
        vec![
            sig(&tk, ALICE, &b, &g, "code", &times()),
            sig(&tk, DAVE, &b, &g, "code", &times()),
        ],
    );
    let ok = ok.unwrap();
    assert_eq!(ok.tier, "code");
    assert_eq!(ok.signers, ["alice", "dave"]);
    assert_eq!(ok.changed, ["node/src/main.rs"]);
}

/// Forgery matrix: the same signature twice.
#[test]
fn forgery_same_signature_twice() {
    let tk = trusted(&Spec::base());
    let (b, g) = node_change();
    let a = sig(&tk, ALICE, &b, &g, "code", &times());
    let why = refused(run(&tk, &b, &g, vec![a.clone(), a]), "code", 1);
    assert_eq!(
        why,
        [Ignored::DuplicateKey {
            counted_as: "alice".into()
        }]
    );
}

/// Forgery matrix: two (different, both valid) signatures from one key.
#[test]
fn forgery_two_signatures_from_one_key() {
    let tk = trusted(&Spec::base());
    let (b, g) = node_change();
    let first = sig(&tk, ALICE, &b, &g, "code", &times());
    let later = Times {
        signed: t("2030-05-03T00:00:00Z"),
        ..times()
    };
    let second = sig(&tk, ALICE, &b, &g, "code", &later);
    assert_ne!(first.signature, second.signature);
    let why = refused(run(&tk, &b, &g, vec![first, second]), "code", 1);
    assert_eq!(
        why,
        [Ignored::DuplicateKey {
            counted_as: "alice".into()
        }]
    );
}

/// Forgery matrix: a signature under another domain tag, or over the untagged hash.
#[test]
fn forgery_other_domain_tag_or_untagged() {
    let tk = trusted(&Spec::base());
    let (b, g) = node_change();
    let tm = times();
    let scope = Scope::of(tk.keyring(), CH);
    let pre = Statement {
        scope,
        base_tree: b.digest(),
        target_tree: g.digest(),
        tier: "code",
        proposed_at: tm.proposed,
        signed_at: tm.signed,
        expires: tm.expires,
    }
    .preimage();
    let signed_over = |msg: Digest, who: (&str, u8)| Signed {
        signer: who.0.into(),
        signed_at: tm.signed,
        expires: tm.expires,
        signature: key(who.1).sign(&msg),
    };
    let other_tag = signed_over(tagged_hash(TAG_RELEASE, pre.as_bytes()), ALICE);
    let untagged = signed_over(Digest(sha256(pre.as_bytes())), DAVE);
    let why = refused(run(&tk, &b, &g, vec![other_tag, untagged]), "code", 0);
    assert_eq!(why, [Ignored::BadSignature, Ignored::BadSignature]);
    // The same preimage under the right tag passes.
    let right = vec![
        signed_over(pre.finish(crate::hash::TAG_APPROVAL), ALICE),
        signed_over(pre.finish(crate::hash::TAG_APPROVAL), DAVE),
    ];
    assert!(run(&tk, &b, &g, right).is_ok());
}

/// Forgery matrix: an approval moved to another target tree, or another base tree.
#[test]
fn forgery_moved_to_other_tree() {
    let tk = trusted(&Spec::base());
    let (b, g) = node_change();
    let sigs = vec![
        sig(&tk, ALICE, &b, &g, "code", &times()),
        sig(&tk, DAVE, &b, &g, "code", &times()),
    ];
    assert!(run(&tk, &b, &g, sigs.clone()).is_ok());
    let other_target = tree(&[
        ("node/src/main.rs", "fn main() { evil() }"),
        ("docs/a.md", "a"),
    ]);
    let why = refused(run(&tk, &b, &other_target, sigs.clone()), "code", 0);
    assert_eq!(why, [Ignored::BadSignature, Ignored::BadSignature]);
    let other_base = tree(&[
        ("node/src/main.rs", "fn main() { old() }"),
        ("docs/a.md", "a"),
    ]);
    let why = refused(run(&tk, &other_base, &g, sigs.clone()), "code", 0);
    assert_eq!(why, [Ignored::BadSignature, Ignored::BadSignature]);
    // A file still naming the old trees is not picked for the new change at all.
    let moved = file(&b, &g, &times(), sigs);
    let r = verify_change(&tk, CH, &b, &other_target, &[moved], &[], now());
    assert!(
        matches!(r, Err(Error::NotApproved { have: 0, .. })),
        "{r:?}"
    );
}

/// Forgery matrix: an approval moved to another repository, network or keyring version.
#[test]
fn forgery_moved_to_other_scope() {
    let tk = trusted(&Spec::base());
    let (b, g) = node_change();
    let real = Scope::of(tk.keyring(), CH);
    let moved = [
        Scope {
            repository: "another-repo",
            ..real
        },
        Scope {
            channel: "testnet",
            ..real
        },
        Scope {
            keyring_version: 2,
            ..real
        },
        Scope {
            keyring_digest: Digest([7; 32]),
            ..real
        },
    ];
    for scope in moved {
        let sigs = vec![
            sign_as(&scope, "alice", 1, &b, &g, "code", &times()),
            sign_as(&scope, "dave", 4, &b, &g, "code", &times()),
        ];
        let why = refused(run(&tk, &b, &g, sigs), "code", 0);
        assert_eq!(
            why,
            [Ignored::BadSignature, Ignored::BadSignature],
            "{scope:?}"
        );
    }
    let sigs = vec![
        sign_as(&real, "alice", 1, &b, &g, "code", &times()),
        sign_as(&real, "dave", 4, &b, &g, "code", &times()),
    ];
    assert!(run(&tk, &b, &g, sigs).is_ok());
}

/// Forgery matrix: an expired approval.
#[test]
fn forgery_expired_approval() {
    let tk = trusted(&Spec::base());
    let (b, g) = node_change();
    let stale = Times {
        expires: t("2030-05-31T00:00:00Z"),
        ..times()
    };
    let why = refused(alice_at(&tk, &b, &g, &stale), "code", 1);
    assert_eq!(why, [Ignored::Expired]);
}

/// Forgery matrix: signed-at before proposed-at.
#[test]
fn forgery_signed_before_proposed() {
    let tk = trusted(&Spec::base());
    let (b, g) = node_change();
    let early = Times {
        signed: t("2030-04-30T00:00:00Z"),
        ..times()
    };
    let why = refused(alice_at(&tk, &b, &g, &early), "code", 1);
    assert_eq!(why, [Ignored::SignedBeforeProposed]);
}

/// Forgery matrix: a key used after its revocation (and, since signed-at is the signer's own
/// claim, a backdated signature by a revoked key too).
#[test]
fn forgery_key_used_after_revocation() {
    let mut spec = Spec::base();
    spec.maintainers[0].revoked_at = Some("2030-04-01T00:00:00Z".into());
    // Keeps three unrevoked consensus keys, as a keyring must for a 3-of-n tier.
    spec.maintainers
        .push(crate::testutil::member("fay", 6, "consensus"));
    let tk = trusted(&spec);
    let (b, g) = node_change();
    let backdated = Times {
        proposed: t("2030-03-01T00:00:00Z"),
        signed: t("2030-03-02T00:00:00Z"),
        ..times()
    };
    for tm in [times(), backdated] {
        let sigs = vec![
            sig(&tk, ALICE, &b, &g, "code", &tm),
            sig(&tk, DAVE, &b, &g, "code", &tm),
        ];
        let r = verify_change(&tk, CH, &b, &g, &[file(&b, &g, &tm, sigs)], &[], now());
        let why = refused(r, "code", 1);
        assert_eq!(why, [Ignored::Revoked]);
    }
    // Verified before the revocation takes effect, the same signatures count.
    let tm = Times {
        proposed: t("2030-03-01T00:00:00Z"),
        signed: t("2030-03-02T00:00:00Z"),
        ..times()
    };
    let sigs = vec![
        sig(&tk, ALICE, &b, &g, "code", &tm),
        sig(&tk, DAVE, &b, &g, "code", &tm),
    ];
    let before = verify_change(
        &tk,
        CH,
        &b,
        &g,
        &[file(&b, &g, &tm, sigs)],
        &[],
        t("2030-03-15T00:00:00Z"),
    );
    assert!(before.is_ok(), "{before:?}");
}

/// Expired and not-yet-valid keys are ignored.
#[test]
fn key_validity_window() {
    let mut spec = Spec::base();
    spec.maintainers[0].valid_until = "2030-05-01T12:00:00Z".into();
    spec.maintainers[3].valid_from = "2030-05-10T00:00:00Z".into();
    let tk = trusted(&spec);
    let (b, g) = node_change();
    let why = refused(
        run(
            &tk,
            &b,
            &g,
            vec![
                sig(&tk, ALICE, &b, &g, "code", &times()),
                sig(&tk, DAVE, &b, &g, "code", &times()),
            ],
        ),
        "code",
        0,
    );
    assert_eq!(why, [Ignored::KeyExpired, Ignored::KeyNotYetValid]);
}

/// Forgery matrix: m − 1 signatures.
#[test]
fn forgery_m_minus_one_signatures() {
    let tk = trusted(&Spec::base());
    let (b, g) = node_change();
    let r = run(&tk, &b, &g, vec![sig(&tk, ALICE, &b, &g, "code", &times())]);
    assert!(
        matches!(
            r,
            Err(Error::NotApproved {
                have: 1,
                need: 2,
                ..
            })
        ),
        "{r:?}"
    );
    let c = tree(&[("consensus/src/lib.rs", "a")]);
    let d = tree(&[("consensus/src/lib.rs", "b")]);
    let two = vec![
        sig(&tk, ALICE, &c, &d, "consensus", &times()),
        sig(&tk, BOB, &c, &d, "consensus", &times()),
    ];
    let r = run(&tk, &c, &d, two.clone());
    assert!(
        matches!(
            r,
            Err(Error::NotApproved {
                have: 2,
                need: 3,
                ..
            })
        ),
        "{r:?}"
    );
    let mut three = two;
    three.push(sig(&tk, CAROL, &c, &d, "consensus", &times()));
    let late = verify_change(
        &tk,
        CH,
        &c,
        &d,
        &[file(&c, &d, &times(), three)],
        &[],
        now(),
    );
    assert!(late.is_ok(), "{late:?}");
}

/// Forgery matrix: m = 0 reaching the counting code (a keyring cannot hold it; see
/// keyring_tests for that half) still refuses.
#[test]
fn forgery_threshold_zero_at_count_time() {
    let zero = crate::keyring::Tier {
        name: "x".into(),
        rank: 1,
        threshold: 0,
        review_period: 0,
        roles: vec![],
    };
    let r = crate::approval::Tally::default().require(&zero);
    assert!(matches!(r, Err(Error::ThresholdZero { .. })));
}

/// Forgery matrix: a consensus change approved at a lower tier. The signers sign the tier
/// they claim; the verifier derives the consensus tier from the paths, so the statement
/// differs. A `.md` file under `consensus/` is still the consensus tier.
#[test]
fn forgery_consensus_change_at_lower_tier() {
    let tk = trusted(&Spec::base());
    for path in ["consensus/src/lib.rs", "consensus/README.md"] {
        let b = tree(&[(path, "a"), ("node/x", "1")]);
        let g = tree(&[(path, "b"), ("node/x", "1")]);
        let low: Vec<Signed> = [ALICE, BOB, CAROL]
            .iter()
            .map(|w| sig(&tk, *w, &b, &g, "code", &times()))
            .collect();
        let why = refused(run(&tk, &b, &g, low), "consensus", 0);
        assert_eq!(
            why,
            vec![
                Ignored::WrongTier {
                    signed: "code".into()
                };
                3
            ]
        );
        // Maintainers outside the consensus role do not count for it even when signing right.
        let why = refused(
            run(
                &tk,
                &b,
                &g,
                vec![sig(&tk, DAVE, &b, &g, "consensus", &times())],
            ),
            "consensus",
            0,
        );
        assert_eq!(
            why,
            [Ignored::NotEligible {
                role: "maintainer".into()
            }]
        );
    }
}

/// Even a keyring whose own rules map `consensus/**` to `docs` cannot make a consensus change
/// a docs change: the consensus crate's sources are always the consensus tier.
#[test]
fn consensus_sources_are_consensus_tier_whatever_the_rules() {
    let mut spec = Spec::base();
    spec.rules = vec![
        ("consensus/**".into(), "docs".into()),
        ("**".into(), "docs".into()),
    ];
    let tk = trusted(&spec);
    let b = tree(&[("consensus/src/lib.rs", "a"), ("node/x", "1")]);
    let g = tree(&[("consensus/src/lib.rs", "b"), ("node/x", "1")]);
    let docs = vec![sig(&tk, ALICE, &b, &g, "docs", &times())];
    let why = refused(run(&tk, &b, &g, docs), "consensus", 0);
    assert_eq!(
        why,
        [Ignored::WrongTier {
            signed: "docs".into()
        }]
    );
    // The same keyring does make a node change a docs change.
    let (nb, ng) = node_change();
    let r = run(
        &tk,
        &nb,
        &ng,
        vec![sig(&tk, ALICE, &nb, &ng, "docs", &times())],
    );
    assert_eq!(r.unwrap().tier, "docs");
}

/// Forgery matrix: a policy loosened inside the same change. Keyring 2 (properly rotated)
/// maps everything to `docs`; the change that adds it is still judged by the base tree's
/// keyring 1, so it needs the governance tier; once landed, keyring 2's policy governs.
#[test]
fn forgery_policy_loosened_in_same_change() {
    let v1 = Spec::base();
    let mut v2 = v1.next();
    v2.rules = vec![("**".into(), "docs".into())];
    let files = [
        crate::testutil::root(&v1),
        crate::testutil::rotated(&v1, &v2, &[1, 2]),
    ];
    let tk = crate::testutil::chain(&files).unwrap();
    let (k1, k2) = (v1.toml(), v2.toml());
    let base = tree(&[("governance/keyrings/keyring-1.toml", &k1), ("node/x", "1")]);
    let target = tree(&[
        ("governance/keyrings/keyring-1.toml", &k1),
        ("governance/keyrings/keyring-2.toml", &k2),
        ("node/x", "2"),
    ]);
    let one_docs = vec![sig(&tk, ALICE, &base, &target, "docs", &times())];
    let why = refused(run(&tk, &base, &target, one_docs), "governance", 0);
    assert_eq!(
        why,
        [Ignored::WrongTier {
            signed: "docs".into()
        }]
    );
    // The next change, based on a tree that already holds keyring 2, gets the looser policy.
    let next = tree(&[
        ("governance/keyrings/keyring-1.toml", &k1),
        ("governance/keyrings/keyring-2.toml", &k2),
        ("node/x", "3"),
    ]);
    let r = run(
        &tk,
        &target,
        &next,
        vec![sig(&tk, ALICE, &target, &next, "docs", &times())],
    );
    assert_eq!(r.unwrap().tier, "docs");
}

/// A base tree whose keyring is not the trusted one fails closed.
#[test]
fn untrusted_base_policy_fails_closed() {
    let tk = trusted(&Spec::base());
    let mut forged = Spec::base();
    forged.rules = vec![("**".into(), "docs".into())];
    let base = tree(&[
        ("governance/keyrings/keyring-1.toml", &forged.toml()),
        ("node/x", "1"),
    ]);
    let target = tree(&[
        ("governance/keyrings/keyring-1.toml", &forged.toml()),
        ("node/x", "2"),
    ]);
    let r = run(&tk, &base, &target, vec![]);
    assert!(
        matches!(r, Err(Error::BasePolicyUntrusted { version: 1 })),
        "{r:?}"
    );
}

#[test]
fn unmapped_path_needs_strictest_tier() {
    let tk = trusted(&Spec::base());
    let b = tree(&[("Cargo.lock", "a")]);
    let g = tree(&[("Cargo.lock", "b")]);
    let r = run(&tk, &b, &g, vec![sig(&tk, ALICE, &b, &g, "code", &times())]);
    assert!(matches!(r, Err(Error::NotApproved { tier, .. }) if tier == "consensus"));
}

#[test]
fn empty_change_is_refused() {
    let tk = trusted(&Spec::base());
    let (b, _) = node_change();
    assert!(matches!(run(&tk, &b, &b, vec![]), Err(Error::EmptyChange)));
}

#[test]
fn unknown_future_and_ineligible_signers() {
    let tk = trusted(&Spec::base());
    let (b, g) = node_change();
    let stranger = Signed {
        signer: "mallory".into(),
        ..sig(&tk, ALICE, &b, &g, "code", &times())
    };
    let future = Times {
        signed: t("2030-07-01T00:00:00Z"),
        ..times()
    };
    let why = refused(
        run(
            &tk,
            &b,
            &g,
            vec![stranger, sig(&tk, DAVE, &b, &g, "code", &future)],
        ),
        "code",
        0,
    );
    assert_eq!(why, [Ignored::UnknownSigner, Ignored::SignedInFuture]);
    let not_alice = Signed {
        signer: "alice".into(),
        ..sig(&tk, BOB, &b, &g, "code", &times())
    };
    let why = refused(run(&tk, &b, &g, vec![not_alice]), "code", 0);
    assert_eq!(why, [Ignored::BadSignature]);
}

#[test]
fn review_period_runs_from_proposed_at() {
    let tk = trusted(&Spec::base());
    let (b, g) = node_change();
    let tm = Times {
        signed: t("2030-05-01T01:00:00Z"),
        ..times()
    };
    let sigs = vec![
        sig(&tk, ALICE, &b, &g, "code", &tm),
        sig(&tk, DAVE, &b, &g, "code", &tm),
    ];
    let f = [file(&b, &g, &tm, sigs)];
    let r = verify_change(&tk, CH, &b, &g, &f, &[], t("2030-05-01T12:00:00Z"));
    assert!(
        matches!(r, Err(Error::ReviewPending { until, .. }) if until == t("2030-05-02T00:00:00Z")),
        "{r:?}"
    );
    let r = verify_change(&tk, CH, &b, &g, &f, &[], t("2030-05-02T00:00:00Z"));
    assert_eq!(r.unwrap().review_until, t("2030-05-02T00:00:00Z"));
}

#[test]
fn signing_key_debug_hides_the_secret() {
    let k = SigningKey::from_secret(&[9; 32]).unwrap();
    assert!(!format!("{k:?}").contains(&hex::encode([9u8; 32])));
}
