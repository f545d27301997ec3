#![allow(clippy::unwrap_used, clippy::expect_used)]

use super::*;

/// MODEL.md's cost table: 27.79 / 55.58 / 111.15 GMAC at T = 16 / 32 / 64, averaged over 1 / 3 / 7
/// time positions (each conv costs output positions × kt·kh·kw·cin × cout).
#[test]
fn macs_match_model_table() {
    for (frames, gmac, positions) in [(16, 27.79, 1), (32, 55.58, 3), (64, 111.15, 7)] {
        let got = macs(frames).unwrap() as f64 / 1e9;
        assert!(
            (got - gmac).abs() < 0.005,
            "T={frames}: {got} GMAC, want {gmac}"
        );
        assert_eq!(logit_positions(frames).unwrap(), positions);
    }
    // Exact values at T = 16 and 79 (the latter vs OpenVINO's 278.98 GFLOP, which also counts pools/BN).
    assert_eq!(macs(16).unwrap(), 27_787_978_752);
    assert_eq!(macs(79).unwrap(), 138_941_532_160);
}

#[test]
fn per_layer_share_matches_model_md() {
    // "At T = 16: Conv3d_2c 30%, the stem 24%, Mixed_3c 19%, Mixed_3b 9%, Mixed_4b–4f 17%".
    let macs = layer_macs(I3D_LAYERS, Shape::clip(16)).unwrap();
    let total: u64 = macs.iter().sum();
    let share = |name: &str| {
        let i = I3D_LAYERS.iter().position(|l| l.name == name).unwrap();
        (macs[i] as f64 / total as f64 * 100.0).round() as i64
    };
    assert_eq!(share("Conv3d_2c_3x3"), 30);
    assert_eq!(share("Conv3d_1a_7x7"), 24);
    assert_eq!(share("Mixed_3c"), 19);
    assert_eq!(share("Mixed_3b"), 9);
    let b4: i64 = ["Mixed_4b", "Mixed_4c", "Mixed_4d", "Mixed_4e", "Mixed_4f"]
        .iter()
        .map(|n| share(n))
        .sum();
    assert!((16..=18).contains(&b4), "{b4}");
}

#[test]
fn shapes_match_reference_endpoints() {
    // Shapes from the metadata `stats` of shared/fixtures/i3d_ref_smooth16.safetensors.
    let shapes = output_shapes(I3D_LAYERS, Shape::clip(16)).unwrap();
    let get = |name: &str| shapes[I3D_LAYERS.iter().position(|l| l.name == name).unwrap()].dims();
    assert_eq!(get("Conv3d_1a_7x7"), [1, 8, 112, 112, 64]);
    assert_eq!(get("MaxPool3d_2a_3x3"), [1, 8, 56, 56, 64]);
    assert_eq!(get("Conv3d_2c_3x3"), [1, 8, 56, 56, 192]);
    assert_eq!(get("MaxPool3d_3a_3x3"), [1, 8, 28, 28, 192]);
    assert_eq!(get("Mixed_3b"), [1, 8, 28, 28, 256]);
    assert_eq!(get("Mixed_3c"), [1, 8, 28, 28, 480]);
    assert_eq!(get("MaxPool3d_4a_3x3"), [1, 4, 14, 14, 480]);
    assert_eq!(get("Mixed_4e"), [1, 4, 14, 14, 528]);
    assert_eq!(get("Mixed_4f"), [1, 4, 14, 14, 832]);
    assert_eq!(get("MaxPool3d_5a_2x2"), [1, 2, 7, 7, 832]);
    assert_eq!(get("Mixed_5c"), [1, 2, 7, 7, 1024]);
    assert_eq!(get("AvgPool3d_5d_2x7x7"), [1, 1, 1, 1, 1024]);
    assert_eq!(get("Logits"), [1, 1, 1, 1, 400]);
}

#[test]
fn same_padding_is_tensorflow() {
    // Stem: 224 → 112 with k = 7, s = 2: total 5, 2 before, 3 after.
    assert_eq!(same_padding(224, 7, 2), (112, 2, 3));
    // Stride-2 pools on even sizes: 0 before, 1 after.
    assert_eq!(same_padding(112, 3, 2), (56, 0, 1));
    assert_eq!(same_padding(14, 2, 2), (7, 0, 0));
    assert_eq!(same_padding(8, 3, 2), (4, 0, 1));
    // Odd sizes, stride 2: T = 9 → 5 with k = 7: total 6.
    assert_eq!(same_padding(9, 7, 2), (5, 3, 3));
    // k < stride must not underflow.
    assert_eq!(same_padding(5, 1, 2), (3, 0, 0));
    assert_eq!(same_padding(28, 3, 1), (28, 1, 1));
}

#[test]
fn minimum_frames() {
    assert!(macs(MIN_FRAMES).is_ok());
    assert_eq!(logit_positions(9).unwrap(), 1);
    assert!(matches!(
        macs(8),
        Err(Error::TooFewFrames { frames: 8, min: 9 })
    ));
    // Even past the input check, the layer table itself refuses 8 frames at the average pool.
    let err = output_shapes(I3D_LAYERS, Shape::clip(8)).unwrap_err();
    assert!(
        matches!(
            err,
            Error::TooSmall {
                layer: "AvgPool3d_5d_2x7x7",
                ..
            }
        ),
        "{err}"
    );
}

#[test]
fn parameters_match_model_md() {
    // 12,689,984 parameters after folding (weights + biases).
    assert_eq!(parameters(), 12_689_984);
    assert_eq!(all_convs(I3D_LAYERS).len(), 3 + 9 * 6 + 1);
}

#[test]
fn layer_ids_name_the_table() {
    assert_eq!(LayerId::all().len(), I3D_LAYERS.len());
    for (id, layer) in LayerId::all().zip(I3D_LAYERS) {
        assert_eq!(id.name(), layer.name);
        assert_eq!(LayerId::named(layer.name), Some(id));
        assert_eq!(id.layer(), layer);
    }
    assert_eq!(LayerId::named("Mixed_6a"), None);
    // What a user sees: the features are Mixed_5c's output, the last inspectable layer.
    assert_eq!(FEATURE_LAYER.name(), "Mixed_5c");
    assert_eq!(LayerId::inspectable().last(), Some(FEATURE_LAYER));
    assert_eq!(LayerId::inspectable().count(), 16);
}
