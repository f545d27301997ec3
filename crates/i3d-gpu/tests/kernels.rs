//! Every kernel against a direct CPU reference, on fresh random inputs (seed printed) and random
//! or awkward shapes: odd sizes, T = 9, stride 2, asymmetric SAME padding, the cin = 3 stem,
//! channel counts that are not multiples of 4, channel-slice inputs and split outputs.
//! Runs on whatever adapter wgpu finds (lavapipe here); skips with a printed reason without one.
#![cfg(not(target_arch = "wasm32"))]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::too_many_arguments)]

mod common;

use common::*;
use i3d_core::arch::{ConvSpec, Dims3, PoolSpec, Shape};
use i3d_gpu::context::{decode, encode};
use i3d_gpu::ops::{self, ConvWeights, Region};
use i3d_gpu::{Error, GpuContext, Precision};
use rand::Rng;

struct ConvCase {
    input: Shape,
    kernel: Dims3,
    stride: Dims3,
    cout: usize,
}

const fn shape(t: usize, h: usize, w: usize, c: usize) -> Shape {
    Shape { n: 1, t, h, w, c }
}

fn run(
    ctx: &GpuContext,
    steps: &[ops::Dispatch],
    out: &wgpu::Buffer,
    values: usize,
    p: Precision,
) -> Vec<f32> {
    let bytes =
        pollster::block_on(ops::run_once(ctx, steps, out, values as u64 * p.bytes())).unwrap();
    decode(&bytes, p)
}

/// Runs one conv on the GPU: returns (output, vector width used).
#[allow(clippy::too_many_arguments)]
fn gpu_conv(
    ctx: &GpuContext,
    p: Precision,
    x: &[f32],
    input: Shape,
    w: &[f32],
    bias: &[f32],
    kernel: Dims3,
    stride: Dims3,
    cout: usize,
    relu: bool,
) -> (Vec<f32>, u32) {
    let weights =
        ConvWeights::new(ctx, "test", kernel, stride, input.c, cout, relu, w, bias, p).unwrap();
    let (o, _) = same(input, kernel, stride);
    let out_elems = input.n * o[0] * o[1] * o[2] * cout;
    let xb = ctx.upload("x", &encode(x, p)).unwrap();
    let yb = ctx.storage("y", out_elems as u64 * p.bytes()).unwrap();
    let step = ops::conv3d(
        ctx,
        "conv",
        &weights,
        Region::dense(&xb, input.c),
        input,
        Region::dense(&yb, cout),
        None,
    )
    .unwrap();
    let width = step.kernel.width;
    (run(ctx, &[step], &yb, out_elems, p), width)
}

