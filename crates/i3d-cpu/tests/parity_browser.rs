#![allow(clippy::unwrap_used, clippy::expect_used)]
//! The parity test of `tests/parity.rs`, run as wasm32 in headless Chromium: the same comparison
//! (`tests/support/parity.rs`) with the real weights and the reference fixture, fetched over HTTP from the asset
//! server that `cargo xtask test` starts (its URL is baked in at compile time as `KINETISCOPE_TEST_ASSETS`).
#![cfg(target_arch = "wasm32")]

use support::parity;
use wasm_bindgen_test::{wasm_bindgen_test, wasm_bindgen_test_configure};

mod support;

wasm_bindgen_test_configure!(run_in_browser);

async fn fetch(path: &str) -> Vec<u8> {
    let Some(base) = option_env!("KINETISCOPE_TEST_ASSETS") else {
        panic!("KINETISCOPE_TEST_ASSETS is not set: run the wasm tests through `cargo xtask test --only wasm`");
    };
    let url = format!("{base}/{path}");
    let response = gloo_net::http::Request::get(&url).send().await.unwrap();
    assert!(response.ok(), "GET {url}: HTTP {}", response.status());
    response.binary().await.unwrap()
}

fn log(message: &str) {
    web_sys::console::log_1(&message.into());
}

#[wasm_bindgen_test]
async fn smooth16_matches_reference_f32_in_the_browser() {
    let weights = fetch("weights/i3d-kinetics-400.f32.safetensors").await;
    let fixture = fetch("fixtures/i3d_ref_smooth16.safetensors").await;
    let started = js_sys::Date::now();
    let report = parity::run(&weights, &fixture).unwrap();
    let ms = js_sys::Date::now() - started;
    log(&format!(
        "wasm parity (load + T=16 forward): {ms:.0} ms\n{}",
        report.summary()
    ));
    assert!(
        report.logits_rel_l2 < 1e-4,
        "rel L2 {}",
        report.logits_rel_l2
    );
    assert_eq!(report.top5, vec![327, 328, 35, 21, 31]);
    assert_eq!(report.first_divergence, None, "{}", report.summary());
    assert!(report.passed());
}
