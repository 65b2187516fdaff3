//! The emergency path: overrides shorten one target tree's review period, within bounds,
//! signed by enough keyholders, and never lower a threshold.
#![allow(clippy::unwrap_used)]

use crate::approval::{ApprovalFile, Scope};
use crate::emergency::{emergency_message, EmergencyFile};
use crate::error::Error;
use crate::hash::Digest;
use crate::rotation::TrustedKeyring;
use crate::testutil::{
    approval_file as file, key, now, sig, t, times, tree, trusted, Spec, Times, ALICE, BOB, CAROL,
    CH,
};
use crate::tree::Tree;
use crate::verify::verify_change;

const FRANK: (&str, u8) = ("frank", 11);
const GRACE: (&str, u8) = ("grace", 12);

/// A consensus change (review 14 days) proposed 2030-05-25, fully signed: pending at `now`.
fn pending_consensus() -> (TrustedKeyring, Tree, Tree, ApprovalFile) {
    let tk = trusted(&Spec::base());
    let b = tree(&[("consensus/src/lib.rs", "bug")]);
    let g = tree(&[("consensus/src/lib.rs", "fix")]);
    let tm = Times {
        proposed: t("2030-05-25T00:00:00Z"),
        signed: t("2030-05-26T00:00:00Z"),
        ..times()
    };
    let sigs = [ALICE, BOB, CAROL]
        .iter()
        .map(|w| sig(&tk, *w, &b, &g, "consensus", &tm))
        .collect();
    let f = file(&b, &g, &tm, sigs);
    (tk, b, g, f)
}

fn emergency(
    tk: &TrustedKeyring,
    target: Digest,
    period: u64,
    from: &str,
    until: &str,
    who: &[(&str, u8)],
) -> EmergencyFile {
    let mut e = EmergencyFile {
        target_tree: target,
        review_period: period,
        issued_at: t(from),
        expires: t(until),
        signatures: vec![],
    };
    let msg = emergency_message(&Scope::of(tk.keyring(), CH), &e);
    e.signatures = who
        .iter()
        .map(|(id, seed)| (id.to_string(), key(*seed).sign(&msg)))
        .collect();
    e
}

#[test]
fn emergency_shortens_review_for_its_tree() {
    let (tk, b, g, f) = pending_consensus();
    let r = verify_change(&tk, CH, &b, &g, std::slice::from_ref(&f), &[], now());
    assert!(matches!(r, Err(Error::ReviewPending { .. })), "{r:?}");
    let e = emergency(
        &tk,
        g.digest(),
        3600,
        "2030-05-30T00:00:00Z",
        "2030-06-02T00:00:00Z",
        &[FRANK, GRACE],
    );
    let ok = verify_change(
        &tk,
        CH,
        &b,
        &g,
        std::slice::from_ref(&f),
        std::slice::from_ref(&e),
        now(),
    )
    .unwrap();
    assert!(ok.emergency);
    assert_eq!(ok.review_until, t("2030-05-25T01:00:00Z"));
    assert_eq!(
        e.check(tk.keyring(), &Scope::of(tk.keyring(), CH), now())
            .unwrap(),
        3600
    );
}

#[test]
fn emergency_never_lowers_the_threshold() {
    let (tk, b, g, mut f) = pending_consensus();
    f.signatures.pop();
    let e = emergency(
        &tk,
        g.digest(),
        0,
        "2030-05-30T00:00:00Z",
        "2030-06-02T00:00:00Z",
        &[FRANK, GRACE],
    );
    let r = verify_change(&tk, CH, &b, &g, &[f], &[e], now());
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
}

#[test]
fn emergency_for_another_tree_does_not_apply() {
    let (tk, b, g, f) = pending_consensus();
    let other = tree(&[("consensus/src/lib.rs", "other")]).digest();
    let e = emergency(
        &tk,
        other,
        0,
        "2030-05-30T00:00:00Z",
        "2030-06-02T00:00:00Z",
        &[FRANK, GRACE],
    );
    // Named for another tree: not considered. Relabelled to this tree: its signatures fail.
    let relabelled = EmergencyFile {
        target_tree: g.digest(),
        ..e.clone()
    };
    for e in [e, relabelled.clone()] {
        let r = verify_change(&tk, CH, &b, &g, std::slice::from_ref(&f), &[e], now());
        assert!(matches!(r, Err(Error::ReviewPending { .. })), "{r:?}");
    }
    let scope = Scope::of(tk.keyring(), CH);
    assert!(matches!(
        relabelled.check(tk.keyring(), &scope, now()),
        Err(Error::EmergencyThresholdNotMet { have: 0, need: 2 })
    ));
}

#[test]
fn emergency_is_bounded_and_signed_by_keyholders() {
    let (tk, _, g, _) = pending_consensus();
    let scope = Scope::of(tk.keyring(), CH);
    let long = emergency(
        &tk,
        g.digest(),
        0,
        "2030-05-30T00:00:00Z",
        "2030-06-05T00:00:00Z",
        &[FRANK, GRACE],
    );
    assert!(matches!(
        long.check(tk.keyring(), &scope, now()),
        Err(Error::EmergencyWindowTooLong { .. })
    ));
    let over = emergency(
        &tk,
        g.digest(),
        0,
        "2030-05-20T00:00:00Z",
        "2030-05-22T00:00:00Z",
        &[FRANK, GRACE],
    );
    assert!(matches!(
        over.check(tk.keyring(), &scope, now()),
        Err(Error::Emergency(_))
    ));
    let one = emergency(
        &tk,
        g.digest(),
        0,
        "2030-05-30T00:00:00Z",
        "2030-06-02T00:00:00Z",
        &[FRANK, FRANK],
    );
    assert!(matches!(
        one.check(tk.keyring(), &scope, now()),
        Err(Error::EmergencyThresholdNotMet { have: 1, .. })
    ));
    // Maintainers are not emergency keyholders.
    let maint = emergency(
        &tk,
        g.digest(),
        0,
        "2030-05-30T00:00:00Z",
        "2030-06-02T00:00:00Z",
        &[ALICE, BOB],
    );
    assert!(matches!(
        maint.check(tk.keyring(), &scope, now()),
        Err(Error::EmergencyThresholdNotMet { have: 0, .. })
    ));
    let parsed = EmergencyFile::parse(maint.to_toml().as_bytes()).unwrap();
    assert_eq!(parsed, maint);
    // A file cannot carry a threshold (or anything else) for the verifier to trust.
    let extra = maint
        .to_toml()
        .replacen("review_period", "threshold = 1\nreview_period", 1);
    assert!(matches!(
        EmergencyFile::parse(extra.as_bytes()),
        Err(Error::Parse { .. })
    ));
}
