// /inside: the architecture from the layer table (the totals of `kinetiscope bench`), a layer's strongest channels
// on the sample clip's last window, the same channels on the CPU and on WebGPU (SwiftShader) for the clip's first
// 16 frames, the first layer's filters, the measured time per layer, and the exports.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { launch, modelReady, newPage, screenshot, BASE_URL, SCREENSHOT_DIR, SHARED_DIR } from './browser.mjs';

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

test('/inside on WebGPU (SwiftShader): the same strongest channels as on the CPU', async () => {
  const channels = {};
  for (const backend of ['cpu', 'webgpu']) {
    const page = await newPage(browser);
    await classifyThenInside(page, backend, { window: '16', file: CUT, timeout: 300_000 });
    channels[backend] = {};
    for (const layer of LAYERS) {
      channels[backend][layer] = await strongest(page, layer, 240_000);
      assert.equal(await page.getByTestId('activations').getAttribute('data-backend'), backend === 'cpu' ? 'cpu' : 'wgpu');
    }
    if (backend === 'webgpu') await screenshot(page, 'inside-webgpu');
    assert.deepEqual(page.errors, []);
    await page.context().close();
  }
  console.log(`# strongest channels of the 16-frame cut: ${JSON.stringify(channels)}`);
  // The same input, the same weights: the same strongest channels (the first four, in order).
  for (const layer of LAYERS) assert.deepEqual(channels.webgpu[layer].slice(0, 4), channels.cpu[layer].slice(0, 4), layer);
});
