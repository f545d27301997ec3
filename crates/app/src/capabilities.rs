//! What this browser can do for Kinetiscope: WebGPU (adapter, `shader-f16`), cross-origin isolation.
//!
//! Detection goes through plain JavaScript reflection on `navigator.gpu` rather than web-sys's WebGPU
//! bindings, which need the unstable `web_sys_unstable_apis` cfg and change between releases. The
//! classifier uses the same [`detect`] to choose its backend.

use js_sys::{Array, Function, Object, Promise, Reflect};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;

/// The build version shown in the panel: the crate version and, when the xtask set it, the git revision.
pub const BUILD_VERSION: &str = match option_env!("KINETISCOPE_BUILD") {
    Some(build) => build,
    None => concat!(env!("CARGO_PKG_VERSION"), "-dev"),
};

/// A WebGPU adapter as reported by `navigator.gpu.requestAdapter()`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Adapter {
    /// `GPUAdapterInfo.vendor`, e.g. `google` for SwiftShader; may be empty.
    pub vendor: String,
    /// `GPUAdapterInfo.architecture`, e.g. `swiftshader`; may be empty.
    pub architecture: String,
    /// `GPUAdapterInfo.description`; often empty for privacy.
    pub description: String,
    /// Whether the adapter offers the `shader-f16` feature (f16 storage and arithmetic in WGSL).
    pub shader_f16: bool,
    /// `limits.maxStorageBufferBindingSize`, bytes.
    pub max_storage_buffer_binding_size: u64,
    /// `limits.maxBufferSize`, bytes.
    pub max_buffer_size: u64,
}

/// The state of WebGPU in this browser.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WebGpu {
    /// `navigator.gpu` is missing: the browser has no WebGPU or it is disabled.
    Missing,
    /// `navigator.gpu` exists but no adapter was returned (blocklisted GPU, no driver), or the request failed.
    NoAdapter(String),
    /// An adapter is available.
    Available(Adapter),
}

/// Everything the capabilities panel shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Capabilities {
    /// WebGPU availability and adapter.
    pub webgpu: WebGpu,
    /// `window.crossOriginIsolated`: needed for `SharedArrayBuffer` and WASM threads.
    pub cross_origin_isolated: bool,
    /// `navigator.hardwareConcurrency`, logical cores.
    pub hardware_concurrency: u32,
    /// The build version, see [`BUILD_VERSION`].
    pub build: &'static str,
}

fn get(target: &JsValue, key: &str) -> JsValue {
    Reflect::get(target, &JsValue::from_str(key)).unwrap_or(JsValue::UNDEFINED)
}

fn get_string(target: &JsValue, key: &str) -> String {
    get(target, key).as_string().unwrap_or_default()
}

/// A `GPUSupportedLimits` entry in bytes (0 when absent). JS numbers hold these exactly (< 2^53).
fn limit(limits: &JsValue, key: &str) -> u64 {
    get(limits, key).as_f64().map_or(0, |v| v as u64)
}

fn describe(error: &JsValue) -> String {
    error
        .dyn_ref::<js_sys::Error>()
        .map(|e| String::from(e.message()))
        .or_else(|| error.as_string())
        .unwrap_or_else(|| format!("{error:?}"))
}

/// Calls `target.method(args...)` and awaits the promise it returns.
async fn call_async(target: &JsValue, method: &str, args: &Array) -> Result<JsValue, String> {
    let function: Function = get(target, method)
        .dyn_into()
        .map_err(|_| format!("{method} is not a function"))?;
    let promise: Promise = Reflect::apply(&function, target, args)
        .map_err(|e| describe(&e))?
        .dyn_into()
        .map_err(|_| format!("{method} did not return a promise"))?;
    JsFuture::from(promise).await.map_err(|e| describe(&e))
}

/// Reads the adapter's info: `adapter.info` (current spec) or `requestAdapterInfo()` (older browsers).
async fn adapter_info(adapter: &JsValue) -> JsValue {
    let info = get(adapter, "info");
    if info.is_object() {
        return info;
    }
    call_async(adapter, "requestAdapterInfo", &Array::new())
        .await
        .unwrap_or(JsValue::UNDEFINED)
}

