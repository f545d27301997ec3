//! The classifier's Web Worker (built by trunk as `data-type="worker"`), so that the page never
//! freezes while the model loads or runs. See [`protocol`] for the messages.
//!
//! On `Load` it picks the backend (WebGPU when a suitable adapter exists, else the candle CPU path;
//! `?backend=` forces one), reads the f16 weights from the Cache API or downloads them with byte
//! progress, checks their SHA-256 against the manifest, builds the model and runs a warm-up pass. On
//! `Classify` it preprocesses the transferred RGBA frames with the same Rust code as the CLI and runs
//! the window. A WebGPU failure while running rebuilds the model on the CPU instead of dying.

#[cfg(target_arch = "wasm32")]
mod fetch;
#[cfg(target_arch = "wasm32")]
mod run;
#[cfg(all(target_arch = "wasm32", target_feature = "atomics"))]
mod threads;

#[cfg(target_arch = "wasm32")]
fn main() {
    console_error_panic_hook::set_once();
    // The threaded build's pool workers instantiate this same module; they only run rayon threads.
    #[cfg(target_feature = "atomics")]
    {
        use wasm_bindgen::JsCast;
        let scope: web_sys::DedicatedWorkerGlobalScope = js_sys::global().unchecked_into();
        if scope.name().starts_with(threads::THREAD_NAME_PREFIX) {
            return;
        }
    }
    run::start();
}

#[cfg(not(target_arch = "wasm32"))]
fn main() {
    eprintln!(
        "the classifier worker runs in a browser (wasm32); natively, use `kinetiscope classify` ({} window lengths: {:?})",
        env!("CARGO_PKG_NAME"),
        protocol::WINDOW_LENGTHS
    );
}
