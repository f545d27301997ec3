#![allow(clippy::unwrap_used, clippy::expect_used)]
#![cfg(not(target_arch = "wasm32"))]
//! The engine with the real weights: backend selection and its reasons, both backends agreeing on
//! one clip, precision choices, and refusing damaged weights. Without weights or an adapter these
//! tests skip (reason printed) in a plain `cargo test` and fail under `cargo xtask test`.

use engine::{
    Ask, Backend, BackendChoice, Error, Options, Precision, PrecisionChoice, VerifiedWeights,
};
use i3d_core::arch::{LayerId, Shape};
use i3d_core::manifest::{resolve_weights_dir, Manifest, WeightsError};
use i3d_core::reference::{rel_l2, test_weights};
use rand::{Rng, SeedableRng};

/// The engine with the candle CPU executor, as the CLI and the worker build it.
type Engine = engine::Engine<i3d_cpu::InceptionI3d>;

/// The f32 weights and their manifest entry.
fn weights() -> Option<(Vec<u8>, i3d_core::manifest::FileEntry, Vec<String>)> {
    let bytes = test_weights(Precision::F32)?;
    let manifest = Manifest::read(&resolve_weights_dir(None).unwrap()).unwrap();
    let entry = manifest.file(Precision::F32).unwrap().clone();
    Some((bytes, entry, manifest.labels))
}

fn load(options: Options) -> Result<Engine, Error> {
    let (bytes, entry, labels) = weights().expect("weights");
    let verified = VerifiedWeights::check(&entry, bytes).unwrap();
    pollster::block_on(Engine::load(verified, labels, options))
}

/// A clip of `frames` frames of uniform values in [−1, 1) from `seed` (printed).
fn random_clip(seed: u64, frames: usize) -> Vec<f32> {
    eprintln!("seed {seed}");
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    (0..Shape::clip(frames).elements())
        .map(|_| rng.random_range(-1.0..1.0))
        .collect()
}

/// Ask for the `k` best classes only.
fn top(k: usize) -> Ask<'static> {
    Ask {
        top: k,
        ..Ask::default()
    }
}

/// A head whose two classes are Kinetics classes 0 and 1: their weights and biases, read from the logits layer
/// through unit features.
fn two_class_head() -> heads::Linear {
    let (bytes, _, _) = weights().unwrap();
    let layer = i3d_core::cam::LogitsLayer::from_safetensors_bytes(&bytes).unwrap();
    let mut weights = vec![0.0f32; 2 * 1024];
    for k in 0..1024 {
        let mut unit = vec![0.0f32; 1024];
        unit[k] = 1.0;
        let logits = layer.logits(&unit);
        weights[k] = logits[0] - layer.bias(0);
        weights[1024 + k] = logits[1] - layer.bias(1);
    }
    heads::Linear {
        classes: 2,
        dim: 1024,
        weights,
        bias: vec![layer.bias(0), layer.bias(1)],
    }
}

fn options(backend: &str, precision: &str) -> Options {
    Options {
        backend: backend.parse().unwrap(),
        precision: precision.parse().unwrap(),
    }
}

