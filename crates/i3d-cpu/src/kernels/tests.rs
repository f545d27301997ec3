#![allow(clippy::unwrap_used, clippy::expect_used, clippy::needless_range_loop)]
//! The kernels against the direct, loop-by-loop definitions of `i3d_core::reference` (f64), on
//! deterministic pseudo-random data.

use candle_core::Module;
use i3d_core::arch::{ConvSpec, PoolSpec};
use i3d_core::reference;

use super::*;
use crate::layers::{ConvWeight, MaxPool3dSame, Unit3d};
use winograd::WinogradWeight;

/// Deterministic values in [-1, 1) (a 64-bit LCG).
fn values(n: usize, seed: u64) -> Vec<f32> {
    let mut s = seed
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407);
    (0..n)
        .map(|_| {
            s = s
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            ((s >> 40) as f32 / (1u64 << 24) as f32) * 2.0 - 1.0
        })
        .collect()
}

fn check_conv(input: Shape, kernel: Dims3, stride: Dims3, cout: usize, relu: bool) {
    let spec = ConvSpec {
        name: "test",
        kernel,
        stride,
        cin: input.c,
        cout,
        relu,
    };
    let x = values(input.elements(), 1);
    let w: Vec<f32> = values(spec.weight_len(), 2)
        .iter()
        .map(|v| v * 0.2)
        .collect();
    let b = values(cout, 3);
    let direct_weight = Tensor::from_vec(w.clone(), (spec.k(), cout), &Device::Cpu).unwrap();
    let mut weights = vec![ConvWeight::Direct(direct_weight.clone())];
    // Convolutions over few channels (the stem) also run on bands.
    if stem::preferred(&spec) {
        let banded = stem::StemWeight::from_direct(&direct_weight, kernel, input.c, cout).unwrap();
        weights.push(ConvWeight::Stem(banded));
    }
    let xt = Tensor::from_vec(x.clone(), input.dims().to_vec(), &Device::Cpu).unwrap();
    let expected_shape = spec.output_shape(input).unwrap();
    let (direct, _) = reference::conv3d(&x, input, &w, &b, &spec);
    for weight in weights {
        let kind = format!("{weight:?}")
            .chars()
            .take_while(|c| *c != '(')
            .collect::<String>();
        let unit = Unit3d {
            spec,
            weight,
            bias: b.clone(),
        };
        let ours = unit.forward(&xt).unwrap();
        assert_eq!(ours.dims(), &expected_shape.dims());
        let ours = ours.flatten_all().unwrap().to_vec1::<f32>().unwrap();
        let err = ours
            .iter()
            .zip(&direct)
            .map(|(a, b)| (a - b).abs())
            .fold(0.0f32, f32::max);
        assert!(
            err < 1e-4,
            "{kind} {input} k{kernel:?} s{stride:?}: max error {err} (seeds 1, 2, 3)"
        );
    }
}

fn shape(n: usize, t: usize, h: usize, w: usize, c: usize) -> Shape {
    Shape { n, t, h, w, c }
}

#[test]
fn stem_conv_stride_2_asymmetric_padding() {
    // 7×7×7 stride 2 on odd and even sizes: SAME pads (2, 3) on even, (3, 3) on odd axes.
    check_conv(shape(1, 9, 20, 17, 3), [7, 7, 7], [2, 2, 2], 5, true);
}

