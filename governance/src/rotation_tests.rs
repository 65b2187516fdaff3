//! The keyring chain: rotation, freeze and rollback cases of the forgery matrix.
#![allow(clippy::unwrap_used)]

use super::*;
use crate::testutil::{chain, member, now, root, rotated, Spec};

fn v1() -> Spec {
    Spec::base()
}

/// v2 drops carol (seed 3) and adds fay (seed 6).
fn v2() -> Spec {
    let mut s = v1().next();
    s.maintainers.retain(|m| m.id != "carol");
    s.maintainers.push(member("fay", 6, "consensus"));
    s
}

#[test]
fn valid_rotation_is_trusted() {
    let t = chain(&[root(&v1()), rotated(&v1(), &v2(), &[1, 2])]).unwrap();
    assert_eq!(t.keyring().version, 2);
    assert_eq!(t.digest_of(1), Some(keyring_digest(&v1().bytes())));
    assert_eq!(t.digest_of(2), Some(keyring_digest(&v2().bytes())));
    assert_eq!(t.digest_of(3), None);
}

#[test]
fn root_must_be_pinned() {
    let other = root(&v2());
    let pinned = keyring_digest(&v1().bytes());
    assert!(matches!(
        verify_chain(&pinned, &[other], now()),
        Err(Error::PinnedDigestMismatch { .. })
    ));
    assert!(matches!(
        verify_chain(&pinned, &[], now()),
        Err(Error::NoKeyrings)
    ));
}

/// Forgery matrix: a rotation signed by a removed key. carol is gone from v2, so her signature
/// counts for v1's threshold but not for v2's.
#[test]
fn forgery_rotation_signed_by_removed_key() {
    let r = chain(&[root(&v1()), rotated(&v1(), &v2(), &[1, 3])]);
    assert!(
        matches!(
            r,
            Err(Error::RotationThresholdNotMet {
                version: 2,
                which: "new",
                have: 1,
                need: 2
            })
        ),
        "{r:?}"
    );
    // And a key removed in v2 cannot help authorise v3.
    let v3 = v2().next();
    let r = chain(&[
        root(&v1()),
        rotated(&v1(), &v2(), &[1, 2]),
        rotated(&v2(), &v3, &[1, 3]),
    ]);
    assert!(
        matches!(
            r,
            Err(Error::RotationThresholdNotMet {
                version: 3,
                which: "previous",
                have: 1,
                ..
            })
        ),
        "{r:?}"
    );
}

/// The new keyring's own keys alone cannot rotate: the previous threshold is needed too.
#[test]
fn rotation_needs_the_previous_threshold() {
    let r = chain(&[root(&v1()), rotated(&v1(), &v2(), &[1, 6])]);
    assert!(
        matches!(
            r,
            Err(Error::RotationThresholdNotMet {
                which: "previous",
                have: 1,
                ..
            })
        ),
        "{r:?}"
    );
    let unsigned = KeyringFile {
        bytes: v2().bytes(),
        rotation: None,
    };
    assert!(matches!(
        chain(&[root(&v1()), unsigned]),
        Err(Error::RotationThresholdNotMet { have: 0, .. })
    ));
}

/// A revoked key does not count towards a rotation.
#[test]
fn revoked_key_cannot_rotate() {
    let mut r1 = v1();
    r1.maintainers[1].revoked_at = Some("2030-01-01T00:00:00Z".into());
    r1.maintainers.push(member("fay", 6, "consensus"));
    let r2 = r1.next();
    let r = chain(&[root(&r1), rotated(&r1, &r2, &[1, 2])]);
    assert!(
        matches!(
            r,
            Err(Error::RotationThresholdNotMet {
                which: "previous",
                have: 1,
                ..
            })
        ),
        "{r:?}"
    );
}

/// Forgery matrix: a skipped keyring version.
#[test]
fn forgery_skipped_version() {
    let mut v3 = v2();
    v3.version = 3; // names v1 as previous, skipping 2
    let r = chain(&[root(&v1()), rotated(&v1(), &v3, &[1, 2])]);
    assert!(
        matches!(
            r,
            Err(Error::SkippedVersion {
                expected: 2,
                found: 3
            })
        ),
        "{r:?}"
    );
}

/// Forgery matrix: a wrong previous-digest.
#[test]
fn forgery_wrong_previous_digest() {
    let mut bad = v2();
    bad.previous = Some(keyring_digest(b"some other keyring"));
    let r = chain(&[root(&v1()), rotated(&v1(), &bad, &[1, 2])]);
    assert!(
        matches!(r, Err(Error::WrongPreviousDigest { version: 2 })),
        "{r:?}"
    );
}

/// Forgery matrix: an expired keyring (freeze attack).
#[test]
fn forgery_expired_keyring() {
    let mut old = v1();
    old.expires = "2030-05-31T23:59:59Z".into();
    let r = chain(&[root(&old)]);
    assert!(
        matches!(r, Err(Error::KeyringExpired { version: 1, .. })),
        "{r:?}"
    );
    // Only the newest keyring must be unexpired: an expired v1 followed by a fresh v2 is fine.
    let mut fresh = old.next();
    fresh.expires = "2031-01-01T00:00:00Z".into();
    assert!(chain(&[root(&old), rotated(&old, &fresh, &[1, 2])]).is_ok());
}

/// Forgery matrix: an older keyring shown after a newer one.
#[test]
fn forgery_older_keyring_after_newer() {
    let newer = chain(&[root(&v1()), rotated(&v1(), &v2(), &[1, 2])]).unwrap();
    let state = TrustState::of(&newer);
    let older = chain(&[root(&v1())]).unwrap();
    assert!(matches!(
        state.check(&older),
        Err(Error::Rollback {
            trusted: 2,
            shown: 1
        })
    ));
    assert!(state.check(&newer).is_ok());
    // A different keyring claiming version 2 is a fork, not an update.
    let mut other2 = v2();
    other2.expires = "2039-01-01T00:00:00Z".into();
    let forked = chain(&[root(&v1()), rotated(&v1(), &other2, &[1, 2])]).unwrap();
    assert!(matches!(
        state.check(&forked),
        Err(Error::ForkedKeyring { version: 2 })
    ));
    assert_eq!(TrustState::parse(&state.to_text()).unwrap(), state);
}

#[test]
fn repository_cannot_change() {
    let mut moved = v2();
    moved.repository = "elsewhere".into();
    let r = chain(&[root(&v1()), rotated(&v1(), &moved, &[1, 2])]);
    assert!(matches!(r, Err(Error::RepositoryChanged { .. })), "{r:?}");
}

#[test]
fn malformed_rotation_file() {
    let mut f = rotated(&v1(), &v2(), &[1, 2]);
    f.rotation = Some(b"[[signature]]\nkey = \"00\"\nsignature = \"00\"\n".to_vec());
    assert!(matches!(
        chain(&[root(&v1()), f]),
        Err(Error::BadLength { .. })
    ));
    let mut f = rotated(&v1(), &v2(), &[1, 2]);
    f.rotation =
        Some(b"[[signature]]\nkey = \"00\"\nsignature = \"00\"\nsigner = \"x\"\n".to_vec());
    assert!(matches!(chain(&[root(&v1()), f]), Err(Error::Parse { .. })));
}