#[test]
fn conv3d_matches_direct_convolution_on_awkward_shapes() {
    let Some(ctx) = context() else { return };
    let mut rng = rng("conv3d");
    let cases = [
        // The stem: cin = 3, 7×7×7 stride 2, asymmetric padding in t and h (2 before, 3 after).
        ConvCase {
            input: shape(10, 16, 13, 3),
            kernel: [7, 7, 7],
            stride: [2, 2, 2],
            cout: 64,
        },
        // T = 9, odd H and W, cin = 3, cout = 16.
        ConvCase {
            input: shape(9, 11, 11, 3),
            kernel: [7, 7, 7],
            stride: [2, 2, 2],
            cout: 16,
        },
        // 4-vector path, a partial N tile, odd sizes.
        ConvCase {
            input: shape(9, 7, 5, 8),
            kernel: [3, 3, 3],
            stride: [1, 1, 1],
            cout: 20,
        },
        // cin and cout not multiples of 4, 1×3×3 stride (1, 2, 2).
        ConvCase {
            input: shape(4, 9, 9, 6),
            kernel: [1, 3, 3],
            stride: [1, 2, 2],
            cout: 10,
        },
        // 1×1×1 with partial M tiles (M = 507).
        ConvCase {
            input: shape(3, 13, 13, 64),
            kernel: [1, 1, 1],
            stride: [1, 1, 1],
            cout: 96,
        },
        // Stride 2 in every axis with 0-before/1-after padding in h and w.
        ConvCase {
            input: shape(9, 10, 10, 20),
            kernel: [3, 3, 3],
            stride: [2, 2, 2],
            cout: 36,
        },
        // cin = 24: K slices of 16 straddle taps (as in Mixed_4c/4d branch 2).
        ConvCase {
            input: shape(5, 6, 7, 24),
            kernel: [3, 3, 3],
            stride: [1, 1, 1],
            cout: 48,
        },
        // A random shape.
        ConvCase {
            input: shape(
                rng.random_range(2..8),
                rng.random_range(3..12),
                rng.random_range(3..12),
                4 * rng.random_range(1..12),
            ),
            kernel: [rng.random_range(1..4), 3, rng.random_range(1..4)],
            stride: [rng.random_range(1..3), rng.random_range(1..3), 1],
            cout: 4 * rng.random_range(1..40),
        },
    ];
    let mut saw_asymmetric = false;
    for case in &cases {
        let ConvCase {
            input,
            kernel,
            stride,
            cout,
        } = *case;
        let k = kernel.iter().product::<usize>() * input.c;
        let x = uniform(&mut rng, input.elements(), -1.0, 1.0);
        let w = uniform(&mut rng, k * cout, -0.2, 0.2);
        let bias = uniform(&mut rng, cout, -0.5, 0.5);
        let relu = rng.random_bool(0.5);
        for axis in 0..3 {
            let (_, before, after) =
                i3d_core::arch::same_padding(input.thw()[axis], kernel[axis], stride[axis]);
            saw_asymmetric |= before != after;
        }
        let (want, _) = conv3d_ref(&x, input, &w, &bias, kernel, stride, cout, relu);
        let (got, width) = gpu_conv(
            &ctx,
            Precision::F32,
            &x,
            input,
            &w,
            &bias,
            kernel,
            stride,
            cout,
            relu,
        );
        let err = rel_l2(&got, &want);
        eprintln!(
            "{input} k{kernel:?} s{stride:?} → {cout} relu {relu}: vec{width}, rel L2 {err:.2e}"
        );
        assert_eq!(
            width,
            if input.c.is_multiple_of(4) && cout.is_multiple_of(4) {
                4
            } else {
                1
            }
        );
        assert!(err < 1e-5, "{input} k{kernel:?} s{stride:?}: rel L2 {err}");
    }
    assert!(saw_asymmetric);
}

#[test]
fn conv3d_matches_the_candle_layer() {
    let Some(ctx) = context() else { return };
    let mut rng = rng("conv3d vs candle");
    let input = shape(9, 15, 17, 3);
    let spec = ConvSpec {
        name: "stem",
        kernel: [7, 7, 7],
        stride: [2, 2, 2],
        cin: 3,
        cout: 64,
        relu: true,
    };
    let x = uniform(&mut rng, input.elements(), -1.0, 1.0);
    let w = uniform(&mut rng, spec.weight_len(), -0.1, 0.1);
    let bias = uniform(&mut rng, 64, -0.5, 0.5);
    let unit = i3d_cpu::layers::Unit3d {
        spec,
        weight: i3d_cpu::layers::ConvWeight::Direct(
            candle_core::Tensor::from_slice(&w, (spec.k(), 64), &candle_core::Device::Cpu).unwrap(),
        ),
        bias: bias.clone(),
    };
    let xt = candle_core::Tensor::from_slice(&x, input.dims().to_vec(), &candle_core::Device::Cpu)
        .unwrap();
    let want: Vec<f32> = candle_core::Module::forward(&unit, &xt)
        .unwrap()
        .flatten_all()
        .unwrap()
        .to_vec1()
        .unwrap();
    let (got, _) = gpu_conv(
        &ctx,
        Precision::F32,
        &x,
        input,
        &w,
        &bias,
        spec.kernel,
        spec.stride,
        64,
        true,
    );
    let err = rel_l2(&got, &want);
    eprintln!("stem vs candle Unit3d: rel L2 {err:.2e}");
    assert!(err < 1e-5);
}

