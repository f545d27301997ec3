#![allow(clippy::unwrap_used, clippy::expect_used)]
#![cfg(not(target_arch = "wasm32"))]
//! Class activation maps against the network's own logits: a class's logit is the mean of its map
//! plus the classifier's bias (see `i3d_core::cam` for the time weights).

use i3d_core::arch::Shape;
use i3d_core::cam::{clip_feature, linear_activation_map, LogitsLayer};
use i3d_core::postprocess::top_indices;
use i3d_core::reference::rel_l2;
use i3d_core::reference::{shared_file, test_weights, Fixture};
use i3d_core::Precision;
use i3d_cpu::InceptionI3d;

#[test]
fn map_mean_plus_bias_is_the_logit_16_frames() {
    check_clip(1);
}

/// At 32 frames the features (Mixed_5c) have 4 time steps, weighted ¼, ½, ½, ¼ by the pooling: the case a plain
/// mean over time gets wrong.
#[test]
fn map_mean_plus_bias_is_the_logit_32_frames() {
    check_clip(2);
}

/// The fixture clip (16 frames) repeated `repeats` times along time.
fn check_clip(repeats: usize) {
    let (Some(weights), Some(fixture)) = (
        test_weights(Precision::F16),
        shared_file("fixtures/i3d_ref_smooth16.safetensors"),
    ) else {
        return;
    };
    let fixture = Fixture::from_bytes(&fixture).unwrap();
    let input = fixture.input.repeat(repeats);
    let frames = fixture.input_shape.t * repeats;
    let input = i3d_cpu::clip_tensor(input, frames).unwrap();
    let model = InceptionI3d::from_safetensors_bytes(&weights).unwrap();
    let mut features = None;
    let logits = model
        .forward_endpoints(&input, |layer, t| {
            if layer == i3d_core::arch::FEATURE_LAYER {
                let dims = t.dims().to_vec();
                let values = t.flatten_all().unwrap().to_vec1::<f32>().unwrap();
                features = Some((values, Shape::from_dims(&dims).unwrap()));
            }
        })
        .unwrap()
        .flatten_all()
        .unwrap()
        .to_vec1::<f32>()
        .unwrap();
    let (features, shape) = features.unwrap();
    assert_eq!(shape.dims(), [1, 2 * repeats, 7, 7, 1024]);
    let layer = LogitsLayer::from_safetensors_bytes(&weights).unwrap();
    for class in top_indices(&logits, 3).into_iter().chain([0, 399]) {
        let map = layer.activation_map(&features, shape, class).unwrap();
        assert_eq!((map.height, map.width), (7, 7));
        let mean = map.raw.iter().sum::<f32>() / 49.0;
        let logit = mean + layer.bias(class);
        assert!(
            (logit - logits[class]).abs() < 1e-3 * logits[class].abs().max(1.0),
            "class {class}: map gives {logit}, the network {}",
            logits[class]
        );
        let normalised = map.normalised();
        let max = normalised.iter().copied().fold(0.0f32, f32::max);
        assert!(normalised.iter().all(|v| (0.0..=1.0).contains(v)));
        assert!(max == 1.0 || max == 0.0);
    }
    // The clip feature is the classifier's input: the logits layer applied to it gives the network's logits, and
    // a linear head's map (here the Kinetics weights of the best class, as a head would hold them) means to its dot.
    let feature = clip_feature(&features, shape).unwrap();
    assert_eq!(feature.len(), 1024);
    let err = rel_l2(&layer.logits(&feature), &logits);
    eprintln!("{frames} frames: logits from the clip feature vs the network: rel L2 {err:.2e}");
    assert!(err < 1e-5, "{err}");
    let best = top_indices(&logits, 1)[0];
    let row: Vec<f32> = (0..1024)
        .map(|k| {
            let mut unit = vec![0.0; 1024];
            unit[k] = 1.0;
            layer.logits(&unit)[best] - layer.bias(best)
        })
        .collect();
    let map = linear_activation_map(&features, shape, &row).unwrap();
    let dot: f32 = row.iter().zip(&feature).map(|(w, f)| w * f).sum();
    let mean = map.raw.iter().sum::<f32>() / 49.0;
    assert!(
        (mean - dot).abs() < 1e-3 * dot.abs().max(1.0),
        "{mean} vs {dot}"
    );
    assert!(linear_activation_map(&features, shape, &row[1..]).is_err());
    let nearest = layer.nearest(&row, 3);
    assert_eq!(nearest.first().map(|n| n.0), Some(best), "{nearest:?}");
    assert!((nearest[0].1 - 1.0).abs() < 1e-5, "{nearest:?}");
    assert!(layer.activation_map(&features[1..], shape, 0).is_err());
    assert!(layer.activation_map(&features, shape, 400).is_err());
}
