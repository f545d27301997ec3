// The threaded classifier worker (crates/classifier-worker, built with WebAssembly threads by `cargo xtask`):
// wasm-bindgen's no-modules glue, instantiated on a new shared memory. Its CPU executor's threads run in
// thread.js workers on that same memory (crates/classifier-worker/src/threads.rs).
//
// A module that cannot start (its files missing, no shared memory here, an older browser) throws: the error
// reaches the page as this worker's `error` event, and the page starts the single-threaded build instead
// (crates/app/src/classifier/client/boot.rs). This file sends no message of its own, so it restates nothing of the
// protocol between the page and the worker (crates/protocol): once the module runs, it speaks for itself. The names
// of the files beside it come from the site contract, which the build (crates/site) writes below.
const CONTRACT = __KINETISCOPE_CONTRACT__;
importScripts(`./${CONTRACT.threadedGlue}`);
wasm_bindgen({ module_or_path: `./${CONTRACT.threadedWasm}` }).catch((error) => {
  // Thrown outside the promise, so that it is an uncaught error of this worker, which the page receives.
  setTimeout(() => {
    throw new Error(`the threaded classifier did not start: ${error}`);
  });
});
