#![allow(clippy::unwrap_used, clippy::expect_used)]
#![cfg(not(target_arch = "wasm32"))]
//! The candle executor against the reference outputs of the JAX/Flax port (shared/fixtures),
//! with the real converted weights. Without weights these tests skip (with the reason printed)
//! in a plain `cargo test`, and fail under `cargo xtask test`, which provides them.

use candle_core::{Device, Tensor};
use i3d_core::postprocess::{softmax, top_indices};
use i3d_core::reference::{rel_l2, test_weights, SHARED_DIR as SHARED};
use i3d_core::Precision;
use i3d_cpu::InceptionI3d;
use support::parity;

mod support;

fn read(path: impl AsRef<std::path::Path>) -> Vec<u8> {
    let path = path.as_ref();
    std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

#[test]
fn smooth16_matches_reference_f32() {
    let Some(weights) = test_weights(Precision::F32) else {
        return;
    };
    let report = parity::run(
        &weights,
        &read(format!("{SHARED}/fixtures/i3d_ref_smooth16.safetensors")),
    )
    .unwrap();
    println!("{}", report.summary());
    assert!(
        report.logits_rel_l2 < 1e-4,
        "rel L2 {}",
        report.logits_rel_l2
    );
    assert_eq!(report.top5, vec![327, 328, 35, 21, 31]);
    assert_eq!(report.endpoints.len(), 17);
    assert_eq!(report.first_divergence, None, "{}", report.summary());
    assert!(report.pooled_rel_l2.unwrap() < 1e-4);
    // The top logit, 62.965 in MODEL.md.
    assert!((report.logits[327] - 62.965).abs() < 0.01);
    assert!(report.passed());
}

#[test]
fn smooth16_with_f16_weights_keeps_the_ranking() {
    let Some(weights) = test_weights(Precision::F16) else {
        return;
    };
    let report = parity::run(
        &weights,
        &read(format!("{SHARED}/fixtures/i3d_ref_smooth16.safetensors")),
    )
    .unwrap();
    println!("f16 weights: {}", report.summary());
    // Half-precision weights (widened to f32 at load) move the logits by ~1e-3.
    assert!(
        report.logits_rel_l2 < 1e-2,
        "rel L2 {}",
        report.logits_rel_l2
    );
    assert_eq!(report.top5[..3], [327, 328, 35]);
}

/// All 79 frames of the cricket GIF as RGB/255·2−1 (no resize), as the fixture was made.
fn cricket_clip() -> Tensor {
    use image::AnimationDecoder;
    let file = std::io::BufReader::new(
        std::fs::File::open(format!("{SHARED}/data/video/v_CricketShot_g04_c01_rgb.gif")).unwrap(),
    );
    let frames = image::codecs::gif::GifDecoder::new(file)
        .unwrap()
        .into_frames()
        .collect_frames()
        .unwrap();
    let t = frames.len();
    let data: Vec<f32> = frames
        .iter()
        .flat_map(|f| {
            f.buffer()
                .pixels()
                .flat_map(|p| [p[0], p[1], p[2]])
                .collect::<Vec<_>>()
        })
        .map(i3d_core::preprocess::scale_u8)
        .collect();
    Tensor::from_vec(data, (1, t, 224, 224, 3), &Device::Cpu).unwrap()
}

#[test]
fn cricket_gif_matches_reference() {
    let Some(weights) = test_weights(Precision::F32) else {
        return;
    };
    let model = InceptionI3d::from_safetensors_bytes(&weights).unwrap();
    let clip = cricket_clip();
    assert_eq!(clip.dims(), &[1, 79, 224, 224, 3]);
    let logits: Vec<f32> = model
        .logits(&clip)
        .unwrap()
        .flatten_all()
        .unwrap()
        .to_vec1()
        .unwrap();
    let reference = logits_only(&read(format!(
        "{SHARED}/fixtures/cricket_gif_ref.safetensors"
    )));
    let rel = rel_l2(&logits, &reference);
    assert!(rel < 1e-4, "rel L2 {rel}");
    assert_eq!(top_indices(&logits, 1), vec![227]);
    let p = softmax(&logits)[227];
    assert!((p - 0.9886).abs() < 5e-4, "p = {p}");
}

/// Only `logits` from a fixture (the cricket fixture has no `input`).
fn logits_only(bytes: &[u8]) -> Vec<f32> {
    let st = safetensors::SafeTensors::deserialize(bytes).unwrap();
    let shape = st.tensor("logits").unwrap().shape().to_vec();
    i3d_core::weights::tensor_f32(&st, "logits", &shape).unwrap()
}

/// The typed network error inside the executor's error.
fn network_error(e: i3d_cpu::Error) -> i3d_core::Error {
    match e {
        i3d_cpu::Error::Network(e) => e,
        e => panic!("expected a network error, got {e}"),
    }
}

#[test]
fn too_few_frames_is_a_typed_error() {
    let Some(weights) = test_weights(Precision::F32) else {
        return;
    };
    let model = InceptionI3d::from_safetensors_bytes(&weights).unwrap();
    let x = Tensor::zeros((1, 8, 224, 224, 3), candle_core::DType::F32, &Device::Cpu).unwrap();
    assert!(matches!(
        network_error(model.logits(&x).unwrap_err()),
        i3d_core::Error::TooFewFrames { frames: 8, min: 9 }
    ));
    let x = Tensor::zeros((1, 9, 224, 224, 3), candle_core::DType::F32, &Device::Cpu).unwrap();
    assert_eq!(model.logits(&x).unwrap().dims(), &[1, 400]);
    let x = Tensor::zeros((1, 9, 200, 224, 3), candle_core::DType::F32, &Device::Cpu).unwrap();
    assert!(matches!(
        network_error(model.logits(&x).unwrap_err()),
        i3d_core::Error::InputShape { .. }
    ));
}

#[test]
fn corrupt_weights_are_refused() {
    let err = InceptionI3d::from_safetensors_bytes(b"not a safetensors file").unwrap_err();
    let text = err.to_string();
    assert!(text.contains("not a safetensors file"), "{text}");
    assert!(
        matches!(network_error(err), i3d_core::Error::Weights(_)),
        "not a weights error"
    );
    // A real safetensors file that is not the weights (the fixture): missing tensors.
    let err = InceptionI3d::from_safetensors_bytes(&read(format!(
        "{SHARED}/fixtures/cricket_gif_ref.safetensors"
    )))
    .unwrap_err();
    assert!(err.to_string().contains("Conv3d_1a_7x7"), "{err}");
}

const SMOOTH16: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../../shared/fixtures/i3d_ref_smooth16.safetensors"
);

