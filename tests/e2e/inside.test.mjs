// /inside: the architecture from the layer table (the totals of `kinetiscope bench`), a layer's strongest channels
// on the sample clip's last window, the same channels on the CPU and on WebGPU (SwiftShader) for the clip's first
// 16 frames, the first layer's filters, the measured time per layer, and the exports.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { launch, modelReady, newPage, screenshot, BASE_URL, SCREENSHOT_DIR, SHARED_DIR } from './browser.mjs';
import { contract } from '../support/contract.mjs';

const LAYERS = ['Conv3d_1a_7x7', 'Mixed_3b', 'Mixed_5c'];
const GIF = path.join(SHARED_DIR, 'data/video/v_CricketShot_g04_c01_rgb.gif');
// The sample clip's first 16 frames: one window, so that SwiftShader's WebGPU gets through it in a minute.
const CUT = path.join(SCREENSHOT_DIR, 'cricket-16-frames.webm');

let browser;
before(async () => {
  fs.mkdirSync(SCREENSHOT_DIR, { recursive: true });
  execFileSync('ffmpeg', ['-v', 'error', '-y', '-i', GIF, '-frames:v', '16', '-c:v', 'libvpx', '-b:v', '1M', '-r', '25', '-pix_fmt', 'yuv420p', '-an', CUT]);
  browser = await launch();
});
after(async () => { await browser?.close(); });

/**
 * Classifies the sample clip (or `file`) on `backend` with `window`-frame windows and opens /inside from the
 * result's link. f32 weights on both backends: the channels of the two can then be compared.
 */
async function classifyThenInside(page, backend, { window = '32', file = null, timeout }) {
  await page.goto(`${BASE_URL}/classify?backend=${backend}&precision=f32`);
  await modelReady(page, backend === 'webgpu' ? 'wgpu' : backend, timeout);
  await page.getByTestId('window-length').selectOption(window);
  if (file) await page.getByTestId('video-input').setInputFiles(file);
  else await page.getByTestId('sample').click();
  await page.getByTestId('timeline').waitFor({ timeout });
  await page.getByTestId('inside-link').click();
  await page.waitForURL(/\/inside$/);
}

/** Shows `layer`'s strongest channels and returns their indices, strongest first. */
async function strongest(page, layer, timeout) {
  await page.getByTestId('layer-picker').selectOption(layer);
  await page.getByTestId('show-activations').click();
  const grid = page.locator(`[data-testid="activations"][data-layer="${layer}"]`);
  await grid.waitFor({ timeout });
  const channels = await grid.getByTestId('channel').evaluateAll((figures) => figures.map((f) => Number(f.dataset.channel)));
  assert.equal(channels.length, 16, layer);
  // Drawn (effects run after the render): the strongest channel's canvas lights up.
  await page.waitForFunction((name) => {
    const c = document.querySelector(`[data-testid="activations"][data-layer="${name}"] [data-testid="channel"] canvas`);
    const data = c?.getContext('2d').getImageData(0, 0, c.width, c.height).data ?? [];
    for (let i = 0; i < data.length; i += 4) if (data[i] > 0) return true;
    return false;
  }, layer, { timeout: 10_000 });
  return channels;
}

