//! The binary annotation assets the site ships (and a visitor's cache may hold, damaged).
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(annotations) = kinetics::asset::decode(data) {
        // What decodes must encode and decode to the same clips.
        let again = kinetics::asset::decode(&kinetics::asset::encode(&annotations));
        assert!(again.is_ok_and(|a| a.clips.len() == annotations.clips.len()));
    }
});
