//! How long the browser takes to read a Kinetics-700-sized annotation file: [`kinetics::parse`] then
//! [`kinetics::Index::insert`] of a synthetic 545,000-row CSV (the size of the Kinetics-700-2020 train split),
//! in headless Chromium, as the explorer does when a user loads such a file.
//!
//! The rows are the real Kinetics-400 and Kinetics-600 validation rows (embedded from `../shared` at compile
//! time) repeated with fresh valid YouTube ids by [`kinetics::synthetic`], as in `crates/kinetics/benches/parse_index.rs`. This is a
//! measurement, not a timing assertion: `cargo xtask test --only wasm` runs it, and the runner prints its
//! console line only with `--nocapture`, i.e. with the wasm environment of `cargo xtask test` (see
//! `xtask/src/setup.rs`, `Toolchain::wasm_env`):
//! `cargo test --target wasm32-unknown-unknown -p app --test parse_speed -- --nocapture`.
//! Seen on the 2-core CI machine (Chromium 156): parse 176 ms, index 115 ms, parse + index 258 ms,
//! asset decode + index 183 ms.
#![cfg(target_arch = "wasm32")]
#![allow(clippy::unwrap_used, clippy::expect_used)]

use kinetics::{asset, parse, synthetic, Index, Merge, ReadOptions};
use wasm_bindgen_test::{wasm_bindgen_test, wasm_bindgen_test_configure};

wasm_bindgen_test_configure!(run_in_browser);

/// Rows of the synthetic file (Kinetics-700-2020 train: about 545k).
const ROWS: usize = 545_000;

const K400_VAL: &str = include_str!("../../../../shared/data/kinetics/kinetics-400_val.csv");
const K600_VAL: &str = include_str!("../../../../shared/data/kinetics/kinetics-600_val.csv");

/// The real validation rows, repeated with fresh ids until there are [`ROWS`], as a train split.
fn synthetic_csv() -> Vec<u8> {
    let sources = [
        ("kinetics-400_val.csv", K400_VAL),
        ("kinetics-600_val.csv", K600_VAL),
    ]
    .map(|(name, text)| parse(name, text.as_bytes(), &ReadOptions::default()).unwrap());
    synthetic::train_split_csv(&sources, ROWS).unwrap()
}

fn now_ms() -> f64 {
    web_sys::window().unwrap().performance().unwrap().now()
}

/// Milliseconds of the fastest of `runs` runs of `f`.
fn best_of<T>(runs: usize, mut f: impl FnMut() -> T) -> (f64, T) {
    let mut best = f64::INFINITY;
    let mut last = None;
    for _ in 0..runs {
        let start = now_ms();
        let value = f();
        best = best.min(now_ms() - start);
        last = Some(value);
    }
    (best, last.unwrap())
}

#[wasm_bindgen_test]
fn parse_and_index_545k_rows() {
    let csv = synthetic_csv();
    let (parse_ms, annotations) = best_of(3, || {
        parse("synthetic.csv", &csv, &ReadOptions::default()).unwrap()
    });
    assert_eq!(annotations.clips.len(), ROWS);
    let (index_ms, index) = best_of(3, || {
        let mut index = Index::new();
        index
            .insert(annotations.clone(), None, Merge::Extend)
            .unwrap();
        index
    });
    assert_eq!(index.len(), ROWS);
    let (both_ms, _) = best_of(3, || {
        let annotations = parse("synthetic.csv", &csv, &ReadOptions::default()).unwrap();
        let mut index = Index::new();
        index.insert(annotations, None, Merge::Extend).unwrap();
        index.len()
    });
    let bytes = asset::encode(&annotations);
    let (decode_ms, _) = best_of(3, || {
        let decoded = asset::decode(&bytes).unwrap();
        let mut index = Index::new();
        index.insert(decoded, None, Merge::Extend).unwrap();
        index.len()
    });
    let report = format!(
        "kinetics in Chromium (wasm32), {ROWS} rows, CSV {:.1} MB, asset {:.1} MB: parse {parse_ms:.0} ms, \
         index {index_ms:.0} ms, parse+index {both_ms:.0} ms (target ≤ 1000 ms); asset decode+index {decode_ms:.0} ms \
         (best of 3)",
        csv.len() as f64 / 1e6,
        bytes.len() as f64 / 1e6,
    );
    web_sys::console::log_1(&report.into());
}
