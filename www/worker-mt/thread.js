// One thread of the threaded classifier's CPU pool (crates/classifier-worker/src/threads.rs): it receives the
// classifier's WebAssembly module and shared memory, instantiates the module on them, says it is ready, then
// runs the rayon thread handed to it until the classifier worker ends.
importScripts('./worker.js');
self.onmessage = (event) => {
  self.onmessage = null;
  const [module, memory] = event.data;
  wasm_bindgen.initSync({ module, memory });
  self.postMessage('ready');
  wasm_bindgen.kinetiscope_thread_run();
};