#[test]
fn backends_say_why_and_agree_on_a_random_clip() {
    if weights().is_none() {
        return;
    }
    let mut cpu = load(options("cpu", "auto")).unwrap();
    assert_eq!(
        (cpu.backend(), cpu.precision()),
        (Backend::Cpu, Precision::F32)
    );
    assert!(cpu.reason().contains("asked for"), "{}", cpu.reason());
    assert_eq!(cpu.max_frames(), None);

    let mut gpu = match load(options("wgpu", "f32")) {
        Ok(gpu) => gpu,
        Err(e @ Error::Unavailable(_)) => {
            i3d_core::reference::missing(&format!("no wgpu adapter: {e}"));
            return;
        }
        Err(e) => panic!("{e}"),
    };
    assert_eq!(
        (gpu.backend(), gpu.precision()),
        (Backend::Wgpu, Precision::F32)
    );
    assert!(
        gpu.reason().starts_with("wgpu was asked for"),
        "{}",
        gpu.reason()
    );
    let auto = load(Options::default()).unwrap();
    eprintln!("auto: {} ({})", auto.backend(), auto.reason());
    // lavapipe, a software adapter, loses to the CPU path: auto must say so and take the CPU.
    if auto.backend() == Backend::Cpu {
        assert!(auto.reason().contains("software"), "{}", auto.reason());
    }

    let frames = 9;
    let input = random_clip(0x00e9_91e5, frames);
    // A head over the clip feature (two classes: the Kinetics weights of classes 0 and 1), to check that both
    // backends give the same feature, the same custom probabilities and the same custom map.
    let head = two_class_head();
    let ask = Ask {
        top: 5,
        cam: true,
        feature: true,
        head: Some(&head),
    };
    let a = pollster::block_on(cpu.classify(&input, frames, ask)).unwrap();
    let b = pollster::block_on(gpu.classify(&input, frames, ask)).unwrap();
    let (fa, fb) = (a.feature.clone().unwrap(), b.feature.clone().unwrap());
    assert_eq!(fa.len(), 1024);
    let err = rel_l2(&fb, &fa);
    eprintln!("clip feature wgpu vs cpu: rel L2 {err:.2e}");
    assert!(err < 1e-4, "{err}");
    let (ca, cb) = (a.custom.clone().unwrap(), b.custom.clone().unwrap());
    assert!((ca.probs.iter().sum::<f32>() - 1.0).abs() < 1e-5);
    assert!(
        ca.probs
            .iter()
            .zip(&cb.probs)
            .all(|(x, y)| (x - y).abs() < 1e-4),
        "{:?} vs {:?}",
        ca.probs,
        cb.probs
    );
    assert!(rel_l2(&cb.cam.unwrap().raw, &ca.cam.unwrap().raw) < 1e-3);
    // The head applies to the classifier's own input: its two probabilities are the softmax of the network's
    // logits of classes 0 and 1.
    let (l0, l1) = (a.logits[0], a.logits[1]);
    let p0 = 1.0 / (1.0 + (l1 - l0).exp());
    assert!((ca.probs[0] - p0).abs() < 1e-4, "{} vs {p0}", ca.probs[0]);
    // The nearest Kinetics class to class 0's weights is class 0, cosine 1.
    let nearest = cpu.nearest(&head.weights[..1024], 2);
    assert_eq!(nearest[0].0, 0, "{nearest:?}");
    assert!((nearest[0].1 - 1.0).abs() < 1e-5);
    assert!(a.fell_back.is_none() && b.fell_back.is_none());
    let err = rel_l2(&b.logits, &a.logits);
    eprintln!("engine wgpu vs cpu: rel L2 {err:.2e}");
    assert!(err < 1e-4);
    assert_eq!(
        a.top.iter().map(|p| p.index).collect::<Vec<_>>(),
        b.top.iter().map(|p| p.index).collect::<Vec<_>>()
    );
    assert_eq!(a.top[0].label, cpu.labels()[a.top[0].index]);
    assert!((a.probs.iter().sum::<f32>() - 1.0).abs() < 1e-4);
    // The activation maps of the two backends: the same 7×7 evidence.
    let (ma, mb) = (a.cam.unwrap(), b.cam.unwrap());
    assert_eq!((ma.height, ma.width), (7, 7));
    assert!(rel_l2(&mb.raw, &ma.raw) < 1e-3);
    assert!(matches!(
        pollster::block_on(cpu.classify(&input[..100], frames, top(5))),
        Err(Error::InputLength { .. })
    ));
    // Frame counts from an untrusted page: 28,533 frames × 150,528 floats wraps a 32-bit usize to a
    // small number, and usize::MAX / FRAME_LEN + 1 wraps a 64-bit one; both are refused by count first.
    for frames in [
        28_533,
        usize::MAX / i3d_core::preprocess::FRAME_LEN + 1,
        i3d_core::arch::MAX_FRAMES + 1,
    ] {
        let err = pollster::block_on(cpu.classify(&input, frames, top(5))).unwrap_err();
        assert!(
            matches!(err, Error::Network(i3d_core::Error::TooManyFrames { .. })),
            "{frames}: {err}"
        );
    }
}

