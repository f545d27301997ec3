// `cargo xtask bench-browser`: the classifier's model-only time per T=16 clip in headless Chromium, the shipped
// worker builds (single-threaded, threaded at each thread count; their scripts from the site contract) side by
// side with onnxruntime-web's WASM at the same thread counts (../shared/peers/web/bench.html), alternated round by
// round in one browser session so that the machine's noise hits all alike. A measurement, not a test.
//
// node bench/browser.mjs SITE_URL PEER_URL|- THREADS(comma list) ROUNDS REPS
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { launch, newPage, SHARED_DIR, launchWithCamera } from '../e2e/browser.mjs';
import { contract } from '../support/contract.mjs';
import { installWorkerClient } from '../support/protocol.mjs';
import { browserPid, sampleRenderers } from '../support/memory.mjs';

const [site, peer, threadList = '1,2', roundsArg = '3', repsArg = '3'] = process.argv.slice(2);
const threads = threadList.split(',').map(Number);
const rounds = Number(roundsArg);
const reps = Number(repsArg);
const FRAMES = 16;

/** Milliseconds of the network alone for `reps` clips of 16 random 224×224 frames on our worker. */
async function ours(page, script, count) {
  await installWorkerClient(page);
  return page.evaluate(async ({ script, count, reps, frames }) => {
    const client = new KinetiscopeWorker(script);
    const info = await client.load({ backend: 'cpu', threads: count });
    let seed = 1;
    const times = [];
    for (let i = 0; i < reps; i++) {
      const buffers = [];
      for (let f = 0; f < frames; f++) {
        const px = new Uint8Array(224 * 224 * 4);
        for (let j = 0; j < px.length; j++) { seed = (seed * 1103515245 + 12345) & 0x7fffffff; px[j] = seed >>> 23; }
        buffers.push(px.buffer);
      }
      times.push((await client.classify(224, 224, buffers)).model_ms);
    }
    client.terminate();
    return { times, threads: info.threads.count, note: info.threads.note, warmup: info.warmup_ms };
  }, { script, count, reps, frames: FRAMES });
}

/** Milliseconds per clip of onnxruntime-web's WASM EP at `count` threads (its own page, `reps` runs). */
async function ort(page, count) {
  await page.goto(`${peer}/bench.html?ep=wasm&T=${FRAMES}&threads=${count}&reps=${reps}`);
  await page.waitForFunction(() => /RESULT|ERROR/.test(document.getElementById('out').textContent), null, { timeout: 0 });
  const line = await page.textContent('#out');
  const all = /all=([\d,]+)/.exec(line);
  if (!all) throw new Error(`onnxruntime-web: ${line}`);
  return { times: all[1].split(',').map(Number), threads: count, note: line };
}

const median = (xs) => { const s = [...xs].sort((a, b) => a - b); return s[s.length >> 1]; };
/** The median of the values that are not null (null when none is). */
const medianOrNull = (xs) => { const known = xs.filter((x) => x !== null); return known.length ? median(known) : null; };
/** A size in MiB as text (the renderers' RSS; `?` off Linux). */
const mb = (x) => (x === null ? '? MB' : `${x.toFixed(0)} MB`);

const configs = [];
configs.push({ name: 'kinetiscope single-threaded build', threads: 1, run: (p) => ours(p, contract.singleThreadedWorker, 1) });
for (const n of threads) {
  configs.push({ name: `kinetiscope threaded build`, threads: n, run: (p) => ours(p, contract.threadedWorker, n) });
  configs.push({ name: `kinetiscope relaxed-SIMD build`, threads: n, run: (p) => ours(p, contract.relaxedWorker, n) });
}
if (peer && peer !== '-') {
  for (const n of threads) configs.push({ name: 'onnxruntime-web 1.30 wasm', threads: n, run: (p) => ort(p, n) });
}

const browser = await launch();
const page = await newPage(browser);
await page.goto(`${site}/`);
if (!(await page.evaluate(() => crossOriginIsolated))) throw new Error(`${site} is not cross-origin isolated`);
const results = configs.map(() => []);
for (let round = 0; round < rounds; round++) {
  for (const [i, config] of configs.entries()) {
    if (config.run === undefined) continue;
    if (!config.name.startsWith('onnx')) await page.goto(`${site}/`);
    const r = await config.run(page);
    if (r.threads !== config.threads) throw new Error(`${config.name}: ran on ${r.threads} threads, not ${config.threads} (${r.note})`);
    results[i].push(...r.times);
    console.log(`round ${round + 1} ${config.name} threads=${config.threads}: ${r.times.map((t) => t.toFixed(0)).join(', ')} ms`);
  }
}
await browser.close();