#[test]
fn stem_conv_on_bands_batch_2_odd_edges_and_short_clips() {
    // The banded kernel (the stem's) against the reference: two clips, odd widths (a band's slot
    // count rounds up), a plane with fewer rows than a task's block, T = 1 and 2 (time taps
    // clipped on both sides), no ReLU.
    check_conv(shape(2, 5, 11, 13, 3), [7, 7, 7], [2, 2, 2], 8, false);
    check_conv(shape(1, 1, 23, 24, 3), [7, 7, 7], [2, 2, 2], 4, true);
    check_conv(shape(1, 2, 3, 5, 2), [3, 3, 3], [1, 2, 2], 6, true);
    check_conv(shape(1, 6, 9, 9, 3), [3, 5, 5], [1, 1, 1], 7, true);
    // Of I3D's convolutions, the stem alone runs on bands.
    use i3d_core::arch::{Op, I3D_LAYERS};
    let banded: Vec<&str> = I3D_LAYERS
        .iter()
        .flat_map(|l| match l.op {
            Op::Conv(spec) => vec![spec],
            Op::Inception(b) => vec![b.b0, b.b1a, b.b1b, b.b2a, b.b2b, b.b3],
            _ => Vec::new(),
        })
        .filter(stem::preferred)
        .map(|spec| spec.name)
        .collect();
    assert_eq!(banded, ["Conv3d_1a_7x7"]);
}

#[test]
fn conv_3x3x3_batch_2() {
    check_conv(shape(2, 4, 6, 5, 7), [3, 3, 3], [1, 1, 1], 6, true);
}

#[test]
fn conv_pointwise_without_relu() {
    check_conv(shape(1, 3, 5, 4, 8), [1, 1, 1], [1, 1, 1], 4, false);
}

#[test]
fn conv_many_im2col_chunks() {
    // K = 27·64 = 1728: 8 MiB hold 1213 rows, so 8×40×40 = 12800 rows take 11 chunks.
    let input = shape(1, 8, 40, 40, 64);
    let g = Geometry::same(input, [3, 3, 3], [1, 1, 1], 16);
    assert!(g.chunk_rows() < g.output.positions() / 8);
    check_conv(input, [3, 3, 3], [1, 1, 1], 16, true);
}

#[test]
fn conv_pointwise_many_chunks() {
    // 2 MiB of 32 channels = 16384 rows per chunk; 40000 rows take 3.
    check_conv(shape(1, 4, 100, 100, 5), [1, 1, 1], [1, 1, 1], 32, true);
}

#[test]
fn max_pools_match_direct_definition() {
    let input = shape(2, 5, 9, 8, 3);
    // Values all negative: a zero-padded pool would be caught returning 0 at the borders.
    let x: Vec<f32> = values(input.elements(), 4)
        .iter()
        .map(|v| v - 1.5)
        .collect();
    let xt = Tensor::from_vec(x.clone(), input.dims().to_vec(), &Device::Cpu).unwrap();
    for (kernel, stride) in [
        ([1, 3, 3], [1, 2, 2]),
        ([3, 3, 3], [2, 2, 2]),
        ([2, 2, 2], [2, 2, 2]),
        ([3, 3, 3], [1, 1, 1]),
    ] {
        let pool = PoolSpec { kernel, stride };
        let ours = MaxPool3dSame::new(pool).forward(&xt).unwrap();
        assert_eq!(ours.dims(), &pool.output_shape(input).dims());
        let ours = ours.flatten_all().unwrap().to_vec1::<f32>().unwrap();
        assert_eq!(
            ours,
            reference::max_pool3d(&x, input, &pool).0,
            "{kernel:?} {stride:?}"
        );
    }
}

#[test]
fn avg_pool_valid() {
    let input = shape(1, 3, 7, 7, 4);
    let x = values(input.elements(), 5);
    let out = avg_pool3d_valid(&x, input, [2, 7, 7]);
    let (direct, shape) = reference::avg_pool3d(&x, input, [2, 7, 7]);
    assert_eq!(shape.elements(), 2 * 4);
    assert!(reference::max_abs_diff(&out, &direct) < 1e-6);
}