#[test]
fn f16_on_the_cpu_is_refused_with_the_reason() {
    if weights().is_none() {
        return;
    }
    let err = load(options("cpu", "f16")).unwrap_err().to_string();
    assert!(err.contains("the CPU path computes in f32"), "{err}");
    assert_eq!(
        "auto".parse::<PrecisionChoice>().unwrap(),
        PrecisionChoice::Auto
    );
    assert_eq!(
        "webgpu".parse::<BackendChoice>().unwrap(),
        BackendChoice::Only(Backend::Wgpu)
    );
}

#[test]
fn damaged_weights_cannot_reach_the_engine() {
    let Some((mut bytes, entry, _)) = weights() else {
        return;
    };
    let mid = bytes.len() / 2;
    bytes[mid] ^= 0x10;
    let err = VerifiedWeights::check(&entry, bytes.clone()).unwrap_err();
    assert!(matches!(err, WeightsError::Sha256Mismatch { .. }), "{err}");
    bytes.truncate(mid);
    let err = VerifiedWeights::check(&entry, bytes).unwrap_err();
    assert!(err.to_string().contains("truncated"), "{err}");
}

#[test]
fn a_backend_asked_for_by_name_is_that_backend_or_an_error() {
    if weights().is_none() {
        return;
    }
    // f16 exists only on wgpu: with the backend left to auto and no hardware adapter (lavapipe is
    // software), the engine must not quietly run f32 on the CPU.
    match load(options("auto", "f16")) {
        Ok(engine) => {
            assert_eq!(
                (engine.backend(), engine.precision()),
                (Backend::Wgpu, Precision::F16)
            );
        }
        Err(e) => assert!(e.to_string().contains("f16"), "{e}"),
    }
    let selection = pollster::block_on(engine::select(options("cpu", "auto"))).unwrap();
    assert_eq!(selection.backend(), Backend::Cpu);
}

#[test]
fn auto_on_an_adapter_keeps_the_faster_backend_by_measurement() {
    if weights().is_none() {
        return;
    }
    // `auto` picks the CPU on a software adapter without measuring; here the wgpu selection is made by
    // hand, as `select` makes it for a hardware adapter, so that the measurement runs on lavapipe.
    let ctx = match pollster::block_on(i3d_gpu::GpuContext::new()) {
        Ok(ctx) => ctx,
        Err(e) => {
            i3d_core::reference::missing(&format!("no wgpu adapter: {e}"));
            return;
        }
    };
    let selection = engine::Selection {
        target: engine::Target::Wgpu(ctx),
        reason: "adapter with sufficient limits".into(),
        reason_detail: None,
        options: Options::default(),
    };
    let (bytes, entry, labels) = weights().unwrap();
    let verified = VerifiedWeights::check(&entry, bytes).unwrap();
    let mut engine = Engine::build(selection, verified, labels).unwrap();
    let start = std::time::Instant::now();
    let clock = move || start.elapsed().as_secs_f64() * 1000.0;
    let measured = pollster::block_on(engine.pick_faster(9, &clock)).unwrap();
    assert_eq!(measured.len(), 2, "{measured:?}");
    let faster = if measured[0].1 <= measured[1].1 {
        measured[0].0
    } else {
        measured[1].0
    };
    assert_eq!(
        engine.backend(),
        faster,
        "{measured:?}: {}",
        engine.reason()
    );
    assert!(
        engine.reason().contains("was faster"),
        "{}",
        engine.reason()
    );
    println!("measured {measured:?}: {}", engine.reason());
    // A backend asked for by name is not second-guessed.
    let mut cpu = load(options("cpu", "auto")).unwrap();
    assert!(pollster::block_on(cpu.pick_faster(9, &clock))
        .unwrap()
        .is_empty());
}

