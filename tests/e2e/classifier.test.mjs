// The classifier as a visitor uses it: the webcam (Chromium's fake camera playing the shared cricket clip)
// on the CPU and on WebGPU (SwiftShader), a camera that goes away, video uploads with their timeline and CSV export,
// a denied camera, and the weights cache.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { launchCameraDenied, launchWithCamera, modelReady, screenshot, ASSETS_URL, BASE_URL, SCREENSHOT_DIR, SHARED_DIR } from './browser.mjs';
import { contract } from '../support/contract.mjs';
import { installWorkerClient } from '../support/protocol.mjs';

const GIF = path.join(SHARED_DIR, 'data/video/v_CricketShot_g04_c01_rgb.gif');
const Y4M = path.join(SCREENSHOT_DIR, 'cricket.y4m');
const WEBM = path.join(SCREENSHOT_DIR, 'cricket-upload.webm');
// The same clip written as a stream, as MediaRecorder writes WebM: no duration in the file.
const STREAMED_WEBM = path.join(SCREENSHOT_DIR, 'cricket-streamed.webm');
const WEIGHTS = /\/model\/.*\.safetensors$/;

let camera; // Chromium whose fake camera plays the cricket clip, permission granted
let denied; // Chromium with a fake camera whose permission prompts are refused

before(async () => {
  fs.mkdirSync(SCREENSHOT_DIR, { recursive: true });
  execFileSync('ffmpeg', ['-v', 'error', '-y', '-i', GIF, '-r', '25', '-pix_fmt', 'yuv420p', Y4M]);
  execFileSync('ffmpeg', ['-v', 'error', '-y', '-i', GIF, '-c:v', 'libvpx', '-b:v', '1M', '-r', '25', '-pix_fmt', 'yuv420p', '-an', WEBM]);
  fs.writeFileSync(STREAMED_WEBM, execFileSync('ffmpeg', ['-v', 'error', '-i', GIF, '-c:v', 'libvpx', '-b:v', '1M', '-r', '25', '-pix_fmt', 'yuv420p', '-an', '-f', 'webm', 'pipe:1'], { maxBuffer: 64 << 20 }));
  camera = await launchWithCamera(Y4M);
  denied = await launchCameraDenied();
});
after(async () => {
  await camera?.close();
  await denied?.close();
});

/**
 * A page in a fresh context (own cache), recording errors, weight requests and long tasks. `isolated: false`
 * strips the cross-origin isolation headers from every response, as a host that does not send them would.
 */
async function open(browser, url, { isolated = true } = {}) {
  const context = await browser.newContext({
    viewport: { width: 1280, height: 1000 },
    acceptDownloads: true,
    // Routed responses must not be answered by the service worker instead.
    serviceWorkers: isolated ? 'allow' : 'block',
  });
  if (!isolated) {
    await context.route('**/*', async (route) => {
      const response = await route.fetch();
      const headers = { ...response.headers() };
      for (const name of contract.isolationHeaderNames) delete headers[name];
      await route.fulfill({ response, headers });
    });
  }
  const page = await context.newPage();
  page.errors = [];
  page.weightRequests = [];
  page.on('pageerror', (e) => page.errors.push(String(e)));
  page.on('console', (m) => { if (m.type() === 'error') page.errors.push(m.text()); });
  context.on('request', (r) => { if (WEIGHTS.test(r.url())) page.weightRequests.push(r.url()); });
  await page.addInitScript(() => {
    window.__longTasks = [];
    new PerformanceObserver((list) => {
      for (const e of list.getEntries()) window.__longTasks.push({ start: e.startTime, duration: e.duration });
    }).observe({ type: 'longtask', buffered: true });
  });
  await page.goto(`${BASE_URL}${url}`);
  return page;
}

const ready = modelReady;

/** The first item of the `predictions` (or other) list, once it starts with `label`. */
async function waitForTop(page, testid, label, timeout) {
  await page.waitForFunction(
    ([id, want]) => document.querySelector(`[data-testid="${id}"] li a`)?.textContent === want,
    [testid, label],
    { timeout, polling: 500 },
  );
}

/** Presses "Start camera", waits until `label` is the first prediction and logs how long that took. */
async function startCameraUntil(page, label, backend, timeout) {
  const clicked = Date.now();
  await page.getByTestId('start-camera').click();
  await page.locator('[data-testid="predictions"] li').first().waitFor({ timeout });
  const first = Date.now();
  await waitForTop(page, 'predictions', label, timeout);
  console.log(`# ${backend}: click to first prediction ${first - clicked} ms, to "${label}" first ${Date.now() - clicked} ms`);
}

async function longTasksSince(page, since) {
  return page.evaluate((t) => window.__longTasks.filter((e) => e.start >= t), since);
}

/** The expected thread count of the threaded build here: the cores the browser reports, at most 8. */
async function expectedThreads(page) {
  return page.evaluate(() => Math.min(navigator.hardwareConcurrency, 8));
}