#[test]
fn fixture_parses_with_stats_for_every_endpoint() {
    let fixture =
        i3d_core::reference::Fixture::from_bytes(&std::fs::read(SMOOTH16).unwrap()).unwrap();
    assert_eq!(fixture.input_shape.dims(), [1, 16, 224, 224, 3]);
    assert_eq!(fixture.logits.len(), 400);
    assert_eq!(fixture.pooled.as_ref().map(Vec::len), Some(1024));
    assert_eq!(top_indices(&fixture.logits, 5), vec![327, 328, 35, 21, 31]);
    // Every endpoint of the reference is a layer of our table, with the same shape.
    let layers = i3d_core::arch::I3D_LAYERS;
    let shapes = i3d_core::arch::output_shapes(layers, i3d_core::arch::Shape::clip(16)).unwrap();
    assert_eq!(fixture.stats.len(), 17);
    for (name, stats) in &fixture.stats {
        let i = layers
            .iter()
            .position(|l| l.name == name)
            .unwrap_or_else(|| panic!("no layer {name}"));
        let dims = shapes[i].dims();
        let ours: Vec<usize> = if name == "Logits" {
            vec![1, 400]
        } else {
            dims.to_vec()
        };
        assert_eq!(stats.shape, ours, "{name}");
    }
    // The input's own statistics: a real tensor in [-1, 1].
    let s = i3d_core::reference::EndpointStats::of(&fixture.input, &fixture.input_shape.dims());
    assert!(s.absmax <= 1.0 && s.std > 0.1);
}

#[test]
fn rel_l2_basics() {
    assert_eq!(rel_l2(&[1.0, 2.0], &[1.0, 2.0]), 0.0);
    assert!((rel_l2(&[0.0, 0.0], &[3.0, 4.0]) - 1.0).abs() < 1e-12);
    assert!(rel_l2(&[1.0], &[1.0, 2.0]).is_infinite());
}