#[test]
fn endpoints_are_the_executor_s_layer_outputs_on_both_backends() {
    if weights().is_none() {
        return;
    }
    let frames = 9;
    let input = random_clip(0x1a5_1de, frames);
    let mut cpu = load(options("cpu", "auto")).unwrap();
    // The executor itself, run through every layer, as the reference for what /inside shows.
    let (bytes, _, _) = weights().unwrap();
    let model = i3d_cpu::InceptionI3d::from_safetensors_bytes(&bytes).unwrap();
    let x = i3d_cpu::clip_tensor(input.clone(), frames).unwrap();
    let layers = ["Conv3d_1a_7x7", "Mixed_3b", "Mixed_5c"]
        .map(|name| i3d_core::anatomy::check_inspectable(name).unwrap());
    let mut reference = std::collections::HashMap::new();
    model
        .forward_endpoints(&x, |layer, t| {
            if layers.contains(&layer) {
                let values = t.flatten_all().unwrap().to_vec1::<f32>().unwrap();
                reference.insert(layer, (values, Shape::from_dims(t.dims()).unwrap()));
            }
        })
        .unwrap();
    let mut gpu = match load(options("wgpu", "f32")) {
        Ok(gpu) => Some(gpu),
        Err(e @ Error::Unavailable(_)) => {
            i3d_core::reference::missing(&format!("no wgpu adapter: {e}"));
            None
        }
        Err(e) => panic!("{e}"),
    };
    for layer in layers {
        let shown = pollster::block_on(cpu.endpoint(&input, frames, layer)).unwrap();
        let (values, shape) = &reference[&layer];
        assert_eq!(shown.shape, *shape, "{layer}");
        assert_eq!(
            &shown.values, values,
            "{layer}: the CPU endpoint is the executor's output"
        );
        // What the page draws: the strongest channels, each cut out as a T×H×W volume.
        let top = i3d_core::anatomy::strongest_channels(&shown.values, shown.shape, 4);
        let (c, _) = top[0];
        let (volume, [t, h, w]) =
            i3d_core::anatomy::channel_volume(&shown.values, shown.shape, c, 1024);
        assert_eq!([t, h, w], [shape.t, shape.h, shape.w]);
        let direct: Vec<f32> = values.iter().skip(c).step_by(shape.c).copied().collect();
        assert_eq!(volume, direct, "{layer}: channel {c}");
        if let Some(gpu) = gpu.as_mut() {
            let on_gpu = pollster::block_on(gpu.endpoint(&input, frames, layer)).unwrap();
            assert_eq!(on_gpu.shape, *shape);
            let err = rel_l2(&on_gpu.values, values);
            eprintln!("{layer}: wgpu vs cpu rel L2 {err:.2e}");
            assert!(err < 1e-4, "{layer}: {err}");
            // What the page ranks by, every channel's mean: the same values within rounding. (Not the order
            // of the strongest: two channels whose means differ by less than the rounding may swap.)
            let cpu_means = i3d_core::anatomy::channel_means(values, *shape);
            let gpu_means = i3d_core::anatomy::channel_means(&on_gpu.values, on_gpu.shape);
            let err = rel_l2(&gpu_means, &cpu_means);
            eprintln!("{layer}: channel means, wgpu vs cpu rel L2 {err:.2e}");
            assert!(err < 1e-4, "{layer}: channel means {err}");
        }
    }
    assert!(matches!(
        pollster::block_on(cpu.endpoint(&input, frames, LayerId::named("Logits").unwrap())),
        Err(Error::Network(i3d_core::Error::UnknownLayer(_)))
    ));

    let clock = std::time::Instant::now();
    let now = || clock.elapsed().as_secs_f64() * 1e3;
    let times = pollster::block_on(cpu.layer_times(&input, frames, &now))
        .unwrap()
        .unwrap();
    assert_eq!(
        times.iter().map(|t| t.layer.name()).collect::<Vec<_>>(),
        i3d_core::arch::I3D_LAYERS
            .iter()
            .map(|l| l.name)
            .collect::<Vec<_>>()
    );
    assert!(times.iter().all(|t| t.ms >= 0.0) && times.iter().map(|t| t.ms).sum::<f64>() > 0.0);

    let (filters, shape) = cpu.first_layer_filters().unwrap();
    assert_eq!(shape, [7, 7, 7, 3, 64]);
    assert_eq!(filters.len(), 7 * 7 * 7 * 3 * 64);
    assert!(filters.iter().any(|&v| v != 0.0));
}
