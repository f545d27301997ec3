// The one speaker of the classifier worker's protocol (crates/protocol) among the browser tests and benchmarks.
//
// `installWorkerClient(page)` defines `KinetiscopeWorker` in the page (call it after each navigation). Its messages
// are built from the contract's samples of the Rust types (`contract.messages`): a field or kind the protocol does
// not have throws, so a harness cannot drift from the worker without failing.
//
//   const client = new KinetiscopeWorker(script);        // a worker build's script (contract.threadedWorker, …)
//   const ready = await client.load({ backend: 'cpu', precision: 'f32', threads: 2, manifestUrl });
//   const { logits, model_ms } = await client.run(frames, buffer);
//   const { probs, model_ms } = await client.classify(224, 224, buffers);
//   const { head, ms } = await client.train([{ name, examples: [[…1024 values], …] }, …]);   // head: the file's text
//   client.terminate();
import { contract } from './contract.mjs';

/** Defines `KinetiscopeWorker` and `KinetiscopeContract` in `page`'s main world. */
export async function installWorkerClient(page) {
  await page.evaluate(defineClient, contract);
}

/**
 * Source of a worker-side check (for scripts a test edits): whether a `MessageEvent` named `event` carries a
 * message of `kind` from the page, e.g. `self.addEventListener('message', (e) => { if (${isMessage('e', 'classify')}) … })`.
 */
export function isMessage(event, kind) {
  if (!(kind in contract.messages.toWorker)) throw new Error(`the protocol has no message of kind ${kind}`);
  const tag = Object.keys(contract.messages.toWorker[kind]).find((key) => contract.messages.toWorker[kind][key] === kind);
  return `(${event}.data?.${contract.envelope.message}?.${tag} === ${JSON.stringify(kind)})`;
}

/** Runs in the page: the client class, on the contract handed over. */
function defineClient(contract) {
  const { messages, choices, envelope } = contract;
  // The kinds this client reads by name; each must be one of the protocol's.
  const KINDS = ['booted', 'ready', 'logits', 'classified', 'trained', 'failed', 'unstartable'];
  for (const kind of KINDS) if (!(kind in messages.fromWorker)) throw new Error(`the protocol has no ${kind} message`);

  const message = (kind, fields) => {
    const sample = messages.toWorker[kind];
    if (!sample) throw new Error(`the protocol has no message of kind ${kind}`);
    for (const key of Object.keys(fields)) if (!(key in sample)) throw new Error(`a ${kind} message has no field ${key}`);
    return { ...sample, ...fields };
  };
  const choice = (what, name) => {
    if (!(name in choices[what])) throw new Error(`no ${what} ${name}: one of ${Object.keys(choices[what])}`);
    return choices[what][name];
  };

  class KinetiscopeWorker {
    constructor(script) {
      this.worker = new Worker(script);
      this.inbox = [];
      this.waiting = [];
      this.failure = null;
      this.nextId = 1;
      this.worker.onmessage = ({ data }) => {
        const kind = Object.keys(data ?? {})[0];
        if (!(kind in messages.fromWorker)) {
          this.fail(new Error(`not a message of the protocol: ${JSON.stringify(data).slice(0, 200)}`));
        } else if (kind === 'failed' || kind === 'unstartable') {
          this.fail(new Error(`${kind}: ${data[kind].message}`));
        } else {
          this.inbox.push([kind, data[kind]]);
          this.pump();
        }
      };
      this.worker.onerror = (event) => this.fail(new Error(`worker error: ${event.message ?? 'its script could not be loaded'}`));
    }

    fail(error) {
      this.failure ??= error;
      for (const [, , reject] of this.waiting.splice(0)) reject(this.failure);
    }

    pump() {
      this.waiting = this.waiting.filter(([kind, resolve]) => {
        const at = this.inbox.findIndex(([k]) => k === kind);
        if (at < 0) return true;
        resolve(this.inbox.splice(at, 1)[0][1]);
        return false;
      });
    }

    /** The fields of the next message of `kind` from the worker. */
    next(kind) {
      if (!(kind in messages.fromWorker)) return Promise.reject(new Error(`the protocol has no ${kind} message`));
      if (this.failure) return Promise.reject(this.failure);
      return new Promise((resolve, reject) => {
        this.waiting.push([kind, resolve, reject]);
        this.pump();
      });
    }

    post(kind, fields, buffers = []) {
      this.worker.postMessage({ [envelope.message]: message(kind, fields), [envelope.frames]: buffers }, buffers);
    }

    /** Boots the worker and loads the model: `ready`'s fields. */
    async load({ backend = 'auto', precision = 'auto', threads = 1, manifestUrl = contract.modelManifest } = {}) {
      await this.next('booted');
      const ready = this.next('ready');
      this.post('load', { backend: choice('backend', backend), precision: choice('precision', precision), manifest_url: manifestUrl, threads });
      return ready;
    }

    /** Runs the network on a pre-processed clip of `frames` frames (f32, NTHWC, in `buffer`, transferred). */
    async run(frames, buffer) {
      const done = this.next('logits');
      this.post('run', { id: this.nextId++, frames }, [buffer]);
      return done;
    }

    /** Classifies a window of RGBA frames `width`×`height` (`buffers`, transferred); `feature`: with its clip feature. */
    async classify(width, height, buffers, { feature = false } = {}) {
      const done = this.next('classified');
      this.post('classify', { id: this.nextId++, width, height, cam: false, feature }, buffers);
      return done;
    }

    /** Trains a few-shot head on `classes` (`[{ name, examples: [feature vectors] }]`) with the default settings. */
    async train(classes) {
      const done = this.next('trained');
      this.post('train', { id: this.nextId++, classes, settings: messages.toWorker.train.settings, keep_examples: false });
      return done;
    }

    terminate() {
      this.worker.terminate();
    }
  }
  globalThis.KinetiscopeWorker = KinetiscopeWorker;
  globalThis.KinetiscopeContract = contract;
}
