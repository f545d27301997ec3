// The threaded classifier worker (crates/classifier-worker, built with WebAssembly threads by `cargo xtask`):
// wasm-bindgen's no-modules glue, instantiated on a new shared memory. Its CPU executor's threads run in
// thread.js workers on that same memory (crates/classifier-worker/src/threads.rs).
// A module that cannot start (no shared memory here, an older browser) is reported to the page, which then
// starts the single-threaded build instead.
try {
  importScripts('./worker.js');
  wasm_bindgen({ module_or_path: './worker_bg.wasm' }).catch((error) => {
    self.postMessage({ kind: 'failed', id: null, message: `the threaded classifier did not start: ${error}` });
  });
} catch (error) {
  self.postMessage({ kind: 'failed', id: null, message: `the threaded classifier did not load: ${error}` });
}
