//! The whole network on wgpu against the candle CPU path and the JAX reference fixture, with the
//! real converted weights. Skips (reason printed) without an adapter or without the weights
//! directory (`cargo xtask weights` creates it).
#![cfg(not(target_arch = "wasm32"))]
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::path::PathBuf;
use std::time::Instant;

use candle_core::{Device, Tensor};
use common::*;
use i3d::arch::Shape;
use i3d::parity::Fixture;
use i3d::postprocess::top_indices;
use i3d::InceptionI3d;
use i3d_gpu::{Error, GpuI3d, Precision, RunOptions};

fn weights(file: &str) -> Option<Vec<u8>> {
    let dir: PathBuf = checkpoint::resolve_weights_dir(None).ok()?;
    let path = dir.join(file);
    match std::fs::read(&path) {
        Ok(bytes) => Some(bytes),
        Err(e) => {
            eprintln!(
                "skipping: {}: {e} (run `cargo xtask weights`)",
                path.display()
            );
            None
        }
    }
}

fn fixture() -> Fixture {
    let path = format!("{SHARED}/fixtures/i3d_ref_smooth16.safetensors");
    Fixture::from_bytes(&std::fs::read(&path).unwrap()).unwrap()
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
    let Some(bytes) = weights(checkpoint::F32_FILE) else {
        return;
    };
    let fixture = fixture();
    let input: Vec<f32> = fixture.input.flatten_all().unwrap().to_vec1().unwrap();
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
    let Some(bytes) = weights(checkpoint::F32_FILE) else {
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
    let Some(bytes) = weights(checkpoint::F16_FILE) else {
        return;
    };
    let fixture = fixture();
    let input: Vec<f32> = fixture.input.flatten_all().unwrap().to_vec1().unwrap();
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
    let Some(bytes) = weights(checkpoint::F32_FILE) else {
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
        Err(Error::I3d(i3d::Error::TooFewFrames { .. }))
    ));
    assert!(matches!(
        pollster::block_on(gpu.logits(&[0.5; 10], 9)),
        Err(Error::InputLength { .. })
    ));
}

#[test]
fn backend_selection_records_why_and_both_backends_agree() {
    let Some(_) = context() else { return };
    let Some(bytes) = weights(checkpoint::F32_FILE) else {
        return;
    };
    use i3d_gpu::{Backend, Classifier, Preference};
    assert_eq!("auto".parse::<Preference>().unwrap(), Preference::Auto);
    assert_eq!("wgpu".parse::<Preference>().unwrap(), Preference::Wgpu);
    assert_eq!("cpu".parse::<Preference>().unwrap(), Preference::Cpu);
    assert!("tpu".parse::<Preference>().is_err());

    let cpu = Backend::select_blocking(Preference::Cpu).unwrap();
    assert_eq!(cpu.backend.name(), "cpu");
    let gpu = Backend::select_blocking(Preference::Wgpu).unwrap();
    assert_eq!(gpu.backend.name(), "wgpu");
    assert!(
        gpu.reason.contains(&gpu_name(&gpu.backend)),
        "{}",
        gpu.reason
    );
    let auto = Backend::select_blocking(Preference::Auto).unwrap();
    eprintln!("auto: {} ({})", auto.backend.name(), auto.reason);
    if let Backend::Wgpu(ctx) = &gpu.backend {
        // A software adapter (lavapipe) loses to the CPU path natively; hardware wins.
        let expected = if ctx.summary.device_type == "Cpu" {
            "cpu"
        } else {
            "wgpu"
        };
        assert_eq!(auto.backend.name(), expected);
        assert!(auto.reason.contains(&ctx.summary.name));
    }

    let mut rng = rng("classifier");
    let frames = 9;
    let input = uniform(&mut rng, Shape::clip(frames).elements(), -1.0, 1.0);
    let mut on_cpu = Classifier::new(cpu.backend, &bytes, None).unwrap();
    let mut on_gpu = Classifier::new(gpu.backend, &bytes, Some(Precision::F32)).unwrap();
    assert_eq!(
        (on_cpu.backend_name(), on_gpu.backend_name()),
        ("cpu", "wgpu")
    );
    let a = on_cpu.run_blocking(&input, frames).unwrap();
    let b = on_gpu.run_blocking(&input, frames).unwrap();
    let err = rel_l2(&b, &a);
    eprintln!("Classifier wgpu vs cpu: rel L2 {err:.2e}");
    assert!(err < 1e-4);
    assert!(matches!(
        on_cpu.run_blocking(&input[..100], frames),
        Err(Error::InputLength { .. })
    ));
}

fn gpu_name(backend: &i3d_gpu::Backend) -> String {
    match backend {
        i3d_gpu::Backend::Wgpu(ctx) => ctx.summary.name.clone(),
        i3d_gpu::Backend::Cpu => String::new(),
    }
}
