// The threaded build's start-up, when it cannot start: each failure a host or a browser can cause lands on the
// single-threaded build within 5 s of the failure, and the model panel says why. The failures are made by
// routing the threaded build's files (what the browser then does is real): its wasm missing, a shared memory
// refused, its thread script missing, throwing or silent, a thread worker that cannot be created, and a module
// that never boots. Pages are cross-origin isolated (xtask's server sends COOP/COEP), so the threaded build is
// the first one tried: in Chromium, which has relaxed SIMD, its relaxed-SIMD flavour, whose files are routed here.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { launch, modelReady, screenshot, BASE_URL } from './browser.mjs';
import { contract, threaded } from '../support/contract.mjs';

/** The single-threaded build's loader (trunk's worker loader shim), requested when it takes over. */
const SINGLE_LOADER = contract.singleThreadedWorker;
/**
 * The threaded loader Chromium starts (the relaxed-SIMD flavour's), whose routed copies say they are alive on this
 * channel every 50 ms until terminated.
 */
const THREADED_LOADER = contract.relaxedWorker;
/** A file of that build. */
const started = (file) => threaded(file, contract.relaxedDir);
const HEARTBEAT = 'kinetiscope-test-threaded-alive';

let browser;
before(async () => { browser = await launch(); });
after(async () => { await browser?.close(); });

/**
 * Opens `/classify?backend=cpu` in a fresh context (service worker blocked, so that routes see every request)
 * with `path` of the threaded build answered by `fault(route)`; returns the page and the times (ms since the
 * epoch) at which the fault was served and the single-threaded build was requested.
 */
async function openWithFault(path, fault, { clock = false, heartbeat = true } = {}) {
  const context = await browser.newContext({ viewport: { width: 1280, height: 1000 }, serviceWorkers: 'block' });
  const page = await context.newPage();
  page.errors = [];
  page.on('pageerror', (e) => page.errors.push(`${e}\n${e.stack}`));
  const times = { fault: null, single: null, heartbeat };
  if (heartbeat && path !== THREADED_LOADER) await context.route(`**${THREADED_LOADER}`, edited((js) => js));
  // The context's routes also see what the workers fetch (their wasm, the pool's thread script).
  await context.route(`**${path}`, async (route) => {
    times.fault ??= Date.now();
    await fault(route);
  });
  page.on('request', (request) => {
    if (new URL(request.url()).pathname === SINGLE_LOADER) times.single ??= Date.now();
  });
  if (clock) await page.clock.install();
  await page.goto(`${BASE_URL}/classify?backend=cpu`);
  assert.equal(await page.evaluate(() => crossOriginIsolated), true, 'the page must be cross-origin isolated');
  return { page, times };
}

/**
 * The threaded loader changed by `edit(text)`, and made to say it is alive (see [`HEARTBEAT`]) while it runs, so
 * that a test can tell whether it was terminated.
 */
function edited(edit) {
  return async (route) => {
    const response = await route.fetch();
    const alive = `setInterval(() => new BroadcastChannel('${HEARTBEAT}').postMessage(1), 50);\n`;
    await route.fulfill({ response, body: alive + edit(await response.text()) });
  };
}

/** Whether a routed threaded loader still runs: a heartbeat within `ms`. */
async function threadedAlive(page, ms = 1_000) {
  return page.evaluate(([name, ms]) => new Promise((resolve) => {
    const channel = new BroadcastChannel(name);
    channel.onmessage = () => { channel.close(); resolve(true); };
    setTimeout(() => { channel.close(); resolve(false); }, ms);
  }), [HEARTBEAT, ms]);
}

/**
 * Waits for the model on one thread, then checks the single-threaded build took over within `within` ms of
 * the fault and that the panel gives `why`.
 */