test("a video's frames reach the model as the file holds them, each once (against ffmpeg's decoding)", async () => {
  // Drawn too early after a seek, a frame is the one shown before it: seen as 2 of these 16 frames repeated,
  // depending on how busy the machine was, which changed what /inside showed from run to run.
  const FRAME = 224 * 224 * 3;
  const decoded = execFileSync('ffmpeg', ['-v', 'error', '-i', CUT, '-f', 'rawvideo', '-pix_fmt', 'rgb24', '-'], { maxBuffer: 1 << 27 });
  assert.equal(decoded.length, 16 * FRAME);
  const page = await newPage(browser);
  await page.addInitScript((key) => {
    // A copy of each window's frames as the page sends them to the worker (which then owns the buffers).
    window.sentWindows = [];
    const post = Worker.prototype.postMessage;
    Worker.prototype.postMessage = function (message, transfer) {
      const frames = message?.[key];
      if (Array.isArray(frames) && frames.length) window.sentWindows.push(frames.map((b) => Array.from(new Uint8Array(b.slice(0)))));
      return post.call(this, message, transfer);
    };
  }, contract.envelope.frames);
  await page.goto(`${BASE_URL}/classify?backend=cpu`);
  await modelReady(page, 'cpu', 240_000);
  await page.getByTestId('window-length').selectOption('16');
  await page.getByTestId('video-input').setInputFiles(CUT);
  await page.getByTestId('timeline').waitFor({ timeout: 240_000 });
  const windows = await page.evaluate(() => window.sentWindows);
  assert.equal(windows.length, 1);
  const [frames] = windows;
  assert.equal(frames.length, 16);
  // Mean absolute difference (0–255) of a sent RGBA frame from ffmpeg's frame `k`.
  const distance = (rgba, k) => {
    let sum = 0;
    for (let p = 0; p < 224 * 224; p++) for (let c = 0; c < 3; c++) sum += Math.abs(rgba[p * 4 + c] - decoded[k * FRAME + p * 3 + c]);
    return sum / FRAME;
  };
  const table = frames.map((frame, i) => [i - 1, i, i + 1].filter((k) => k >= 0 && k < 16).map((k) => distance(frame, k)));
  console.log(`# sent frame vs ffmpeg's frames i-1, i, i+1 (mean abs diff): ${table.map((d) => d.map((x) => x.toFixed(2)).join('/')).join(' ')}`);
  frames.forEach((frame, i) => {
    const own = distance(frame, i);
    // The browser's colour conversion differs from ffmpeg's by about 1.2 levels; neighbouring frames of this clip
    // differ by 3.5 or more.
    assert.ok(own < 2.5, `frame ${i}: ${own.toFixed(2)} from ffmpeg's`);
    for (const k of [i - 1, i + 1]) if (k >= 0 && k < 16) assert.ok(own < distance(frame, k), `frame ${i} is closer to ffmpeg's frame ${k}`);
  });
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

test('/inside on the CPU: the architecture with bench totals, activations, filters, layer times and exports', async () => {
  const page = await newPage(browser, { acceptDownloads: true });
  await classifyThenInside(page, 'cpu', { timeout: 240_000 });

  // The architecture: every layer of the table, Inception blocks open into four branches, the bench's totals.
  const totals = page.getByTestId('totals');
  assert.equal(await totals.getAttribute('data-parameters'), '12689984');
  assert.equal(await totals.getAttribute('data-gflop'), '55.6');
  assert.match(await totals.innerText(), /Total for a 16-frame clip\s+12\.69 M\s+55\.6/);
  assert.equal(await page.getByTestId('layer-row').count(), 18);
  const mixed3b = page.locator('[data-testid="layer-row"][data-layer="Mixed_3b"]');
  await mixed3b.locator('summary').click();
  assert.equal(await mixed3b.locator('ul.branches li').count(), 4);
  assert.match(await mixed3b.innerText(), /Branch_1: 1×1×1 → 96, then 3×3×3 → 128 \(128 channels/);
  assert.match(await page.locator('[data-testid="layer-row"][data-layer="Conv3d_1a_7x7"]').innerText(), /7 × 7×7/);

  const cpuChannels = {};
  for (const layer of LAYERS) cpuChannels[layer] = await strongest(page, layer, 120_000);
  console.log(`# cpu strongest channels (sample, last 32-frame window): ${JSON.stringify(cpuChannels)}`);
  // The time step scrubs through the layer's time axis (Mixed_5c: 32 frames → 4 steps; step 2 shows input frame 9).
  await page.getByTestId('time-step').evaluate((el) => { el.value = '1'; el.dispatchEvent(new Event('input', { bubbles: true })); });
  await page.getByText('2 of 4 (input frame 9)').waitFor();
  await screenshot(page, 'inside-cpu-activations');

  await page.getByTestId('show-filters').click();
  await page.getByTestId('filters').waitFor({ timeout: 60_000 });
  assert.equal(await page.getByTestId('filter').count(), 64);

  // Per-layer times of the last (32-frame) window: the table switches to 32 frames and fills its "Measured" column.
  await page.getByTestId('time-layers').click();
  await page.getByTestId('timing-summary').waitFor({ timeout: 120_000 });
  assert.equal(await page.getByTestId('table-frames').inputValue(), '32');
  const conv = await page.locator('[data-testid="layer-row"][data-layer="Conv3d_1a_7x7"] [data-testid="layer-time"]').innerText();
  assert.match(conv, /^\d+\.\d ms, \d+\.\d GFLOP\/s$/);
  console.log(`# cpu layer times: ${await page.getByTestId('timing-summary').innerText()}`);

  const [json] = await Promise.all([page.waitForEvent('download'), page.getByTestId('export-json').click()]);
  const exported = JSON.parse(fs.readFileSync(await json.path(), 'utf8'));
  assert.equal(exported.architecture.parameters, 12689984);
  assert.equal(exported.activations.layer, 'Mixed_5c');
  assert.deepEqual(exported.activations.channels.map((c) => c.index), cpuChannels.Mixed_5c);
  assert.equal(exported.layer_times.layers_ms.length, 18);
  const [png] = await Promise.all([page.waitForEvent('download'), page.getByTestId('export-png').click()]);
  assert.deepEqual([...fs.readFileSync(await png.path()).subarray(1, 4)], [...Buffer.from('PNG')]);
  await screenshot(page, 'inside-cpu');
  await page.setViewportSize({ width: 390, height: 844 });
  await screenshot(page, 'inside-phone');
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

/** The exported JSON's activations of the layer shown: every channel's mean (`means`) and the strongest. */
async function exportedActivations(page) {
  const [json] = await Promise.all([page.waitForEvent('download'), page.getByTestId('export-json').click()]);
  return JSON.parse(fs.readFileSync(await json.path(), 'utf8')).activations;
}

/** Relative L2 distance of `a` from `b`. */
function relL2(a, b) {
  assert.equal(a.length, b.length);
  let diff = 0;
  let norm = 0;
  for (let i = 0; i < a.length; i++) {
    diff += (a[i] - b[i]) ** 2;
    norm += b[i] ** 2;
  }
  return Math.sqrt(diff / norm);
}

// The same frames and weights (f32) on both backends: every channel's mean agrees within rounding (rel. L2 below
// 1e-4, as the engine's native test asks of the layers' values; a wrong kernel is off by orders of magnitude more).
// Compared value by value: the order of two channels whose means differ by less than the rounding is not a result.
const MEANS_TOLERANCE = 1e-4;

test('/inside on WebGPU (SwiftShader): the same channel activations as on the CPU', async () => {
  const shown = {};
  for (const backend of ['cpu', 'webgpu']) {
    const page = await newPage(browser, { acceptDownloads: true });
    await classifyThenInside(page, backend, { window: '16', file: CUT, timeout: 300_000 });
    shown[backend] = {};
    for (const layer of LAYERS) {
      const channels = await strongest(page, layer, 240_000);
      assert.equal(await page.getByTestId('activations').getAttribute('data-backend'), backend === 'cpu' ? 'cpu' : 'wgpu');
      const activations = await exportedActivations(page);
      assert.equal(activations.layer, layer);
      assert.deepEqual(activations.channels.map((c) => c.index), channels, `${layer}: the channels shown are the exported ones`);
      shown[backend][layer] = activations;
    }
    if (backend === 'webgpu') await screenshot(page, 'inside-webgpu');
    assert.deepEqual(page.errors, []);
    await page.context().close();
  }
  for (const layer of LAYERS) {
    const [cpu, gpu] = [shown.cpu[layer], shown.webgpu[layer]];
    const err = relL2(gpu.means, cpu.means);
    const top = (a) => JSON.stringify(a.channels.slice(0, 6).map((c) => [c.index, Number(c.mean.toFixed(5))]));
    console.log(`# ${layer}: channel means, webgpu vs cpu rel L2 ${err.toExponential(2)}; strongest cpu ${top(cpu)}, webgpu ${top(gpu)}`);
    assert.ok(err < MEANS_TOLERANCE, `${layer}: rel L2 ${err}`);
    // Each backend shows the channels its own means rank first: every channel shown on WebGPU is, on the CPU,
    // within the tolerance of the CPU's own cut-off.
    const cutoff = Math.min(...cpu.channels.map((c) => c.mean));
    for (const c of gpu.channels) assert.ok(cpu.means[c.index] >= cutoff * (1 - MEANS_TOLERANCE) - MEANS_TOLERANCE, `${layer}: channel ${c.index}`);
  }
});
