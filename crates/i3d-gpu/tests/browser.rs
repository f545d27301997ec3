#![allow(clippy::unwrap_used, clippy::expect_used)]
//! The GPU executor in headless Chromium (WebGPU; SwiftShader without a GPU): one kernel against a
//! direct convolution on fresh random data, and the whole network against the JAX reference
//! fixture with the real weights, fetched over HTTP from the asset server of `cargo xtask test`
//! (its URL is baked in at compile time as `KINETISCOPE_TEST_ASSETS`). Without a WebGPU adapter the
//! tests skip (logged), except under `cargo xtask test`, which sets `KINETISCOPE_REQUIRE_ASSETS` when it
//! compiles them: there a missing adapter fails. Random inputs come from a fixed, logged seed.
#![cfg(target_arch = "wasm32")]

use i3d_core::arch::{same_padding, Shape};
use i3d_core::postprocess::top_indices;
use i3d_core::reference::{rel_l2, Fixture, REQUIRE_ENV};
use i3d_gpu::context::{decode, encode};
use i3d_gpu::ops::{self, ConvWeights, Region};
use i3d_gpu::{GpuContext, GpuI3d, Precision, RunOptions};
use rand::{Rng, SeedableRng};
use wasm_bindgen_test::{wasm_bindgen_test, wasm_bindgen_test_configure};

wasm_bindgen_test_configure!(run_in_browser);

fn log(message: &str) {
    web_sys::console::log_1(&message.into());
}

async fn fetch(path: &str) -> Vec<u8> {
    let Some(base) = option_env!("KINETISCOPE_TEST_ASSETS") else {
        panic!("KINETISCOPE_TEST_ASSETS is not set: run the wasm tests through `cargo xtask test --only wasm`")
    };
    let url = format!("{base}/{path}");
    let response = gloo_net::http::Request::get(&url).send().await.unwrap();
    assert!(response.ok(), "GET {url}: HTTP {}", response.status());
    response.binary().await.unwrap()
}

async fn context() -> Option<GpuContext> {
    match GpuContext::new().await {
        Ok(ctx) => {
            log(&format!("adapter: {}", ctx.summary));
            Some(ctx)
        }
        Err(e) if option_env!("KINETISCOPE_REQUIRE_ASSETS").is_some() => {
            panic!("no WebGPU adapter ({e}); {REQUIRE_ENV} is set, so this is a failure")
        }
        Err(e) => {
            log(&format!("skipping: {e}"));
            None
        }
    }
}

#[wasm_bindgen_test]
async fn stem_conv_matches_direct_convolution_in_the_browser() {
    let Some(ctx) = context().await else { return };
    // Fixed, so that a failure replays; logged, so that the log says which data it was.
    let seed: u64 = 0x1_3d5e_ed16;
    log(&format!("seed {seed}"));
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    // The stem geometry (cin = 3, 7×7×7, stride 2) on a small odd clip: asymmetric SAME padding.
    let input = Shape {
        n: 1,
        t: 9,
        h: 12,
        w: 11,
        c: 3,
    };
    let (k, s, cout) = (7usize, 2usize, 64usize);
    let x: Vec<f32> = (0..input.elements())
        .map(|_| rng.random_range(-1.0..1.0))
        .collect();
    let w: Vec<f32> = (0..k * k * k * 3 * cout)
        .map(|_| rng.random_range(-0.1..0.1))
        .collect();
    let b: Vec<f32> = (0..cout).map(|_| rng.random_range(-0.5..0.5)).collect();
    let dims: Vec<(usize, usize)> = input
        .thw()
        .iter()
        .map(|&n| {
            let (o, before, _) = same_padding(n, k, s);
            (o, before)
        })
        .collect();
    let (out_t, out_h, out_w) = (dims[0].0, dims[1].0, dims[2].0);
    let mut want = vec![0.0f32; out_t * out_h * out_w * cout];
    for (p, row) in want.chunks_exact_mut(cout).enumerate() {
        let (to, ho, wo) = (p / (out_h * out_w), (p / out_w) % out_h, p % out_w);
        let mut acc: Vec<f64> = b.iter().map(|&v| f64::from(v)).collect();
        for dt in 0..k {
            for dh in 0..k {
                for dw in 0..k {
                    let ti = (to * s + dt) as isize - dims[0].1 as isize;
                    let hi = (ho * s + dh) as isize - dims[1].1 as isize;
                    let wi = (wo * s + dw) as isize - dims[2].1 as isize;
                    if ti < 0 || hi < 0 || wi < 0 || ti >= 9 || hi >= 12 || wi >= 11 {
                        continue;
                    }
                    let xi = ((ti as usize * 12 + hi as usize) * 11 + wi as usize) * 3;
                    for ci in 0..3 {
                        let wr = &w[(((dt * k + dh) * k + dw) * 3 + ci) * cout..][..cout];
                        for (a, &wv) in acc.iter_mut().zip(wr) {
                            *a += f64::from(x[xi + ci]) * f64::from(wv);
                        }
                    }
                }
            }
        }
        for (d, a) in row.iter_mut().zip(acc) {
            *d = a.max(0.0) as f32;
        }
    }
    let p = Precision::F32;
    let weights = ConvWeights::new(&ctx, "stem", [k; 3], [s; 3], 3, cout, true, &w, &b, p).unwrap();
    let xb = ctx.upload("x", &encode(&x, p)).unwrap();
    let yb = ctx.storage("y", (want.len() * 4) as u64).unwrap();
    let step = ops::conv3d(
        &ctx,
        "stem",
        &weights,
        Region::dense(&xb, 3),
        input,
        Region::dense(&yb, cout),
        None,
    )
    .unwrap();
    let got = decode(
        &ops::run_once(&ctx, &[step], &yb, (want.len() * 4) as u64)
            .await
            .unwrap(),
        p,
    );
    let err = rel_l2(&got, &want);
    log(&format!("stem conv in the browser: rel L2 {err:.2e}"));
    assert!(err < 1e-5, "rel L2 {err}");
}