#[test]
fn pooled_lhs_equals_pool_then_pointwise_conv() {
    // Inception branch 3: max-pool 3×3×3 stride 1, then 1×1×1, fused chunk by chunk.
    let input = shape(1, 4, 9, 7, 24);
    let x = values(input.elements(), 6);
    let xt = Tensor::from_vec(x, input.dims().to_vec(), &Device::Cpu).unwrap();
    let spec = ConvSpec {
        name: "b3",
        kernel: [1, 1, 1],
        stride: [1, 1, 1],
        cin: 24,
        cout: 10,
        relu: true,
    };
    let unit = Unit3d {
        spec,
        weight: ConvWeight::Direct(
            Tensor::from_vec(values(240, 7), (24, 10), &Device::Cpu).unwrap(),
        ),
        bias: values(10, 8),
    };
    let pool = MaxPool3dSame::new(PoolSpec {
        kernel: [3, 3, 3],
        stride: [1, 1, 1],
    });
    let expected = unit.forward(&pool.forward(&xt).unwrap()).unwrap();
    let mut ws = Workspace::default();
    let out = ws.take(Shape { c: 10, ..input }).unwrap();
    pool_conv1x1(
        &xt,
        &pool.geometry(input),
        unit.weight.direct().unwrap(),
        &unit.bias,
        true,
        &mut ws,
        &[Target {
            dst: &out.view,
            offset: 0,
            cols: 0..10,
        }],
    )
    .unwrap();
    let diff = (out.view - expected)
        .unwrap()
        .abs()
        .unwrap()
        .max_all()
        .unwrap()
        .to_scalar::<f32>()
        .unwrap();
    assert!(diff < 1e-5, "{diff}");
}

#[test]
fn recycled_buffers_give_the_same_results() {
    // A workspace hands back a previously used buffer: results must not depend on its contents.
    let input = shape(1, 3, 6, 6, 24);
    let spec = ConvSpec {
        name: "c",
        kernel: [3, 3, 3],
        stride: [1, 1, 1],
        cin: 24,
        cout: 8,
        relu: true,
    };
    // A stride-1 3×3×3 conv: the Winograd path (its scratch is recycled too).
    let unit = Unit3d::from_weight(
        spec,
        Tensor::from_vec(values(spec.weight_len(), 9), (spec.k(), 8), &Device::Cpu).unwrap(),
        values(8, 10),
        (28, 28),
    )
    .unwrap();
    assert!(matches!(unit.weight, ConvWeight::Winograd(_)));
    let a = Tensor::from_vec(
        values(input.elements(), 11),
        input.dims().to_vec(),
        &Device::Cpu,
    )
    .unwrap();
    let b = Tensor::from_vec(
        values(input.elements(), 12),
        input.dims().to_vec(),
        &Device::Cpu,
    )
    .unwrap();
    let fresh_b = unit
        .forward(&b)
        .unwrap()
        .flatten_all()
        .unwrap()
        .to_vec1::<f32>()
        .unwrap();
    let mut ws = Workspace::default();
    let first = unit.forward_ws(&a, &mut ws).unwrap();
    ws.give(first);
    let second = unit.forward_ws(&b, &mut ws).unwrap();
    assert_eq!(
        second.view.flatten_all().unwrap().to_vec1::<f32>().unwrap(),
        fresh_b
    );
    assert!(ws.bytes() > 0);
}

#[test]
fn time_taps_skip_the_temporal_padding() {
    // The stem at T = 16 (SAME pads 2 before, 3 after): output frame 0 reads input frames
    // −2..5, frame 6 reads 10..17 and frame 7 reads 12..19.
    let g = Geometry::same(shape(1, 16, 224, 224, 3), [7, 7, 7], [2, 2, 2], 64);
    assert_eq!(g.output.t, 8);
    assert_eq!(g.time_taps(0), (2, 7));
    assert_eq!(g.time_taps(1), (0, 7));
    assert_eq!(g.time_taps(5), (0, 7));
    assert_eq!(g.time_taps(6), (0, 6));
    assert_eq!(g.time_taps(7), (0, 4));
    // 3×3×3 stride 1: the first and last frames lose one tap each.
    let g = Geometry::same(shape(1, 4, 14, 14, 8), [3, 3, 3], [1, 1, 1], 8);
    assert_eq!(
        (0..4).map(|t| g.time_taps(t)).collect::<Vec<_>>(),
        vec![(1, 3), (0, 3), (0, 3), (0, 2)]
    );
    // A single frame: only the centre tap.
    let g = Geometry::same(shape(1, 1, 7, 7, 8), [3, 3, 3], [1, 1, 1], 8);
    assert_eq!(g.time_taps(0), (1, 2));
}

