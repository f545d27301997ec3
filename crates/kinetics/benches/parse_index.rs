//! Speed of reading annotation files into an [`Index`]: the real files of `../shared/data/kinetics`,
//! and a synthetic 545,000-row CSV the size of the Kinetics-700-2020 train split, made by repeating
//! the real Kinetics-400 and Kinetics-600 validation rows with fresh valid YouTube ids.
//!
//! `cargo bench -p kinetics --bench parse_index`; medians are in
//! `target/criterion/<group>/<name>/new/estimates.json`. Before measuring it prints the sizes of the
//! binary asset ([`kinetics::asset`]) of each file.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::hint::black_box;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use kinetics::{asset, parse, synthetic, Index, Merge, ReadOptions};

/// Rows of the synthetic file (Kinetics-700-2020 train: about 545k).
const SYNTHETIC_ROWS: usize = 545_000;

const FILES: [&str; 4] = [
    "kinetics-400_val.csv",
    "kinetics-400_test.csv",
    "kinetics-600_val.csv",
    "kinetics-600_test.csv",
];

fn shared(name: &str) -> Vec<u8> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/data/kinetics")
        .join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The real Kinetics-400 and Kinetics-600 validation rows, repeated with fresh ids until there are
/// [`SYNTHETIC_ROWS`], as a train split.
fn synthetic_csv() -> Vec<u8> {
    let sources = ["kinetics-400_val.csv", "kinetics-600_val.csv"]
        .map(|name| parse(name, &shared(name), &ReadOptions::default()).unwrap());
    synthetic::train_split_csv(&sources, SYNTHETIC_ROWS).unwrap()
}

fn parse_and_index(name: &str, bytes: &[u8]) -> Index {
    let annotations = parse(name, bytes, &ReadOptions::default()).unwrap();
    let mut index = Index::new();
    index.insert(annotations, None, Merge::Extend).unwrap();
    index
}

fn report_sizes(synthetic: &[u8]) {
    let files = FILES.map(|name| (name.to_owned(), shared(name)));
    let all = files
        .iter()
        .map(|(name, bytes)| (name.as_str(), bytes.as_slice()))
        .chain([("synthetic-545k.csv", synthetic)]);
    for (name, bytes) in all {
        let annotations = parse(name, bytes, &ReadOptions::default()).unwrap();
        let rows = annotations.clips.len();
        let encoded = asset::encode(&annotations);
        let index = parse_and_index(name, bytes);
        println!(
            "{name}: {rows} rows, CSV {} B, asset {} B ({:.2} B/clip), index {} B",
            bytes.len(),
            encoded.len(),
            encoded.len() as f64 / rows as f64,
            index.heap_bytes()
        );
    }
}

fn benches(c: &mut Criterion) {
    let synthetic = synthetic_csv();
    report_sizes(&synthetic);

    let mut real = c.benchmark_group("real");
    real.sample_size(20);
    for name in FILES {
        let bytes = shared(name);
        real.throughput(Throughput::Bytes(bytes.len() as u64));
        real.bench_function(format!("parse_index/{name}"), |b| {
            b.iter(|| parse_and_index(name, black_box(&bytes)))
        });
    }
    real.finish();

    let mut big = c.benchmark_group("synthetic_545k");
    big.sample_size(10)
        .measurement_time(Duration::from_secs(15))
        .throughput(Throughput::Elements(SYNTHETIC_ROWS as u64));
    big.bench_function("parse_index", |b| {
        b.iter(|| parse_and_index("synthetic.csv", black_box(&synthetic)))
    });
    big.bench_function("parse", |b| {
        b.iter(|| {
            parse(
                "synthetic.csv",
                black_box(&synthetic),
                &ReadOptions::default(),
            )
            .unwrap()
        })
    });
    let annotations = parse("synthetic.csv", &synthetic, &ReadOptions::default()).unwrap();
    big.bench_function("index", |b| {
        b.iter(|| {
            let mut index = Index::new();
            index
                .insert(black_box(annotations.clone()), None, Merge::Extend)
                .unwrap();
            index
        })
    });
    let encoded = asset::encode(&annotations);
    big.bench_function("asset_decode_index", |b| {
        b.iter(|| {
            let mut index = Index::new();
            let decoded = asset::decode(black_box(&encoded)).unwrap();
            index.insert(decoded, None, Merge::Extend).unwrap();
            index
        })
    });
    big.finish();
}

criterion_group!(parse_index, benches);
criterion_main!(parse_index);