test('webcam on the CPU (threaded build): "playing cricket" first, predictions keep coming, the page never blocks', async () => {
  const page = await open(camera, '/classify?backend=cpu');
  await ready(page, 'cpu', 120_000);
  // The page is cross-origin isolated: the threaded build runs on a thread per core (up to 8).
  const threads = page.getByTestId('threads');
  assert.equal(Number(await threads.getAttribute('data-threads')), await expectedThreads(page), await threads.innerText());
  assert.match(await threads.innerText(), /threads on Web Workers/);
  // Chromium has relaxed SIMD: the threaded build's relaxed flavour runs, and the panel says so.
  assert.match(await threads.innerText(), /relaxed SIMD \(fused multiply-add\)/);
  const since = await page.evaluate(() => performance.now());
  await startCameraUntil(page, 'playing cricket', 'cpu', 180_000);
  // Windows overlap and never queue: predictions keep coming, one at a time.
  const stats = page.getByTestId('live-stats');
  const count = Number(await stats.getAttribute('data-count'));
  await page.waitForFunction((n) => Number(document.querySelector('[data-testid="live-stats"]')?.dataset.count) >= n + 3,
    count, { timeout: 60_000, polling: 200 });
  const perSecond = Number(await stats.getAttribute('data-per-second'));
  assert.ok(perSecond > 0, `predictions per second: ${perSecond}`);
  const blocked = await longTasksSince(page, since);
  const text = await page.getByTestId('predictions').innerText();
  console.log(`# cpu live (${await threads.innerText()}): ${text.split('\n')[0]} | ${await stats.innerText()} | long tasks: ${JSON.stringify(blocked)}`);
  assert.deepEqual(blocked, [], 'the main thread blocked for more than 50 ms');
  // The class links to its explorer page.
  assert.equal(await page.locator('[data-testid="predictions"] li a').first().getAttribute('href'), '/classes/playing%20cricket?v=400');
  await screenshot(page, 'classifier-camera-cpu');
  // The camera goes away (unplugged): the browser ends its track. The page says so and stops the live view.
  await page.evaluate(() => document.querySelector('[data-testid="video"]').srcObject.getVideoTracks()[0].dispatchEvent(new Event('ended')));
  const error = page.getByTestId('camera-error');
  await error.waitFor({ timeout: 10_000 });
  assert.equal(await error.getAttribute('data-code'), 'ended');
  assert.match(await error.innerText(), /camera stopped sending pictures/);
  await page.getByTestId('predictions').waitFor({ state: 'detached', timeout: 10_000 });
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

test('without cross-origin isolation the single-threaded build runs, says why, and still finds "playing cricket"', async () => {
  const page = await open(camera, '/classify?backend=cpu', { isolated: false });
  assert.equal(await page.evaluate(() => crossOriginIsolated), false);
  await ready(page, 'cpu', 120_000);
  const threads = page.getByTestId('threads');
  assert.equal(await threads.getAttribute('data-threads'), '1');
  assert.match(await threads.innerText(), /one thread: the page is not cross-origin isolated/);
  assert.match(await threads.innerText(), /\(the single-threaded build, 128-bit SIMD\)/);
  await startCameraUntil(page, 'playing cricket', 'cpu (one thread)', 180_000);
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

/** Every worker build: its script, the threads to ask for (null: a thread per core), and what its panel says. */
const BUILDS = [
  { name: 'single-threaded', script: contract.singleThreadedWorker, threads: 1, note: /single-threaded build, 128-bit SIMD/ },
  { name: 'threaded', script: contract.threadedWorker, threads: null, note: /threads on Web Workers .*128-bit SIMD/ },
  { name: 'threaded, relaxed SIMD', script: contract.relaxedWorker, threads: null, note: /threads on Web Workers .*relaxed SIMD/ },
];

test('every worker build: the reference logits (rel. L2 < 1e-4, same top-5) with the f32 weights', async () => {
  assert.ok(ASSETS_URL, 'ASSETS_URL (weights and fixtures) is not set: run through `cargo xtask test`');
  const page = await open(camera, '/');
  // The fixture is read here and handed to the page: the page's Content-Security-Policy lets it fetch only from
  // its own origin and https (the worker fetches the weights from the asset server; workers are not under it).
  const fixture = fs.readFileSync(path.join(SHARED_DIR, 'fixtures/i3d_ref_smooth16.safetensors'));
  const n = Number(fixture.readBigUInt64LE(0));
  const header = JSON.parse(fixture.subarray(8, 8 + n).toString('utf8'));
  const tensor = (name) => fixture.subarray(8 + n + header[name].data_offsets[0], 8 + n + header[name].data_offsets[1]);
  await installWorkerClient(page);
  for (const build of BUILDS) {
  const threads = build.threads ?? await expectedThreads(page);
  const report = await page.evaluate(async ({ script, manifestUrl, threads, inputBase64, logitsBase64, frames }) => {
    const bytes = (b64) => Uint8Array.from(atob(b64), (c) => c.charCodeAt(0)).buffer;
    const input = bytes(inputBase64);
    const reference = new Float32Array(bytes(logitsBase64));
    const client = new KinetiscopeWorker(script);
    const ready = await client.load({ backend: 'cpu', precision: 'f32', manifestUrl, threads });
    const { logits, model_ms } = await client.run(frames, input);
    client.terminate();
    let diff = 0, norm = 0;
    for (let i = 0; i < reference.length; i++) { diff += (logits[i] - reference[i]) ** 2; norm += reference[i] ** 2; }
    const top = (xs) => [...xs.keys()].sort((a, b) => xs[b] - xs[a]).slice(0, 5);
    return { relL2: Math.sqrt(diff / norm), top5: top(logits), refTop5: top([...reference]), threads: ready.threads, precision: ready.precision, model_ms };
  }, {
    script: build.script,
    // The asset server's weights folder holds the f32 weights with the manifest the site's model has.
    manifestUrl: `${ASSETS_URL}/weights/${path.basename(contract.modelManifest)}`,
    threads,
    inputBase64: tensor('input').toString('base64'),
    logitsBase64: tensor('logits').toString('base64'),
    frames: header.input.shape[1],
  });
  console.log(`# ${build.name} parity: rel. L2 ${report.relL2.toExponential(2)}, ${report.threads.note}, ${report.model_ms.toFixed(0)} ms`);
  assert.equal(report.precision, 'f32');
  assert.equal(report.threads.count, threads, report.threads.note);
  assert.match(report.threads.note, build.note);
  assert.ok(report.relL2 < 1e-4, `${build.name}: rel. L2 ${report.relL2}`);
  assert.deepEqual(report.top5, report.refTop5, build.name);
  }
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

test('webcam on WebGPU (SwiftShader): "playing cricket" becomes the first prediction', async () => {
  const page = await open(camera, '/classify?backend=webgpu');
  await ready(page, 'wgpu', 300_000);
  assert.match(await page.getByTestId('model-status').innerText(), /WebGPU/);
  await startCameraUntil(page, 'playing cricket', 'webgpu', 600_000);
  console.log(`# webgpu live: ${await page.getByTestId('live-stats').innerText()}`);
  await screenshot(page, 'classifier-camera-webgpu');
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

test('video and GIF upload: timeline, overall "playing cricket", CSV with one row per window; cached weights on reload', async () => {
  const page = await open(camera, '/classify?backend=cpu');
  await ready(page, 'cpu', 120_000);
  assert.ok(page.weightRequests.length >= 1, 'the first visit downloads the weights');
  await page.getByTestId('video-input').setInputFiles(WEBM);
  await page.getByTestId('timeline').waitFor({ timeout: 180_000 });
  await waitForTop(page, 'overall', 'playing cricket', 5_000);
  const heading = await page.locator('.video-results h2').innerText();
  const windows = Number(/(\d+) windows/.exec(heading)[1]);
  assert.ok(windows >= 2, heading);
  await screenshot(page, 'classifier-upload');

  const [download] = await Promise.all([page.waitForEvent('download'), page.getByTestId('export-csv').click()]);
  const csv = fs.readFileSync(await download.path(), 'utf8').trim().split('\n');
  assert.match(csv[0], /^window,start_s,end_s,frames,top1_label,top1_prob/);
  assert.equal(csv.length, windows + 1, csv.join('\n'));

  // A WebM without a stated duration (the browser reports Infinity until it has read to the end).
  await page.getByTestId('video-input').setInputFiles(STREAMED_WEBM);
  await page.locator('.video-results h2', { hasText: `cricket-streamed.webm: ${windows} windows` }).waitFor({ timeout: 180_000 });
  await waitForTop(page, 'overall', 'playing cricket', 5_000);

  // An animated GIF too (WebCodecs ImageDecoder, resampled to 25 fps).
  await page.getByTestId('video-input').setInputFiles(GIF);
  await page.locator('.video-results h2', { hasText: 'v_CricketShot_g04_c01_rgb.gif:' }).waitFor({ timeout: 180_000 });
  await waitForTop(page, 'overall', 'playing cricket', 5_000);
  await screenshot(page, 'classifier-gif');

  // Second visit: the weights come from the Cache API, not the network.
  const before = page.weightRequests.length;
  await page.reload();
  await ready(page, 'cpu', 120_000);
  assert.equal(page.weightRequests.length, before, `weights fetched again: ${page.weightRequests}`);
  assert.match(await page.locator('.model-panel').innerText(), /from the cache/);
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

test('camera permission denied: its message shows and the sample clip still works', async () => {
  const page = await open(denied, '/classify?backend=cpu');
  await page.getByTestId('start-camera').click();
  const error = page.getByTestId('camera-error');
  await error.waitFor({ timeout: 30_000 });
  assert.equal(await error.getAttribute('data-code'), 'denied');
  assert.match(await error.innerText(), /permission was denied/);
  await screenshot(page, 'classifier-camera-denied');
  await page.getByTestId('sample').click();
  await page.getByTestId('timeline').waitFor({ timeout: 240_000 });
  await waitForTop(page, 'overall', 'playing cricket', 5_000);
  await screenshot(page, 'classifier-sample');
  // The refusal is logged as a warning, not an error.
  assert.deepEqual(page.errors, []);
  await page.context().close();
});
