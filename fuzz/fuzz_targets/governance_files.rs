//! The governance file parsers on arbitrary bytes: keyrings, approval and emergency files,
//! release manifests, path patterns, audit logs and their heads. None may panic, and a file
//! that parses must parse to the same value after it is written back out.

#![no_main]

use libfuzzer_sys::fuzz_target;
use sluice_governance::approval::ApprovalFile;
use sluice_governance::audit::{verify_log, LogHead};
use sluice_governance::emergency::EmergencyFile;
use sluice_governance::keyring::Keyring;
use sluice_governance::policy::Pattern;
use sluice_governance::release::Manifest;

fuzz_target!(|data: &[u8]| {
    let Some((&which, file)) = data.split_first() else {
        return;
    };
    let text = std::str::from_utf8(file).ok();
    match which % 7 {
        0 => {
            let _ = Keyring::parse(file);
        }
        1 => {
            if let Ok(a) = ApprovalFile::parse(file) {
                let again = ApprovalFile::parse(a.to_toml("").as_bytes());
                assert!(again.is_ok_and(|x| x == a), "approval file round trip");
            }
        }
        2 => {
            let _ = EmergencyFile::parse(file);
        }
        3 => {
            if let Ok(m) = Manifest::parse(file) {
                let again = Manifest::parse(m.to_toml().as_bytes());
                assert!(again.is_ok_and(|x| x == m), "manifest round trip");
            }
        }
        4 => {
            if let Some(t) = text {
                let _ = Pattern::parse(t);
            }
        }
        5 => {
            let _ = verify_log(file, None);
        }
        _ => {
            if let Some(t) = text {
                let _ = LogHead::parse(t);
            }
        }
    }
});
