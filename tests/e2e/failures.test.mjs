// The classifier when things go wrong, as a visitor would meet them: no WebGPU, a forced WebGPU without an
// adapter, a worker that crashes or never starts, leaving mid-analysis, and files the browser cannot use. Each
// gets a message that says what to do, and the page keeps working. The worker is changed by routing its script
// (a page's init script does not reach workers): what it does is real, only its environment is altered.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { launch, modelReady, screenshot, BASE_URL, SCREENSHOT_DIR, SHARED_DIR } from './browser.mjs';
import { contract, isClassifierWorker, WORKER_SCRIPTS } from '../support/contract.mjs';
import { isMessage } from '../support/protocol.mjs';

const GIF = path.join(SHARED_DIR, 'data/video/v_CricketShot_g04_c01_rgb.gif');
const SHORT_WEBM = path.join(SCREENSHOT_DIR, 'cricket-short.webm');

let browser;
before(async () => {
  fs.mkdirSync(SCREENSHOT_DIR, { recursive: true });
  // 0.3 s: 7 frames at 25 fps, fewer than the model's shortest window.
  execFileSync('ffmpeg', ['-v', 'error', '-y', '-i', GIF, '-t', '0.3', '-c:v', 'libvpx', '-r', '25', '-pix_fmt', 'yuv420p', '-an', SHORT_WEBM]);
  browser = await launch();
});
after(async () => { await browser?.close(); });

/**
 * A page in a fresh context with the service worker blocked (so that routes see the worker's script), recording
 * errors. `worker(original)` returns the worker script to serve instead of the original (both builds).
 */
async function open({ worker, clock = false } = {}) {
  const context = await browser.newContext({ viewport: { width: 1280, height: 1000 }, serviceWorkers: 'block', acceptDownloads: true });
  const page = await context.newPage();
  page.errors = [];
  page.on('pageerror', (e) => page.errors.push(String(e)));
  page.on('console', (m) => { if (m.type() === 'error') page.errors.push(m.text()); });
  if (worker) await routeWorker(page, worker);
  if (clock) await page.clock.install();
  return page;
}

async function routeWorker(page, worker) {
  for (const script of WORKER_SCRIPTS) {
    await page.route(`**${script}`, async (route) => {
      const response = await route.fetch();
      try {
        await route.fulfill({ response, body: worker(await response.text()) });
      } catch (error) {
        // Unrouted (or the page closed) while the original was fetched: Playwright let the request through.
        if (!/Route is already handled|closed/.test(String(error))) throw error;
      }
    });
  }
}

async function unrouteWorker(page) {
  for (const script of WORKER_SCRIPTS) await page.unroute(`**${script}`);
}

async function modelError(page) {
  const error = page.getByTestId('model-error');
  await error.waitFor({ timeout: 120_000 });
  return error.innerText();
}