/// The input shapes of I3D's stride-1 3×3×3 convolutions for a 16×224×224 clip, from the layer
/// table: (name, input N×T×H×W×cin, cout).
fn winograd_layers() -> Vec<(&'static str, Shape, usize)> {
    winograd::network_convs(16)
        .unwrap()
        .into_iter()
        .map(|(spec, input)| (spec.name, input, spec.cout))
        .collect()
}

/// Winograd's conv of `x` (without ReLU) against the f64 direct reference: rel. L2.
fn winograd_rel_l2(input: Shape, cout: usize, seed: u64) -> f64 {
    let spec = ConvSpec {
        name: "winograd",
        kernel: [3, 3, 3],
        stride: [1, 1, 1],
        cin: input.c,
        cout,
        relu: false,
    };
    let x = values(input.elements(), seed);
    // Weights scaled like trained ones (variance ~ 1/K), so outputs stay O(1).
    let scale = (3.0 / spec.k() as f32).sqrt();
    let w: Vec<f32> = values(spec.weight_len(), seed + 1)
        .iter()
        .map(|v| v * scale)
        .collect();
    let b = values(cout, seed + 2);
    let weight = Tensor::from_vec(w.clone(), (spec.k(), cout), &Device::Cpu).unwrap();
    // Forced, whatever `winograd::preferred` says of these channels.
    let unit = Unit3d {
        spec,
        weight: ConvWeight::Winograd(WinogradWeight::from_direct(&weight, input.c, cout).unwrap()),
        bias: b.clone(),
    };
    let xt = Tensor::from_vec(x.clone(), input.dims().to_vec(), &Device::Cpu).unwrap();
    let ours = unit.forward(&xt).unwrap();
    assert_eq!(ours.dims(), &Shape { c: cout, ..input }.dims());
    let ours = ours.flatten_all().unwrap().to_vec1::<f32>().unwrap();
    let (direct, _) = reference::conv3d(&x, input, &w, &b, &spec);
    reference::rel_l2(&ours, &direct)
}

#[test]
fn winograd_matches_f64_reference_for_every_i3d_3x3x3_layer() {
    // Real channel counts; T, H and W cut (odd sizes, T = 1, 2, 3) to keep the f64 reference
    // (unoptimised in a debug build) to ~60 M multiply-adds per layer.
    const SEED: u64 = 2026;
    println!("seed {SEED}");
    let layers = winograd_layers();
    assert_eq!(layers.len(), 19);
    for (i, &(name, real, cout)) in layers.iter().enumerate() {
        let per_position = 27 * real.c * cout;
        let t = real.t.min([3, 1, 2][i % 3]);
        let mut side = real.h.min(9);
        while side > 3 && t * side * (side + 2).min(real.w) * per_position > 60_000_000 {
            side -= 2;
        }
        let input = Shape {
            n: 1,
            t,
            h: side,
            w: (side + 2).min(real.w),
            c: real.c,
        };
        let err = winograd_rel_l2(input, cout, SEED + i as u64 * 10);
        println!("{name}: real input {real}, tested {input} → {cout}: rel L2 {err:.2e}");
        assert!(err < 1e-5, "{name} {input}: rel L2 {err}");
    }
}

