//! The Sluice-over-QUIC protocol's sans-IO checks on arbitrary bytes: the hello and its
//! negotiation, then the rest read as the control stream reader reads it (frame headers checked
//! against the limit before anything is allocated, frames routed as the writer routes them).

use crate::quic::protocol::{
    command_of, features, payload_len, route, Hello, Route, HELLO_LEN, LARGE_MESSAGE, MAX_VERSION,
    MIN_VERSION,
};
use crate::wire::HEADER_LEN;

/// The payload limit the harness reads frames with (small, so the fuzzer reaches both sides).
const LIMIT: usize = 4 * LARGE_MESSAGE;

/// See the module documentation.
pub fn quic_framing(data: &[u8]) {
    let Some((hello, mut rest)) = data.split_first_chunk::<HELLO_LEN>() else {
        return;
    };
    if let Ok(theirs) = Hello::decode(hello) {
        assert_eq!(
            Hello::decode(&theirs.encode()),
            Ok(theirs),
            "hello round trip"
        );
        let ours = Hello::ours();
        let agreed = ours.negotiate(&theirs);
        if let Ok(a) = agreed {
            assert!((MIN_VERSION..=MAX_VERSION).contains(&a.version));
            assert!((theirs.min_version..=theirs.max_version).contains(&a.version));
            assert_eq!(theirs.features & features::REQUIRED, features::REQUIRED);
            assert_eq!(a.features & !theirs.features, 0, "a feature they lack");
        }
        // Both sides run the same negotiation: with the required features offered, it succeeds
        // for one exactly when it succeeds for the other.
        if theirs.features & features::REQUIRED == features::REQUIRED {
            assert_eq!(
                theirs.negotiate(&ours).is_ok(),
                agreed.is_ok(),
                "asymmetric"
            );
        }
    }
    while let Some((header, after)) = rest.split_first_chunk::<HEADER_LEN>() {
        let _ = command_of(header);
        let Ok(len) = payload_len(header, LIMIT) else {
            let announced = u32::from_le_bytes([header[16], header[17], header[18], header[19]]);
            assert!(usize::try_from(announced).map_or(true, |a| a > LIMIT));
            return;
        };
        assert!(len <= LIMIT);
        let Some(payload) = after.get(..len) else {
            return;
        };
        let frame = &rest[..HEADER_LEN + payload.len()];
        if frame.len() > HEADER_LEN + LARGE_MESSAGE {
            assert_eq!(
                route(frame),
                Route::OwnStream,
                "a large frame on the control stream"
            );
        }
        rest = &after[len..];
    }
}
