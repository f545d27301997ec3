#![allow(clippy::unwrap_used, clippy::expect_used)]
//! The candle CPU executor's speed as wasm32 in headless Chromium (one thread: wasm32-unknown-unknown
//! has no threads): 1 warm-up and 5 timed forward passes on a random T = 16 clip with the real f32
//! weights, logged as the median milliseconds per clip, GFLOP/s (the `i3d_core::arch` FLOP counter) and
//! per-layer medians. A measurement, not an assertion.
//!
//! Off unless `KINETISCOPE_BROWSER_BENCH` is set at compile time, so that `cargo xtask test` spends no
//! time on it; `cargo xtask bench-browser` sets it, builds in release mode (what the site ships) and
//! prints the log (`--nocapture`). The weights come from the asset server that xtask starts
//! (`KINETISCOPE_TEST_ASSETS`).
#![cfg(target_arch = "wasm32")]

use candle_core::{Device, Tensor};
use i3d_core::arch::{self, layer_macs, Shape, I3D_LAYERS};
use i3d_cpu::InceptionI3d;
use wasm_bindgen_test::{wasm_bindgen_test, wasm_bindgen_test_configure};

wasm_bindgen_test_configure!(run_in_browser);

const FRAMES: usize = 16;
const RUNS: usize = 5;

fn log(message: &str) {
    web_sys::console::log_1(&message.into());
}

/// Milliseconds from `performance.now()`.
fn now_ms() -> f64 {
    web_sys::window()
        .and_then(|w| w.performance())
        .map_or_else(js_sys::Date::now, |p| p.now())
}

async fn fetch(path: &str) -> Vec<u8> {
    let Some(base) = option_env!("KINETISCOPE_TEST_ASSETS") else {
        panic!("KINETISCOPE_TEST_ASSETS is not set: run the benchmark through `cargo xtask bench-browser`");
    };
    let url = format!("{base}/{path}");
    let response = gloo_net::http::Request::get(&url).send().await.unwrap();
    assert!(response.ok(), "GET {url}: HTTP {}", response.status());
    response.binary().await.unwrap()
}

fn median(values: &[f64]) -> f64 {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    sorted[sorted.len() / 2]
}

/// Uniform in [−1, 1] from the LCG of the onnxruntime-web peer page (`seed * 1103515245 + 12345`, 31 bits).
fn random_clip(frames: usize) -> Vec<f32> {
    let mut seed: u32 = 1;
    (0..frames * 224 * 224 * 3)
        .map(|_| {
            seed = seed.wrapping_mul(1_103_515_245).wrapping_add(12_345) & 0x7fff_ffff;
            (f64::from(seed) / f64::from(0x7fff_ffff_u32) * 2.0 - 1.0) as f32
        })
        .collect()
}

#[wasm_bindgen_test]
async fn cpu_forward_speed_in_the_browser() {
    if option_env!("KINETISCOPE_BROWSER_BENCH").is_none() {
        log("skipped: KINETISCOPE_BROWSER_BENCH is not set (run `cargo xtask bench-browser`)");
        return;
    }
    let weights = fetch("weights/i3d-kinetics-400.f32.safetensors").await;
    let started = now_ms();
    let model = InceptionI3d::from_safetensors_bytes(&weights).unwrap();
    let load_ms = now_ms() - started;
    drop(weights);

    let x = Tensor::from_vec(random_clip(FRAMES), (1, FRAMES, 224, 224, 3), &Device::Cpu).unwrap();
    let flops = 2.0 * arch::macs(FRAMES).unwrap() as f64;
    let macs = layer_macs(I3D_LAYERS, Shape::clip(FRAMES)).unwrap();

    let mut totals = Vec::with_capacity(RUNS);
    let mut per_layer = vec![Vec::with_capacity(RUNS); I3D_LAYERS.len()];
    let mut first_ms = 0.0;
    for run in 0..=RUNS {
        let start = now_ms();
        let mut last = start;
        let mut i = 0;
        let logits = model
            .forward_endpoints(&x, |_, _| {
                let t = now_ms();
                if run > 0 {
                    per_layer[i].push(t - last);
                }
                last = t;
                i += 1;
            })
            .unwrap();
        let ms = now_ms() - start;
        assert_eq!(logits.dims(), [1, arch::NUM_CLASSES]);
        if run == 0 {
            first_ms = ms;
        } else {
            totals.push(ms);
        }
    }

    let ms = median(&totals);
    let all: Vec<String> = totals.iter().map(|t| format!("{t:.0}")).collect();
    let mut report = format!(
        "RESULT wasm candle-cpu threads=1 T={FRAMES} load_ms={load_ms:.0} warmup_ms={first_ms:.0} \
         median_ms={ms:.0} all={} gflop={:.1} gflops={:.2}\nuser agent: {}\nper layer (median of {RUNS}):",
        all.join(","),
        flops / 1e9,
        flops / ms / 1e6,
        web_sys::window()
            .and_then(|w| w.navigator().user_agent().ok())
            .unwrap_or_default(),
    );
    for ((layer, times), macs) in I3D_LAYERS.iter().zip(&per_layer).zip(&macs) {
        let t = median(times);
        let gflops = if *macs > 0 {
            format!("{:6.2} GFLOP/s", 2.0 * *macs as f64 / t / 1e6)
        } else {
            String::new()
        };
        report.push_str(&format!("\n  {:<20} {t:8.1} ms {gflops}", layer.name));
    }
    log(&report);
}