/// A conv reading a channel slice of a wider tensor and writing columns [0, split) into one
/// channel slice and [split, cout) into another buffer's slice; everything else stays untouched.
fn sliced_conv(
    ctx: &GpuContext,
    in_stride: usize,
    in_offset: usize,
    cin: usize,
    (s0, o0): (usize, usize),
    (s1, o1): (usize, usize),
    split: usize,
    cout: usize,
    expect_width: u32,
) {
    let mut rng = rng("sliced conv");
    let input = shape(3, 5, 7, cin);
    let (kernel, stride) = ([3, 3, 3], [1, 1, 1]);
    let m = input.positions();
    let wide = uniform(&mut rng, m * in_stride, -1.0, 1.0);
    let x: Vec<f32> = wide
        .chunks_exact(in_stride)
        .flat_map(|r| r[in_offset..in_offset + cin].to_vec())
        .collect();
    let w = uniform(&mut rng, 27 * cin * cout, -0.2, 0.2);
    let bias = uniform(&mut rng, cout, -0.5, 0.5);
    let (want, _) = conv3d_ref(&x, input, &w, &bias, kernel, stride, cout, true);
    let p = Precision::F32;
    let weights =
        ConvWeights::new(ctx, "sliced", kernel, stride, cin, cout, true, &w, &bias, p).unwrap();
    let xb = ctx.upload("x", &encode(&wide, p)).unwrap();
    let sentinel = 7.0f32;
    let y0 = ctx
        .upload("y0", &encode(&vec![sentinel; m * s0], p))
        .unwrap();
    let y1 = ctx
        .upload("y1", &encode(&vec![sentinel; m * s1], p))
        .unwrap();
    let step = ops::conv3d(
        ctx,
        "sliced",
        &weights,
        Region {
            buffer: &xb,
            stride: in_stride,
            offset: in_offset,
        },
        input,
        Region {
            buffer: &y0,
            stride: s0,
            offset: o0,
        },
        Some((
            Region {
                buffer: &y1,
                stride: s1,
                offset: o1,
            },
            split,
        )),
    )
    .unwrap();
    assert_eq!(step.kernel.width, expect_width);
    let got0 = run(ctx, std::slice::from_ref(&step), &y0, m * s0, p);
    let got1 = run(ctx, &[], &y1, m * s1, p);
    for pos in 0..m {
        for c in 0..s0 {
            let v = got0[pos * s0 + c];
            if (o0..o0 + split).contains(&c) {
                let r = want[pos * cout + c - o0];
                assert!(
                    (v - r).abs() <= 1e-4 * (1.0 + r.abs()),
                    "dst0 pos {pos} ch {c}: {v} vs {r}"
                );
            } else {
                assert_eq!(v, sentinel, "dst0 pos {pos} ch {c} was overwritten");
            }
        }
        for c in 0..s1 {
            let v = got1[pos * s1 + c];
            if (o1..o1 + cout - split).contains(&c) {
                let r = want[pos * cout + split + c - o1];
                assert!(
                    (v - r).abs() <= 1e-4 * (1.0 + r.abs()),
                    "dst1 pos {pos} ch {c}: {v} vs {r}"
                );
            } else {
                assert_eq!(v, sentinel, "dst1 pos {pos} ch {c} was overwritten");
            }
        }
    }
}

#[test]
fn conv3d_reads_and_writes_channel_slices() {
    let Some(ctx) = context() else { return };
    // 4-aligned: the 4-vector variant (as the Inception blocks use it).
    sliced_conv(&ctx, 20, 8, 12, (40, 8), (28, 4), 16, 36, 4);
    // Unaligned: the scalar variant.
    sliced_conv(&ctx, 11, 3, 6, (23, 5), (13, 1), 7, 17, 1);
}

#[test]
fn maxpool3d_matches_direct_pooling_with_minus_infinity_padding() {
    let Some(ctx) = context() else { return };
    let mut rng = rng("maxpool3d");
    let cases: [(Shape, Dims3, Dims3); 5] = [
        (shape(3, 9, 10, 12), [1, 3, 3], [1, 2, 2]),
        (shape(9, 7, 7, 6), [3, 3, 3], [2, 2, 2]),
        (shape(5, 7, 7, 8), [2, 2, 2], [2, 2, 2]),
        (shape(4, 5, 6, 16), [3, 3, 3], [1, 1, 1]),
        (
            shape(
                rng.random_range(1..9),
                rng.random_range(1..12),
                rng.random_range(1..12),
                rng.random_range(1..20),
            ),
            [3, 3, 3],
            [2, 2, 2],
        ),
    ];
    for (input, kernel, stride) in cases {
        // All-negative inputs: a zero padding would win and show up.
        let x = uniform(&mut rng, input.elements(), -3.0, -0.5);
        let (want, out) = maxpool_ref(&x, input, kernel, stride);
        for p in [Precision::F32, Precision::F16] {
            if !ctx.supports(p) {
                continue;
            }
            let xb = ctx.upload("x", &encode(&x, p)).unwrap();
            let yb = ctx.storage("y", out.elements() as u64 * p.bytes()).unwrap();
            let pool = PoolSpec { kernel, stride };
            let step = ops::maxpool3d(&ctx, "pool", p, &xb, input, pool, &yb).unwrap();
            let got = run(&ctx, &[step], &yb, out.elements(), p);
            eprintln!(
                "{input} k{kernel:?} s{stride:?} {p}: max |Δ| {:.2e}",
                max_abs_diff(&got, &want)
            );
            match p {
                Precision::F32 => assert_eq!(got, want, "{input} k{kernel:?} s{stride:?}"),
                Precision::F16 => assert!(max_abs_diff(&got, &want) <= 3.0 / 1024.0),
            }
        }
    }
}