async function landsOnOneThread(page, times, why, within = 5_000) {
  await modelReady(page, 'cpu', 120_000);
  const threads = page.getByTestId('threads');
  assert.equal(await threads.getAttribute('data-threads'), '1');
  const note = await threads.innerText();
  assert.match(note, /one thread: the threaded build could not start \(/, note);
  assert.match(note, why, note);
  assert.ok(times.fault && times.single, `fault at ${times.fault}, single-threaded build at ${times.single}`);
  const took = times.single - times.fault;
  console.log(`# ${note} (the single-threaded build requested ${took} ms after the fault)`);
  assert.ok(took <= within, `the single-threaded build was requested ${took} ms after the fault`);
  // The threaded worker was terminated: it no longer says it is alive. (Playwright's list of the page's workers
  // may keep a terminated worker that had workers of its own for a while, so the worker is asked itself.)
  if (times.heartbeat) assert.equal(await threadedAlive(page), false, 'the threaded worker still runs');
  assert.ok(page.workers().some((w) => new URL(w.url()).pathname === SINGLE_LOADER), 'the single-threaded worker runs');
  assert.deepEqual(page.errors, []);
}

test("the threaded build's wasm missing (404): one thread, said why", async () => {
  const { page, times } = await openWithFault(started(contract.threadedWasm), (route) => route.fulfill({ status: 404, body: 'not here' }));
  await landsOnOneThread(page, times, /the threaded classifier did not start/);
  await screenshot(page, 'threads-wasm-missing');
  await page.context().close();
});

test("the threaded build's loader missing (404): one thread, said why", async () => {
  const { page, times } = await openWithFault(THREADED_LOADER, (route) => route.fulfill({ status: 404, body: 'not here' }), { heartbeat: false });
  await landsOnOneThread(page, times, /its script could not be loaded/);
  await page.context().close();
});

test('a shared WebAssembly.Memory refused: one thread, said why', async () => {
  const refuse = "WebAssembly.Memory = function () { throw new RangeError('WebAssembly.Memory(): could not allocate memory (simulated)'); };\n";
  const { page, times } = await openWithFault(THREADED_LOADER, edited((js) => refuse + js));
  await landsOnOneThread(page, times, /could not allocate memory \(simulated\)/);
  await page.context().close();
});

/**
 * The threaded build with its pool's thread script replaced: `script` is a URL or, as an object `{ body }`, the
 * script's text. (What a worker's workers fetch is beyond the test's routes, so the classifier worker is given a
 * `Worker` constructor that starts the replacement instead of `thread.js`.)
 */
function threadScript(script) {
  const url = typeof script === 'string'
    ? JSON.stringify(script)
    : `URL.createObjectURL(new Blob([${JSON.stringify(script.body)}], { type: 'text/javascript' }))`;
  return edited((js) => `{
  const RealWorker = self.Worker;
  self.Worker = function (url, options) {
    const thread = new URL(url, self.location.href).pathname === ${JSON.stringify(started(contract.threadScript))};
    return new RealWorker(thread ? ${url} : url, options);
  };
}
${js}`);
}

test("the threads' script missing (404): one thread, said why", async () => {
  const { page, times } = await openWithFault(THREADED_LOADER, threadScript(started('missing-thread-script.js')));
  await landsOnOneThread(page, times, /the thread workers failed \(its script could not be loaded\)/);
  await page.context().close();
});

test("the threads' script throwing: one thread, said why", async () => {
  const { page, times } = await openWithFault(THREADED_LOADER, threadScript({ body: "throw new Error('thread script failed (simulated)');" }));
  await landsOnOneThread(page, times, /the thread workers failed \(.*thread script failed \(simulated\)/);
  await page.context().close();
});

test('a pool thread that never answers: one thread after the 10 s start limit, said why', async () => {
  const { page, times } = await openWithFault(THREADED_LOADER, threadScript({ body: 'self.onmessage = () => {}; // never says it is ready' }));
  // Meanwhile the threaded worker runs (and says so), waiting for its threads.
  assert.equal(await threadedAlive(page), true, 'the threaded worker runs while it waits');
  await landsOnOneThread(page, times, /not all started within 10 s/, 10_000 + 5_000);
  await page.context().close();
});

test('the second thread worker cannot be created: one thread, said why', async () => {
  const refuseSecond = `{
  const RealWorker = self.Worker;
  let created = 0;
  self.Worker = function (url, options) {
    created += 1;
    if (created === 2) throw new DOMException('refused (simulated)', 'SecurityError');
    return new RealWorker(url, options);
  };
}
`;
  const { page, times } = await openWithFault(THREADED_LOADER, edited((js) => refuseSecond + js));
  await landsOnOneThread(page, times, /thread worker 2 of \d+ could not be created \(refused \(simulated\)\)/);
  await page.context().close();
});

test('a threaded build that never boots: after 20 s the single-threaded build, said why', async () => {
  const { page, times } = await openWithFault(THREADED_LOADER, edited(() => '// this worker never boots\n'), { clock: true });
  await page.getByTestId('model-status').filter({ hasText: 'Starting the classifier' }).waitFor();
  const before = Date.now();
  await page.clock.fastForward('00:21');
  // The page's clock jumped 21 s: the hand-over is timed from the jump.
  times.fault = before;
  await landsOnOneThread(page, times, /did not start within 20 s/);
  await page.context().close();
});
