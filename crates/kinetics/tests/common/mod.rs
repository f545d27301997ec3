//! Helpers shared by the integration tests: the real annotation files of `../shared`.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use kinetics::{parse, Annotations, ReadOptions};

/// `/work/shared/data/kinetics` seen from this crate (the workspace's `../shared`).
pub fn shared_dir() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/kinetics")
}

/// The bytes of a shared file.
pub fn shared_bytes(name: &str) -> Vec<u8> {
    let path = shared_dir().join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// A shared file, parsed strictly.
pub fn shared(name: &str) -> Annotations {
    parse(name, &shared_bytes(name), &ReadOptions::default()).unwrap()
}

/// The four annotation files with their row counts (from SOURCE.md).
pub const FILES: [(&str, usize); 4] = [
    ("kinetics-400_val.csv", 19_906),
    ("kinetics-400_test.csv", 38_685),
    ("kinetics-600_val.csv", 30_000),
    ("kinetics-600_test.csv", 72_924),
];

/// Writes annotations in the official JSON layout (`{id: {annotations: {label, segment}, duration,
/// subset, url}}`, pretty-printed like the releases), keeping repeated ids as repeated keys.
pub fn to_official_json(annotations: &Annotations) -> String {
    let mut out = String::from("{");
    for (i, clip) in annotations.clips.iter().enumerate() {
        let subset = match clip.split {
            kinetics::Split::Train => "train",
            kinetics::Split::Val => "validate",
            kinetics::Split::Test => "test",
        };
        let label = annotations.label(clip).unwrap_or_default();
        let (start, end) = (clip.segment.start_seconds(), clip.segment.end_seconds());
        let id = clip.youtube_id.as_str();
        out.push_str(if i == 0 { "\n" } else { ",\n" });
        out.push_str(&format!(
            "    {}: {{\n        \"annotations\": {{\n            \"label\": {},\n            \"segment\": [\n                {start:.1},\n                {end:.1}\n            ]\n        }},\n        \"duration\": {:.1},\n        \"subset\": \"{subset}\",\n        \"url\": \"https://www.youtube.com/watch?v={id}\"\n    }}",
            serde_json::to_string(id).unwrap(),
            serde_json::to_string(label).unwrap(),
            end - start,
        ));
    }
    out.push_str("\n}\n");
    out
}