#[test]
fn winograd_rule_picks_4_of_the_19_convs_in_the_browser_13_natively() {
    let layers = winograd_layers();
    let picked: Vec<_> = layers
        .iter()
        .filter(|(_, input, cout)| {
            let spec = ConvSpec {
                name: "",
                kernel: [3, 3, 3],
                stride: [1, 1, 1],
                cin: input.c,
                cout: *cout,
                relu: true,
            };
            winograd::preferred(&spec, (input.h, input.w))
        })
        .map(|(name, _, _)| *name)
        .collect();
    let browser = cfg!(target_arch = "wasm32");
    assert_eq!(picked.len(), if browser { 4 } else { 13 }, "{picked:?}");
    assert!(picked.contains(&"Conv3d_2c_3x3"), "{picked:?}");
    assert_eq!(
        picked.iter().any(|name| name.starts_with("Mixed_4")),
        !browser
    );
    assert!(picked.iter().all(|name| !name.starts_with("Mixed_5")));
    assert!(!picked.contains(&"Mixed_3b.Branch_2.Conv3d_0b_3x3"));
    assert!(!picked.contains(&"Mixed_4b.Branch_2.Conv3d_0b_3x3"));
}

#[test]
fn winograd_full_mixed_5_sizes_and_several_chunks() {
    // Mixed_5b's branch 2 at its real size (2×7×7, partial tiles on every axis), and a large
    // input with few channels: several chunks of tiles (CHUNK_BUDGET) and batch 2.
    assert!(winograd_rel_l2(shape(1, 2, 7, 7, 32), 128, 7) < 1e-5);
    let input = shape(2, 3, 41, 33, 16);
    let tiles = 2 * 2 * 21 * 17;
    assert!(tiles * 64 * 4 * 32 > winograd::CHUNK_BUDGET);
    assert!(winograd_rel_l2(input, 16, 8) < 1e-5);
}

#[test]
fn winograd_writes_its_channel_slice_with_relu() {
    // As an Inception branch: into channels [5, 5 + cout) of a wider destination, ReLU'd;
    // the other channels keep their values. Same result as the direct path.
    let input = shape(2, 3, 5, 6, 24);
    let spec = ConvSpec {
        name: "b1b",
        kernel: [3, 3, 3],
        stride: [1, 1, 1],
        cin: 24,
        cout: 7,
        relu: true,
    };
    // Weights ~ 1/√K, so outputs are O(1) and the tolerance absolute.
    let w: Vec<f32> = values(spec.weight_len(), 20)
        .iter()
        .map(|v| v * 0.05)
        .collect();
    let w = Tensor::from_vec(w, (spec.k(), 7), &Device::Cpu).unwrap();
    let b = values(7, 21);
    let direct = Unit3d {
        spec,
        weight: ConvWeight::Direct(w.clone()),
        bias: b.clone(),
    };
    let wino = Unit3d::from_weight(spec, w, b, (28, 28)).unwrap();
    assert!(matches!(wino.weight, ConvWeight::Winograd(_)));
    let x = Tensor::from_vec(
        values(input.elements(), 22),
        input.dims().to_vec(),
        &Device::Cpu,
    )
    .unwrap();
    let wide = Shape { c: 16, ..input };
    let dst = Tensor::from_vec(
        values(wide.elements(), 23),
        wide.dims().to_vec(),
        &Device::Cpu,
    )
    .unwrap();
    let before = dst.copy().unwrap();
    let mut ws = Workspace::default();
    wino.forward_into(&x, &mut ws, &dst, 5).unwrap();
    let expected = direct.forward(&x).unwrap();
    let ours = dst.narrow(4, 5, 7).unwrap();
    let diff = (ours - &expected)
        .unwrap()
        .abs()
        .unwrap()
        .max_all()
        .unwrap()
        .to_scalar::<f32>()
        .unwrap();
    assert!(diff < 1e-5, "{diff}");
    for (lo, len) in [(0, 5), (12, 4)] {
        let same = dst
            .narrow(4, lo, len)
            .unwrap()
            .flatten_all()
            .unwrap()
            .to_vec1::<f32>();
        let was = before
            .narrow(4, lo, len)
            .unwrap()
            .flatten_all()
            .unwrap()
            .to_vec1::<f32>();
        assert_eq!(same.unwrap(), was.unwrap());
    }
}
