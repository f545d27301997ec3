//! Capability detection in a real browser (headless Chromium with WebGPU on SwiftShader, see TOOLCHAIN.md).
#![cfg(target_arch = "wasm32")]

use app::capabilities::{detect, WebGpu};
use wasm_bindgen_test::{wasm_bindgen_test, wasm_bindgen_test_configure};

wasm_bindgen_test_configure!(run_in_browser);

#[wasm_bindgen_test]
async fn finds_a_webgpu_adapter_with_its_info() {
    let caps = detect().await;
    match caps.webgpu {
        WebGpu::Available(adapter) => {
            assert!(
                !adapter.vendor.is_empty() || !adapter.architecture.is_empty(),
                "adapter has neither vendor nor architecture: {adapter:?}"
            );
            assert!(adapter.max_storage_buffer_binding_size >= 128 * 1024 * 1024);
        }
        other => panic!("expected a WebGPU adapter in the test browser, got {other:?}"),
    }
    assert!(caps.hardware_concurrency >= 1);
}