#[test]
fn avgpool3d_matches_direct_pooling() {
    let Some(ctx) = context() else { return };
    let mut rng = rng("avgpool3d");
    for (input, kernel) in [
        (shape(3, 7, 7, 32), [2, 7, 7]),
        (shape(4, 5, 6, 5), [2, 3, 3]),
        (shape(2, 7, 7, 1024), [2, 7, 7]),
    ] {
        let x = uniform(&mut rng, input.elements(), -2.0, 2.0);
        let (want, out) = avgpool_ref(&x, input, kernel);
        let p = Precision::F32;
        let xb = ctx.upload("x", &encode(&x, p)).unwrap();
        let yb = ctx.storage("y", out.elements() as u64 * 4).unwrap();
        let step = ops::avgpool3d(&ctx, "avg", p, &xb, input, kernel, &yb).unwrap();
        let got = run(&ctx, &[step], &yb, out.elements(), Precision::F32);
        let err = rel_l2(&got, &want);
        eprintln!("{input} k{kernel:?}: rel L2 {err:.2e}");
        assert!(err < 1e-6);
    }
}

#[test]
fn logits_average_a_biased_projection_over_positions() {
    let Some(ctx) = context() else { return };
    let mut rng = rng("logits");
    let (positions, c, classes) = (3, 64, 40);
    let x = uniform(&mut rng, positions * c, -1.0, 1.0);
    let w = uniform(&mut rng, c * classes, -0.3, 0.3);
    let bias = uniform(&mut rng, classes, -1.0, 1.0);
    let want: Vec<f32> = (0..classes)
        .map(|j| {
            let s: f64 = (0..positions)
                .flat_map(|q| (0..c).map(move |i| (q, i)))
                .map(|(q, i)| f64::from(x[q * c + i]) * f64::from(w[i * classes + j]))
                .sum();
            (s / positions as f64 + f64::from(bias[j])) as f32
        })
        .collect();
    let weights = ConvWeights::new(
        &ctx,
        "logits",
        [1, 1, 1],
        [1, 1, 1],
        c,
        classes,
        false,
        &w,
        &bias,
        Precision::F32,
    )
    .unwrap();
    let xb = ctx.upload("x", bytemuck::cast_slice(&x)).unwrap();
    let yb = ctx.storage("y", classes as u64 * 4).unwrap();
    let step = ops::logits(&ctx, "logits", &weights, &xb, 1, positions, &yb).unwrap();
    let got = run(&ctx, &[step], &yb, classes, Precision::F32);
    let err = rel_l2(&got, &want);
    eprintln!("logits: rel L2 {err:.2e}");
    assert!(err < 1e-6);
}

#[test]
fn gemm_matches_a_cpu_product() {
    let Some(ctx) = context() else { return };
    let mut rng = rng("gemm");
    let (m, n, k) = (
        100 + rng.random_range(0..50),
        4 * rng.random_range(1..30),
        4 * rng.random_range(1..40),
    );
    let a = uniform(&mut rng, m * k, -1.0, 1.0);
    let b = uniform(&mut rng, k * n, -1.0, 1.0);
    let mut want = vec![0.0f32; m * n];
    for i in 0..m {
        for j in 0..n {
            want[i * n + j] = (0..k)
                .map(|l| f64::from(a[i * k + l]) * f64::from(b[l * n + j]))
                .sum::<f64>() as f32;
        }
    }
    let p = Precision::F32;
    // B padded like a conv weight: (k rounded up to 16) × (n rounded up to 64).
    let weights = ConvWeights::new(
        &ctx,
        "b",
        [1, 1, 1],
        [1, 1, 1],
        k,
        n,
        false,
        &b,
        &vec![0.0; n],
        p,
    )
    .unwrap();
    let ab = ctx.upload("a", &encode(&a, p)).unwrap();
    let cb = ctx.storage("c", (m * n) as u64 * 4).unwrap();
    let step = ops::gemm(
        &ctx,
        "gemm",
        p,
        &ab,
        &weights.weight,
        &cb,
        [m, n, k],
        weights.n_pad,
    )
    .unwrap();
    let got = run(&ctx, &[step], &cb, m * n, p);
    let err = rel_l2(&got, &want);
    eprintln!("gemm {m}×{n}×{k}: rel L2 {err:.2e}");
    assert!(err < 1e-6);
}