/// Asks the browser for a WebGPU adapter (high-performance preference) and describes it.
pub async fn detect_webgpu() -> WebGpu {
    let navigator = get(&js_sys::global(), "navigator");
    let gpu = get(&navigator, "gpu");
    if gpu.is_undefined() || gpu.is_null() {
        return WebGpu::Missing;
    }
    let options = Object::new();
    // Reflect::set on a fresh plain object cannot fail.
    let _ = Reflect::set(
        &options,
        &"powerPreference".into(),
        &"high-performance".into(),
    );
    let adapter = match call_async(&gpu, "requestAdapter", &Array::of1(&options)).await {
        Ok(adapter) if adapter.is_object() => adapter,
        Ok(_) => return WebGpu::NoAdapter("requestAdapter() returned no adapter".into()),
        Err(error) => return WebGpu::NoAdapter(format!("requestAdapter() failed: {error}")),
    };
    let info = adapter_info(&adapter).await;
    let features = get(&adapter, "features");
    let shader_f16 = get(&features, "has")
        .dyn_into::<Function>()
        .ok()
        .and_then(|has| has.call1(&features, &"shader-f16".into()).ok())
        .and_then(|v| v.as_bool())
        .unwrap_or(false);
    let limits = get(&adapter, "limits");
    WebGpu::Available(Adapter {
        vendor: get_string(&info, "vendor"),
        architecture: get_string(&info, "architecture"),
        description: get_string(&info, "description"),
        shader_f16,
        max_storage_buffer_binding_size: limit(&limits, "maxStorageBufferBindingSize"),
        max_buffer_size: limit(&limits, "maxBufferSize"),
    })
}

/// `crossOriginIsolated` of this page (or worker): whether shared memory, hence WASM threads, is allowed.
pub fn cross_origin_isolated() -> bool {
    get(&js_sys::global(), "crossOriginIsolated")
        .as_bool()
        .unwrap_or(false)
}

/// A WebAssembly module whose one function computes `f32x4.relaxed_madd` of three zero vectors: it validates only
/// in an engine with relaxed SIMD (the feature test of the relaxed-SIMD worker build, as wasm-feature-detect does
/// it). Sections: type `() -> v128`, one function, its body: three `v128.const 0`, `0xfd 0x105` (relaxed_madd), end.
const RELAXED_SIMD_PROBE: [u8; 82] = {
    let mut m = [0u8; 82];
    let head = [
        0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, // magic, version 1
        0x01, 0x05, 0x01, 0x60, 0x00, 0x01, 0x7b, // type section: () -> v128
        0x03, 0x02, 0x01, 0x00, // function section: one function of type 0
        0x0a, 0x3d, 0x01, 0x3b, 0x00, // code section: one body of 59 bytes, no locals
    ];
    let mut i = 0;
    while i < head.len() {
        m[i] = head[i];
        i += 1;
    }
    // Three v128.const (0xfd 0x0c, then 16 zero bytes).
    let mut c = 0;
    while c < 3 {
        m[head.len() + 18 * c] = 0xfd;
        m[head.len() + 18 * c + 1] = 0x0c;
        c += 1;
    }
    let tail = head.len() + 54;
    m[tail] = 0xfd;
    m[tail + 1] = 0x85;
    m[tail + 2] = 0x02;
    m[tail + 3] = 0x0b;
    m
};

/// Whether this browser's WebAssembly has relaxed SIMD (`WebAssembly.validate` of [`RELAXED_SIMD_PROBE`]):
/// Chromium since 114 and Firefox ESR 153 (measured here); not WebKitGTK 2.50.
pub fn relaxed_simd() -> bool {
    let bytes = js_sys::Uint8Array::from(&RELAXED_SIMD_PROBE[..]);
    js_sys::WebAssembly::validate(&bytes).unwrap_or(false)
}

/// `navigator.hardwareConcurrency`: the logical cores the browser reports (1 when it says nothing).
pub fn hardware_concurrency() -> u32 {
    get(&get(&js_sys::global(), "navigator"), "hardwareConcurrency")
        .as_f64()
        .map_or(1, |n| n as u32)
}

/// Detects everything the capabilities panel shows.
pub async fn detect() -> Capabilities {
    Capabilities {
        webgpu: detect_webgpu().await,
        cross_origin_isolated: cross_origin_isolated(),
        hardware_concurrency: hardware_concurrency(),
        build: BUILD_VERSION,
    }
}
