//! Annotation files as a visitor loads them: the same bytes read as CSV and as JSON, failing on the first bad
//! row and skipping bad rows.
#![no_main]
use kinetics::parse::{parse, ReadOptions};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    for name in ["fuzz.csv", "fuzz.json"] {
        let _ = parse(name, data, &ReadOptions::default());
        let _ = parse(name, data, &ReadOptions::skipping());
    }
});