#[test]
fn f16_storage_variants_match_within_half_precision() {
    let Some(ctx) = context() else { return };
    if !ctx.supports(Precision::F16) {
        eprintln!("skipping: {} has no shader-f16", ctx.summary.name);
        return;
    }
    let mut rng = rng("f16 conv");
    for (input, kernel, stride, cout) in [
        (shape(9, 11, 11, 3), [7, 7, 7], [2, 2, 2], 64),
        (shape(5, 7, 9, 32), [3, 3, 3], [1, 1, 1], 48),
    ] {
        let k = kernel.iter().product::<usize>() * input.c;
        // Values representable in f16, so only the accumulation order and the output rounding differ.
        let round = |v: Vec<f32>| {
            v.into_iter()
                .map(|x| half::f16::from_f32(x).to_f32())
                .collect::<Vec<_>>()
        };
        let x = round(uniform(&mut rng, input.elements(), -1.0, 1.0));
        let w = round(uniform(&mut rng, k * cout, -0.2, 0.2));
        let bias = uniform(&mut rng, cout, -0.5, 0.5);
        let (want, _) = conv3d_ref(&x, input, &w, &bias, kernel, stride, cout, true);
        let (got, width) = gpu_conv(
            &ctx,
            Precision::F16,
            &x,
            input,
            &w,
            &bias,
            kernel,
            stride,
            cout,
            true,
        );
        let err = rel_l2(&got, &want);
        eprintln!("f16 {input} k{kernel:?}: vec{width}, rel L2 {err:.2e}");
        assert!(err < 2e-3, "rel L2 {err}");
    }
}

#[test]
fn exceeded_limits_are_typed_errors() {
    let Some(ctx) = context() else { return };
    let too_big = ctx.summary.max_storage_binding + 16;
    match ctx.storage("huge", too_big) {
        Err(Error::BufferTooLarge { limit_name, .. }) => {
            assert!(limit_name == "maxStorageBufferBindingSize" || limit_name == "maxBufferSize")
        }
        other => panic!("expected BufferTooLarge, got {other:?}"),
    }
    let max = u64::from(ctx.summary.max_workgroups_per_dimension);
    assert!(matches!(
        ctx.workgroups("wide", max * max + 1, 1),
        Err(Error::TooManyWorkgroups { .. })
    ));
    // More than maxComputeWorkgroupsPerDimension workgroups are split over x and y.
    let [x, y, _] = ctx.workgroups("split", max + 10, 1).unwrap();
    assert!(y > 1 && u64::from(x) * u64::from(y) >= max + 10);
}

#[test]
fn dispatches_beyond_the_per_dimension_limit_are_split() {
    let Some(ctx) = context() else { return };
    let mut rng = rng("split dispatch");
    // One thread per element (scalar, C = 1): more than 65535 workgroups of 256 threads.
    let max = ctx.summary.max_workgroups_per_dimension as usize;
    let side = ((max * 256 + 1000) as f64).sqrt().ceil() as usize;
    let input = shape(1, side, side, 1);
    if input.elements() as u64 * 4 > ctx.summary.max_storage_binding {
        eprintln!("skipping: {input} does not fit one binding");
        return;
    }
    let x = uniform(&mut rng, input.elements(), -1.0, 1.0);
    let xb = ctx.upload("x", &encode(&x, Precision::F32)).unwrap();
    let yb = ctx.storage("y", input.elements() as u64 * 4).unwrap();
    let pool = PoolSpec {
        kernel: [1, 1, 1],
        stride: [1, 1, 1],
    };
    let step = ops::maxpool3d(&ctx, "copy", Precision::F32, &xb, input, pool, &yb).unwrap();
    assert!(step.workgroups[1] > 1, "{:?}", step.workgroups);
    let got = run(&ctx, &[step], &yb, input.elements(), Precision::F32);
    assert!(got == x, "the split dispatch missed or repeated elements");
}
