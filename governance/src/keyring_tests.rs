//! Keyring parsing: the malformed-file and meaningless-threshold cases of the forgery matrix.
#![allow(clippy::unwrap_used)]

use super::*;
use crate::testutil::{member, Spec};

#[test]
fn base_spec_parses() {
    let kr = Spec::base().parse().unwrap();
    assert_eq!(kr.version, 1);
    assert_eq!(kr.tier("consensus").unwrap().threshold, 3);
    assert_eq!(kr.strictest().unwrap().name, "consensus");
    assert_eq!(kr.emergency.max_window, 3 * 86_400);
}

/// Forgery matrix: m = 0.
#[test]
fn forgery_threshold_zero() {
    let mut s = Spec::base();
    s.tiers[1].2 = 0;
    assert!(matches!(s.parse(), Err(Error::ThresholdZero { tier }) if tier == "code"));
    let mut s = Spec::base();
    s.rotation.0 = 0;
    assert!(matches!(s.parse(), Err(Error::ThresholdZero { tier }) if tier == "rotation"));
    let mut s = Spec::base();
    s.emergency.0 = 0;
    assert!(matches!(s.parse(), Err(Error::ThresholdZero { tier }) if tier == "emergency"));
}

/// Forgery matrix: m > n (n counts only the keys whose role the tier accepts).
#[test]
fn forgery_threshold_above_keys() {
    let mut s = Spec::base();
    s.tiers[4].2 = 4; // consensus: 4 of the 3 consensus-role keys
    assert!(matches!(
        s.parse(),
        Err(Error::ThresholdAboveKeys { m: 4, n: 3, .. })
    ));
    let mut s = Spec::base();
    s.emergency.0 = 3;
    assert!(matches!(
        s.parse(),
        Err(Error::ThresholdAboveKeys { m: 3, n: 2, .. })
    ));
}

/// Forgery matrix: one key under two ids.
#[test]
fn forgery_one_key_under_two_ids() {
    let mut s = Spec::base();
    s.maintainers.push(member("alice-again", 1, "maintainer"));
    assert!(
        matches!(s.parse(), Err(Error::DuplicateKey { first, second }) if first == "alice" && second == "alice-again")
    );
    // Across maintainers and emergency keyholders too.
    let mut s = Spec::base();
    s.keyholders[0].seed = 2;
    assert!(matches!(s.parse(), Err(Error::DuplicateKey { .. })));
    // And one id for two keys.
    let mut s = Spec::base();
    s.maintainers.push(member("alice", 9, "maintainer"));
    assert!(matches!(s.parse(), Err(Error::DuplicateId { id }) if id == "alice"));
}

/// Forgery matrix: malformed files — unknown fields.
#[test]
fn forgery_unknown_field() {
    let mut s = Spec::base();
    s.extra = "threshold_override = 1\n".into();
    let e = s.parse().unwrap_err();
    assert!(
        matches!(&e, Error::Parse { message, .. } if message.contains("unknown field")),
        "{e}"
    );
    let text = Spec::base().toml().replacen(
        "role = \"consensus\"",
        "role = \"consensus\"\nweight = 2",
        1,
    );
    assert!(
        matches!(Keyring::parse(text.as_bytes()), Err(Error::Parse { message, .. }) if message.contains("unknown field"))
    );
}

/// Forgery matrix: malformed files — duplicate fields.
#[test]
fn forgery_duplicate_field() {
    let text = Spec::base()
        .toml()
        .replacen("version = 1\n", "version = 1\nversion = 2\n", 1);
    let e = Keyring::parse(text.as_bytes()).unwrap_err();
    assert!(
        matches!(&e, Error::Parse { message, .. } if message.contains("duplicate")),
        "{e}"
    );
}

/// Forgery matrix: malformed files — bad lengths and invalid points.
#[test]
fn forgery_bad_key_length_and_invalid_point() {
    let good = hex::encode(crate::testutil::key(1).public().to_byte_array());
    let short = Spec::base().toml().replacen(&good, &good[..62], 1);
    assert!(matches!(
        Keyring::parse(short.as_bytes()),
        Err(Error::BadLength {
            expected: 32,
            found: 31,
            ..
        })
    ));
    let off_curve = Spec::base().toml().replacen(&good, &"ff".repeat(32), 1);
    assert!(matches!(
        Keyring::parse(off_curve.as_bytes()),
        Err(Error::InvalidPoint { .. })
    ));
    let prev = Spec::base()
        .next()
        .toml()
        .replacen("previous = \"", "previous = \"00", 1);
    assert!(
        matches!(Keyring::parse(prev.as_bytes()), Err(Error::BadLength { field, .. }) if field == "previous")
    );
}

#[test]
fn other_malformed_keyrings() {
    let mut s = Spec::base();
    s.tiers.retain(|t| t.0 != "consensus");
    s.rules.retain(|r| r.1 != "consensus");
    assert!(matches!(s.parse(), Err(Error::UnknownTier { name }) if name == "consensus"));
    let mut s = Spec::base();
    s.rules.push(("x/**".into(), "nonexistent".into()));
    assert!(matches!(s.parse(), Err(Error::UnknownTier { .. })));
    let mut s = Spec::base();
    s.tiers[0].1 = 2; // two tiers of rank 2
    assert!(matches!(s.parse(), Err(Error::Keyring(_))));
    let mut s = Spec::base();
    s.maintainers[0].valid_until = s.maintainers[0].valid_from.clone();
    assert!(matches!(s.parse(), Err(Error::Keyring(_))));
    let mut s = Spec::base();
    s.version = 2; // version 2 without previous
    assert!(matches!(s.parse(), Err(Error::Keyring(_))));
    let mut s = Spec::base();
    s.expires = "2040-01-01".into();
    assert!(matches!(s.parse(), Err(Error::BadTime { .. })));
    assert!(matches!(
        Keyring::parse(&[0xff, 0xfe]),
        Err(Error::Parse { .. })
    ));
}
