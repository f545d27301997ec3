//! The whole network on wgpu against the candle CPU path and the JAX reference fixture, with the
//! real converted weights. Without an adapter or the weights these tests skip (reason printed) in a
//! plain `cargo test` and fail under `cargo xtask test`, which provides both.
#![cfg(not(target_arch = "wasm32"))]
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::Instant;

use candle_core::{Device, Tensor};
use common::*;
use i3d_core::arch::Shape;
use i3d_core::postprocess::top_indices;
use i3d_core::reference::Fixture;
use i3d_cpu::InceptionI3d;
use i3d_gpu::{Error, GpuI3d, Precision, RunOptions};

fn weights(precision: Precision) -> Option<Vec<u8>> {
    i3d_core::reference::test_weights(precision)
}

fn fixture() -> Fixture {
    let bytes = i3d_core::reference::shared_file("fixtures/i3d_ref_smooth16.safetensors")
        .expect("the reference fixture");
    Fixture::from_bytes(&bytes).unwrap()
}

fn cpu_logits(model: &InceptionI3d, input: &[f32], frames: usize) -> Vec<f32> {
    let x = Tensor::from_slice(input, Shape::clip(frames).dims().to_vec(), &Device::Cpu).unwrap();
    model
        .logits(&x)
        .unwrap()
        .flatten_all()
        .unwrap()
        .to_vec1()
        .unwrap()
}

#[test]
fn fixture_logits_match_the_reference_and_the_cpu_path_in_f32() {
    let Some(ctx) = context() else { return };
    let Some(bytes) = weights(Precision::F32) else {
        return;
    };
    let fixture = fixture();
    let input: Vec<f32> = fixture.input.clone();
    let mut gpu = GpuI3d::new(ctx, &bytes, Precision::F32).unwrap();
    let start = Instant::now();
    let out = gpu
        .run_blocking(
            &input,
            16,
            RunOptions {
                features: true,
                profile: false,
            },
        )
        .unwrap();
    eprintln!(
        "wgpu f32, T = 16: {:.2} s (first run, pipelines included)",
        start.elapsed().as_secs_f64()
    );
    let vs_reference = rel_l2(&out.logits, &fixture.logits);
    let cpu = cpu_logits(
        &InceptionI3d::from_safetensors_bytes(&bytes).unwrap(),
        &input,
        16,
    );
    let vs_cpu = rel_l2(&out.logits, &cpu);
    eprintln!("rel L2 vs JAX reference {vs_reference:.2e}, vs candle CPU {vs_cpu:.2e}");
    assert!(vs_reference < 1e-4, "{vs_reference}");
    assert!(vs_cpu < 1e-4, "{vs_cpu}");
    assert_eq!(top_indices(&out.logits, 5), vec![327, 328, 35, 21, 31]);
    assert_eq!(top_indices(&out.logits, 5), top_indices(&cpu, 5));
    // Every dispatch of the plan belongs to a layer, in network order, and every layer has one:
    // what per-layer times are summed by.
    let layers: Vec<_> = gpu
        .plan(16)
        .unwrap()
        .steps
        .iter()
        .map(|s| s.layer)
        .collect();
    assert!(layers.windows(2).all(|w| w[0] <= w[1]), "{layers:?}");
    let mut distinct: Vec<_> = layers.into_iter().map(Option::unwrap).collect();
    distinct.dedup();
    assert_eq!(distinct, i3d_core::arch::LayerId::all().collect::<Vec<_>>());
    // Mixed_5c features: 1×2×7×7×1024; their mean over positions is the reference's pooled vector.
    let (features, shape) = out.features.unwrap();
    assert_eq!(shape.dims(), [1, 2, 7, 7, 1024]);
    if let Some(pooled) = &fixture.pooled {
        let mut mean = vec![0.0f32; 1024];
        for row in features.chunks_exact(1024) {
            for (m, v) in mean.iter_mut().zip(row) {
                *m += v / 98.0;
            }
        }
        let err = rel_l2(&mean, pooled);
        eprintln!("Mixed_5c pooled: rel L2 {err:.2e}");
        assert!(err < 1e-4);
    }
}

#[test]
fn random_clip_matches_the_cpu_path_in_f32() {
    let Some(ctx) = context() else { return };
    let Some(bytes) = weights(Precision::F32) else {
        return;
    };
    let mut rng = rng("random clip");
    // The smallest clip (T = 9) keeps lavapipe fast; every layer still runs, with odd sizes in time.
    let frames = 9;
    let input = uniform(&mut rng, Shape::clip(frames).elements(), -1.0, 1.0);
    let mut gpu = GpuI3d::new(ctx, &bytes, Precision::F32).unwrap();
    let logits = pollster::block_on(gpu.logits(&input, frames)).unwrap();
    let cpu = cpu_logits(
        &InceptionI3d::from_safetensors_bytes(&bytes).unwrap(),
        &input,
        frames,
    );
    let err = rel_l2(&logits, &cpu);
    eprintln!(
        "random T = {frames}: rel L2 vs candle CPU {err:.2e}, top-5 {:?}",
        top_indices(&logits, 5)
    );
    assert!(err < 1e-4, "{err}");
    assert_eq!(top_indices(&logits, 5), top_indices(&cpu, 5));
}

#[test]
fn f16_storage_keeps_the_ranking() {
    let Some(ctx) = context() else { return };
    if !ctx.supports(Precision::F16) {
        eprintln!("skipping: {} has no shader-f16", ctx.summary.name);
        return;
    }
    let Some(bytes) = weights(Precision::F16) else {
        return;
    };
    let fixture = fixture();
    let input: Vec<f32> = fixture.input.clone();
    let mut gpu = GpuI3d::new(ctx, &bytes, Precision::F16).unwrap();
    let logits = pollster::block_on(gpu.logits(&input, 16)).unwrap();
    let err = rel_l2(&logits, &fixture.logits);
    eprintln!(
        "f16 storage: rel L2 vs reference {err:.2e}, top-5 {:?}",
        top_indices(&logits, 5)
    );
    assert!(err < 2e-2, "{err}");
    assert_eq!(top_indices(&logits, 1), vec![327]);
}

#[test]
fn clips_beyond_the_binding_limit_are_a_typed_error() {
    let Some(ctx) = context() else { return };
    let Some(bytes) = weights(Precision::F32) else {
        return;
    };
    let limit = ctx.summary.max_storage_binding;
    let mut gpu = GpuI3d::new(ctx, &bytes, Precision::F32).unwrap();
    // The stem output is ⌈T/2⌉×112×112×64 f32: the longest clip that fits one binding.
    let max = gpu.max_frames();
    assert_eq!(max, 2 * (limit / (112 * 112 * 64 * 4)) as usize);
    let frames = max + 1;
    match gpu.plan(frames) {
        Err(Error::BufferTooLarge { label, size, .. }) => {
            eprintln!("T = {frames}: `{label}` needs {size} bytes > {limit}");
        }
        other => panic!("expected BufferTooLarge, got {:?}", other.map(|p| p.frames)),
    }
    assert!(matches!(
        gpu.plan(8),
        Err(Error::I3d(i3d_core::Error::TooFewFrames { .. }))
    ));
    assert!(matches!(
        pollster::block_on(gpu.logits(&[0.5; 10], 9)),
        Err(Error::InputLength { .. })
    ));
}