test('no WebGPU in the browser: "auto" runs on the CPU and says why', async () => {
  const page = await open({ worker: (js) => `delete WorkerNavigator.prototype.gpu;\n${js}` });
  await page.goto(`${BASE_URL}/classify`);
  await modelReady(page, 'cpu', 120_000);
  const status = await page.getByTestId('model-status').innerText();
  // Plain words; what wgpu said is behind a disclosure.
  assert.match(status, /because this browser has no WebGPU\./, status);
  assert.match(await page.getByTestId('reason-detail').textContent(), /navigator\.gpu is missing/);
  assert.equal(await page.getByTestId('reason-detail').evaluate((d) => d.open), false);
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

test('WebGPU with no adapter: "auto" runs on the CPU, says so in plain words, wgpu\'s message behind "Details"', async () => {
  const page = await open({ worker: (js) => `GPU.prototype.requestAdapter = async () => null;\n${js}` });
  await page.goto(`${BASE_URL}/classify`);
  await modelReady(page, 'cpu', 120_000);
  const status = await page.getByTestId('model-status').innerText();
  assert.match(status, /because WebGPU is available but found no adapter\./, status);
  assert.doesNotMatch(status, /not compiled in/, status);
  const detail = page.getByTestId('reason-detail');
  await detail.locator('summary').click();
  assert.match(await detail.innerText(), /no WebGPU adapter/);
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

test('WebGPU asked for by name with no adapter: a clear error, and the CPU one click away', async () => {
  const page = await open({ worker: (js) => `GPU.prototype.requestAdapter = async () => null;\n${js}` });
  await page.goto(`${BASE_URL}/classify?backend=webgpu`);
  const message = await modelError(page);
  assert.match(message, /wgpu was asked for but cannot be used: no WebGPU adapter/, message);
  assert.match(message, /Open the page without \?backend= and \?precision= to let it choose\./);
  await screenshot(page, 'failure-no-adapter');
  await page.getByTestId('use-cpu').click();
  await modelReady(page, 'cpu', 120_000);
  assert.match(page.url(), /\/classify\?backend=cpu$/);
  await page.context().close();
});

test('a worker that crashes mid-analysis: the analysis and the model say so, "Try again" restarts it', async () => {
  // A trap in the worker while it classifies (as a WASM out-of-memory or `unreachable` would be): an uncaught
  // error in its message handler.
  const crash = (js) => `${js}\nself.addEventListener('message', (e) => { if (${isMessage('e', 'classify')}) throw new Error('simulated crash'); });`;
  const page = await open({ worker: crash });
  await page.goto(`${BASE_URL}/classify?backend=cpu`);
  await modelReady(page, 'cpu', 120_000);
  await page.getByTestId('sample').click();
  const message = await modelError(page);
  assert.match(message, /the classifier worker stopped: .*simulated crash.*Press “Try again” to restart it\./, message);
  await page.getByTestId('video-error').waitFor({ timeout: 30_000 });
  assert.match(await page.getByTestId('video-error').innerText(), /simulated crash/);
  await screenshot(page, 'failure-worker-crash');
  await unrouteWorker(page);
  await page.getByTestId('model-retry').click();
  await modelReady(page, 'cpu', 120_000);
  // The crashed worker was terminated: one classifier worker is alive, the new one.
  const classifiers = page.workers().filter((w) => isClassifierWorker(w.url()));
  assert.equal(classifiers.length, 1, classifiers.map((w) => w.url()).join(', '));
  await page.context().close();
});

test('a worker that never starts: after 60 s a message and "Try again", which starts it', async () => {
  const page = await open({ worker: () => '// this worker never boots\n', clock: true });
  const single = page.waitForRequest(`**${contract.singleThreadedWorker}`);
  await page.goto(`${BASE_URL}/classify?backend=cpu`);
  await page.getByTestId('model-status').filter({ hasText: 'Starting the classifier' }).waitFor();
  // The threaded build (the page is isolated) is given 20 s, then the single-threaded build 60 s.
  await page.clock.fastForward('00:21');
  await single;
  await page.clock.fastForward('01:01');
  const message = await modelError(page);
  assert.match(message, /did not start within 60 s\. Press “Try again”, or reload the page\./, message);
  await unrouteWorker(page);
  await page.getByTestId('model-retry').click();
  await modelReady(page, 'cpu', 120_000);
  await page.context().close();
});

test('leaving mid-analysis stops it; back on the page, the windows done so far are shown and exportable', async () => {
  const page = await open();
  await page.goto(`${BASE_URL}/classify?backend=cpu&threads=1`);
  await modelReady(page, 'cpu', 120_000);
  await page.getByTestId('sample').click();
  await page.getByTestId('analysis-progress').filter({ hasText: /Window [3-9] of/ }).waitFor({ timeout: 120_000 });
  await page.getByRole('link', { name: 'Explorer' }).first().click();
  await page.waitForURL(/\/classes/);
  await page.goBack();
  await page.waitForURL(/\/classify\?backend=cpu&threads=1$/);
  const stopped = page.getByTestId('analysis-stopped');
  await stopped.waitFor({ timeout: 10_000 });
  const heading = await stopped.locator('h2').innerText();
  const [, done, total] = /stopped after (\d+) of (\d+) windows/.exec(heading).map(Number);
  assert.ok(done >= 1 && done < total, heading);
  assert.equal(await page.getByTestId('analysis-progress').count(), 0, 'no "Analysing…" left behind');
  const [download] = await Promise.all([page.waitForEvent('download'), page.getByTestId('export-csv').click()]);
  const csv = fs.readFileSync(await download.path(), 'utf8').trim().split('\n');
  assert.equal(csv.length, 1 + done, 'a header and one row per window classified');
  // The page still works: the camera's button and a new analysis start from a clean state.
  await page.getByTestId('sample').click();
  await page.getByTestId('analysis-progress').waitFor();
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

test('files the browser cannot use: an unplayable video, a too-short one, an image posing as a GIF', async () => {
  const page = await open();
  await page.goto(`${BASE_URL}/classify?backend=cpu`);
  await modelReady(page, 'cpu', 120_000);
  const input = page.getByTestId('video-input');
  const videoError = page.getByTestId('video-error');

  await input.setInputFiles({ name: 'broken.mp4', mimeType: 'video/mp4', buffer: Buffer.from('this is not a video'.repeat(64)) });
  await videoError.filter({ hasText: 'This browser cannot play this file' }).waitFor({ timeout: 30_000 });

  await input.setInputFiles(SHORT_WEBM);
  await videoError.filter({ hasText: /the video is too short: \d frames at 25 fps, the model needs at least 9/ }).waitFor({ timeout: 30_000 });

  const png = fs.readFileSync(path.resolve('../www/icons/icon-192.png'));
  await input.setInputFiles({ name: 'photo.gif', mimeType: 'image/gif', buffer: png });
  await videoError.filter({ hasText: 'photo.gif is not a GIF (a GIF starts with "GIF87a" or "GIF89a").' }).waitFor({ timeout: 30_000 });
  await screenshot(page, 'failure-not-a-gif');
  // The model is untouched by all that.
  assert.equal(await page.getByTestId('model-status').getAttribute('data-backend'), 'cpu');
  await page.context().close();
});

test('a question the worker never answers (/inside): the worker is stopped, the page says so and works again', async () => {
  // The worker drops every inspection request before its handler sees it: a request that is never answered,
  // as a hung pool thread would leave it.
  const drop = (js) => `self.addEventListener('message', (e) => { if (${isMessage('e', 'inspect')}) e.stopImmediatePropagation(); });\n${js}`;
  const page = await open({ worker: drop, clock: true });
  await page.goto(`${BASE_URL}/classify?backend=cpu&threads=1`);
  await modelReady(page, 'cpu', 120_000);
  await page.getByTestId('sample').click();
  await page.getByTestId('timeline').waitFor({ timeout: 240_000 });
  await page.getByTestId('inside-link').click();
  await page.waitForURL(/\/inside$/);
  await page.getByTestId('show-activations').click();
  // Longer than any limit a window of the longest length may take (20 × its expected time, at least a minute).
  await page.clock.fastForward('30:00');
  await page.getByTestId('inside-error').filter({ hasText: /did not answer a question from this page within \d+ s and was stopped/ }).waitFor({ timeout: 30_000 });
  // Back on /classify (in the app, no reload) the model starts again: exactly one classifier worker is alive.
  await unrouteWorker(page);
  await page.getByRole('link', { name: 'Classifier' }).first().click();
  await page.waitForURL(/\/classify/);
  await modelReady(page, 'cpu', 120_000);
  const classifiers = page.workers().filter((w) => isClassifierWorker(w.url()));
  assert.equal(classifiers.length, 1, classifiers.map((w) => w.url()).join(', '));
  await page.context().close();
});

test('a weights file longer than its manifest says: cut off at the manifest size, and said so', async () => {
  const page = await open();
  let longest = 0;
  await page.route('**/model/*.safetensors', async (route) => {
    const response = await route.fetch();
    const body = Buffer.concat([await response.body(), Buffer.alloc(4 << 20, 7)]);
    longest = body.length;
    await route.fulfill({ response, body, headers: { ...response.headers(), 'content-length': String(body.length) } });
  });
  await page.goto(`${BASE_URL}/classify?backend=cpu&threads=1`);
  const message = await modelError(page);
  assert.ok(longest > 0, 'the weights were requested');
  assert.match(message, /\.safetensors is larger than the manifest says: more than its \d+ bytes arrived/, message);
  await page.context().close();
});

test('leaving /inside while it waits for the worker, then classifying again: answers reach the right requests', async () => {
  const page = await open();
  await page.goto(`${BASE_URL}/classify?backend=cpu&threads=1`);
  await modelReady(page, 'cpu', 120_000);
  const analyse = async () => {
    await page.getByTestId('sample').click();
    await page.getByTestId('timeline').waitFor({ timeout: 240_000 });
  };
  await analyse();
  await page.getByTestId('inside-link').click();
  await page.waitForURL(/\/inside$/);
  await page.getByTestId('layer-picker').selectOption('Mixed_5c');
  await page.getByTestId('show-activations').click();
  // Away at once, while the worker computes; then the sample again, which waits for the worker to be free.
  await page.getByRole('link', { name: 'Classifier' }).first().click();
  await page.waitForURL(/\/classify/);
  await analyse();
  assert.match(await page.getByTestId('overall').innerText(), /playing cricket/);
  // /inside again: its answer is the inspection of the new last window, not a stale one.
  await page.getByTestId('inside-link').click();
  await page.waitForURL(/\/inside$/);
  await page.getByTestId('layer-picker').selectOption('Mixed_5c');
  await page.getByTestId('show-activations').click();
  await page.locator('[data-testid="activations"][data-layer="Mixed_5c"]').waitFor({ timeout: 120_000 });
  assert.deepEqual(page.errors, []);
  await page.context().close();
});
