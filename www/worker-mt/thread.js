// One thread of the threaded classifier's CPU pool (crates/classifier-worker/src/threads.rs): it says its scripts
// are loaded, receives the classifier's WebAssembly module and shared memory, instantiates the module on them, says
// it is ready, then runs the rayon thread handed to it until the classifier worker ends. The glue's name and the export to call come
// from the site contract, which the build (crates/site) writes below.
const CONTRACT = __KINETISCOPE_CONTRACT__;
importScripts(`./${CONTRACT.threadedGlue}`);
self.postMessage('loaded');
self.onmessage = (event) => {
  self.onmessage = null;
  const [module, memory] = event.data;
  wasm_bindgen.initSync({ module, memory });
  self.postMessage('ready');
  wasm_bindgen[CONTRACT.threadEntry]();
};