// The app as a visitor uses it (threaded build, CPU): the sample clip's wall time against the sum of its
// windows' model times, the renderer processes' resident memory (sampled every 100 ms from the page's load until
// the sample clip's results: its total when the model is ready and its peak while the clip is analysed), and the
// fake camera's first prediction and predictions per second.
const y4m = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'kinetiscope-bench-')), 'cricket.y4m');
execFileSync('ffmpeg', ['-v', 'error', '-y', '-i', path.join(SHARED_DIR, 'data/video/v_CricketShot_g04_c01_rgb.gif'),
  '-r', '25', '-pix_fmt', 'yuv420p', y4m]);
const camera = await launchWithCamera(y4m);
const cameraPid = (await browserPid(camera)) ?? process.pid;
const app = [];
for (let round = 0; round < rounds; round++) {
  const page = await newPage(camera);
  const memory = sampleRenderers(cameraPid, 100);
  await page.goto(`${site}/classify?backend=cpu`);
  await page.locator('[data-testid="model-status"][data-backend]').waitFor({ timeout: 300_000 });
  const readyMb = memory.now();
  const threadsShown = await page.getByTestId('threads').getAttribute('data-threads');
  const analysing = memory.mark();
  await page.getByTestId('sample').click();
  const results = page.locator('.video-results[data-wall-ms]');
  await results.waitFor({ timeout: 300_000 });
  const peakMb = memory.peak(analysing);
  memory.stop();
  const wall = Number(await results.getAttribute('data-wall-ms'));
  const model = Number(await results.getAttribute('data-model-ms'));
  const clicked = Date.now();
  await page.getByTestId('start-camera').click();
  await page.locator('[data-testid="predictions"] li').first().waitFor({ timeout: 120_000 });
  const first = Date.now() - clicked;
  await page.waitForTimeout(10_000);
  const perSecond = Number(await page.getByTestId('live-stats').getAttribute('data-per-second'));
  app.push({ wall, model, first, perSecond, readyMb, peakMb });
  console.log(`round ${round + 1} app (${threadsShown} threads): sample clip ${wall} ms wall, ${model} ms model (${(wall / model).toFixed(2)}×); `
    + `renderers ${mb(readyMb)} at model ready, peak ${mb(peakMb)} during the sample clip; `
    + `camera first prediction ${first} ms, ${perSecond} predictions/s`);
  await page.close();
}
await camera.close();
console.log(`\napp, median of ${rounds}: sample clip wall/model ${median(app.map((a) => a.wall / a.model)).toFixed(2)}× `
  + `(${median(app.map((a) => a.wall)).toFixed(0)} ms / ${median(app.map((a) => a.model)).toFixed(0)} ms), `
  + `renderers' RSS ${mb(medianOrNull(app.map((a) => a.readyMb)))} at model ready, peak ${mb(medianOrNull(app.map((a) => a.peakMb)))} during the sample clip, `
  + `camera first prediction ${median(app.map((a) => a.first)).toFixed(0)} ms, ${median(app.map((a) => a.perSecond)).toFixed(2)} predictions/s`);
console.log(`\nmodel-only ms per T=${FRAMES} clip, median of ${rounds}×${reps} (alternated):`);
const ortAt = (n) => configs.findIndex((c) => c.name.startsWith('onnx') && c.threads === n);
const oursAt = (name, n) => configs.findIndex((c) => c.name === name && c.threads === n);
for (const [i, config] of configs.entries()) {
  const m = median(results[i]);
  let extra = '';
  const o = ortAt(config.threads);
  if (!config.name.startsWith('onnx') && o >= 0) extra += `  ${(m / median(results[o])).toFixed(2)}× onnxruntime-web`;
  if (config.name !== 'kinetiscope single-threaded build' && !config.name.startsWith('onnx') && config.threads > 1
    && oursAt(config.name, 1) >= 0) {
    extra += `  speed-up ${(median(results[oursAt(config.name, 1)]) / m).toFixed(2)}× over 1 thread`;
  }
  console.log(`RESULT ${config.name.padEnd(34)} threads=${config.threads} median_ms=${m.toFixed(0)}${extra}`);
}