#[wasm_bindgen_test]
async fn fixture_logits_match_the_reference_in_the_browser() {
    let Some(_) = context().await else { return };
    let weights = fetch("weights/i3d-kinetics-400.f32.safetensors").await;
    let fixture =
        Fixture::from_bytes(&fetch("fixtures/i3d_ref_smooth16.safetensors").await).unwrap();
    let input: Vec<f32> = fixture.input.clone();
    let ctx = context().await.expect("an adapter");
    // f32 storage: the reference tolerance applies.
    let mut model = GpuI3d::new(ctx, &weights, Precision::F32).unwrap();
    let started = js_sys::Date::now();
    let logits = model.logits(&input, 16).await.unwrap();
    let first = js_sys::Date::now() - started;
    let started = js_sys::Date::now();
    let again = model.logits(&input, 16).await.unwrap();
    let warm = js_sys::Date::now() - started;
    let err = rel_l2(&logits, &fixture.logits);
    log(&format!(
        "wgpu in the browser, T = 16: first {first:.0} ms, warm {warm:.0} ms; rel L2 vs reference {err:.2e}"
    ));
    assert_eq!(logits, again);
    assert!(err < 1e-4, "rel L2 {err}");
    assert_eq!(top_indices(&logits, 5), vec![327, 328, 35, 21, 31]);

    // Per-kernel device times and the conv kernel against the plain GEMM, for the record.
    let options = RunOptions {
        profile: true,
        features: false,
    };
    let out = model.run(&input, 16, options).await.unwrap();
    if let Some(profile) = out.profile {
        let total: f64 = profile.iter().map(|k| k.seconds).sum();
        log(&format!("device time {:.0} ms", total * 1e3));
        for k in i3d_gpu::bench::summarize(&profile) {
            log(&format!(
                "  {:<22} {:3} dispatches {:9.1} ms {:6.1} GFLOP/s",
                k.kernel.label(),
                k.dispatches,
                k.seconds * 1e3,
                k.gflops()
            ));
        }
        let ctx = model.context().clone();
        if let Some(g) = i3d_gpu::bench::compare_with_gemm(&ctx, model.precision(), &profile)
            .await
            .unwrap()
        {
            log(&format!(
                "{} {:.1} GFLOP/s vs plain GEMM {:?} {:.1} GFLOP/s: {:.0}%; all convs {:.0}%",
                g.conv_label,
                g.conv_gflops,
                g.gemm.shape,
                g.gemm.gflops(),
                100.0 * g.ratio(),
                100.0 * g.all_convs_ratio()
            ));
        }
    }
}
