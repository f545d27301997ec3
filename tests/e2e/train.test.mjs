// /train as a visitor uses it: two actions taught from Chromium's fake camera (the shared cricket clip) and a video
// of a generated pattern, trained, then recognised live; the exported head imported into a fresh context gives the
// same predictions; offline after the first visit it still works; bad input is refused with its reason.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { launchCameraDenied, launchWithCamera, modelReady, newPage, screenshot, BASE_URL, SCREENSHOT_DIR, SHARED_DIR } from './browser.mjs';
import { contract } from '../support/contract.mjs';
import { installWorkerClient } from '../support/protocol.mjs';

const GIF = path.join(SHARED_DIR, 'data/video/v_CricketShot_g04_c01_rgb.gif');
const Y4M = path.join(SCREENSHOT_DIR, 'train-cricket.y4m');
// A clearly different source: ffmpeg's `testsrc2` pattern, 3 s.
const PATTERN = path.join(SCREENSHOT_DIR, 'train-pattern.webm');
const EXPORTED = path.join(SCREENSHOT_DIR, 'exported.kinetiscope-head.json');
// The command line (`cargo xtask test` builds it and says where, with the weights it reads).
const CLI = process.env.KINETISCOPE_CLI;

let camera; // Chromium whose fake camera plays the cricket clip, permission granted
let denied; // Chromium with a fake camera whose permission prompts are refused

before(async () => {
  fs.mkdirSync(SCREENSHOT_DIR, { recursive: true });
  execFileSync('ffmpeg', ['-v', 'error', '-y', '-i', GIF, '-r', '25', '-pix_fmt', 'yuv420p', Y4M]);
  execFileSync('ffmpeg', ['-v', 'error', '-y', '-f', 'lavfi', '-i', 'testsrc2=size=320x240:rate=25', '-t', '3',
    '-c:v', 'libvpx', '-b:v', '1M', '-pix_fmt', 'yuv420p', '-an', PATTERN]);
  camera = await launchWithCamera(Y4M);
  denied = await launchCameraDenied();
});
after(async () => {
  await camera?.close();
  await denied?.close();
});

/** /train in a fresh context (its own storage and service worker), recording errors. */
async function open(context) {
  const page = await context.newPage();
  page.errors = [];
  page.on('pageerror', (e) => page.errors.push(String(e)));
  page.on('console', (m) => { if (m.type() === 'error') page.errors.push(m.text()); });
  await page.goto(`${BASE_URL}/train?backend=cpu`);
  await modelReady(page, 'cpu', 120_000);
  return page;
}

/** The class editors, in order. */
const classes = (page) => page.getByTestId('train-class');

async function rename(page, index, name) {
  const input = classes(page).nth(index).getByTestId('class-name');
  await input.fill(name);
  await input.blur();
}

/** Waits until class `index` shows `count` examples (a failure to add one fails at once, with its message). */
async function examples(page, index, count, timeout = 120_000) {
  await page.waitForFunction(([i, n]) => {
    if (document.querySelector('[data-testid="train-error"]')) return true;
    return document.querySelectorAll('[data-testid="train-class"]')[i]?.querySelectorAll('[data-testid="example"]').length === n
      && !document.querySelector('[data-testid="train-busy"]');
  }, [index, count], { timeout, polling: 250 });
  const error = page.getByTestId('train-error');
  if (await error.count()) throw new Error(`adding an example failed: ${await error.innerText()}`);
}

/** The custom predictions shown, as [name, percent], best first. */
async function customPredictions(page) {
  return page.getByTestId('custom-predictions').locator('li').evaluateAll((items) => items.map((li) => {
    const percent = Number(li.querySelector('.prob').textContent.replace('%', ''));
    return [li.textContent.replace(/\s*[\d.]+%\s*$/, '').trim(), percent];
  }));
}

/** Runs the trained head on the sample clip and returns the last window's custom predictions. */
async function onTheSample(page) {
  await page.getByTestId('live-sample').click();
  await page.getByTestId('try-status').waitFor({ timeout: 60_000 });
  await page.getByTestId('try-done').waitFor({ timeout: 180_000 });
  return customPredictions(page);
}

test('teach two actions, train, recognise them live; the exported head predicts the same elsewhere; offline too', async () => {
  const context = await camera.newContext({ viewport: { width: 1280, height: 1000 }, acceptDownloads: true });
  const page = await open(context);
  // Train is disabled until two actions have examples, and says why.
  assert.equal(await page.getByTestId('train').isDisabled(), true);
  await rename(page, 0, 'cricket');
  await rename(page, 1, 'pattern');
  assert.match(await page.getByTestId('train-disabled-reason').innerText(), /“cricket” has no examples/);

  // "cricket": a 2-second recording of the camera (after its countdown) gives overlapping 16-frame windows.
  await page.getByTestId('record-seconds').selectOption('2');
  const recorded = Date.now();
  await classes(page).nth(0).getByTestId('record').click();
  await examples(page, 0, 1);
  console.log(`# recording 2 s and reading its windows: ${Date.now() - recorded} ms`);
  const caption = await classes(page).nth(0).getByTestId('example').innerText();
  assert.match(caption, /camera · 2\.0 s · 5 windows/);
  assert.equal(await classes(page).nth(0).locator('img').count(), 1, 'a thumbnail');
  // "pattern": a video file.
  await classes(page).nth(1).getByTestId('example-files').setInputFiles(PATTERN);
  await examples(page, 1, 1);
  assert.match(await classes(page).nth(1).getByTestId('example').innerText(), /train-pattern\.webm · 3\.0 s · 8 windows/);

  const trainStarted = Date.now();
  await page.getByTestId('train').click();
  const report = page.getByTestId('train-report');
  await report.waitFor({ timeout: 60_000 });
  console.log(`# training (click to report): ${Date.now() - trainStarted} ms; ${await report.locator('p').innerText()}`);
  assert.deepEqual(await report.getByTestId('class-accuracy').allInnerTexts(), ['100%', '100%']);
  // Each action's nearest Kinetics classes link to the explorer.
  await report.locator('.nearest a').first().waitFor({ timeout: 30_000 });
  assert.match(await report.locator('.nearest a').first().getAttribute('href'), /^\/classes\/.+\?v=400$/);
  assert.match(await page.getByTestId('head-storage').innerText(), /kept on this device/);

  // Live on the camera (the cricket clip): "cricket" first, at least 90%, beside Kinetics' top five.
  await page.getByTestId('live-camera').click();
  await page.waitForFunction(() => {
    const first = document.querySelector('[data-testid="custom-predictions"] li');
    return first && first.textContent.startsWith('cricket');
  }, null, { timeout: 180_000, polling: 250 });
  const live = await customPredictions(page);
  assert.equal(live[0][0], 'cricket');
  assert.ok(live[0][1] >= 90, `live: ${JSON.stringify(live)}`);
  await page.locator('[data-testid="predictions"] li').first().waitFor({ timeout: 60_000 });
  await screenshot(page, 'train-live');

  // The head, exported (without the examples), predicts the sample clip; a fresh context importing it, the same.
  const here = await onTheSample(page);
  assert.equal(here[0][0], 'cricket', JSON.stringify(here));
  // Beside them, I3D's own Kinetics top five for that window.
  assert.equal(await page.getByTestId('window-predictions').locator('li').count(), 5);
  const [download] = await Promise.all([page.waitForEvent('download'), page.getByTestId('export-head').click()]);
  assert.match(download.suggestedFilename(), /\.kinetiscope-head\.json$/);
  await download.saveAs(EXPORTED);
  console.log(`# exported head (2 actions, no examples): ${fs.statSync(EXPORTED).size} bytes`);
  const exported = JSON.parse(fs.readFileSync(EXPORTED, 'utf8'));
  assert.deepEqual(exported.classes, ['cricket', 'pattern']);
  assert.equal(exported.examples, undefined, 'no examples unless asked for');

  const other = await camera.newContext({ viewport: { width: 1280, height: 1000 } });
  const fresh = await open(other);
  await fresh.getByTestId('head-file').setInputFiles(EXPORTED);
  await fresh.getByTestId('train-report').waitFor({ timeout: 60_000 });
  const there = await onTheSample(fresh);
  assert.deepEqual(there.map(([name]) => name), here.map(([name]) => name));
  for (let i = 0; i < here.length; i++) {
    assert.ok(Math.abs(there[i][1] - here[i][1]) <= 0.1, `imported ${JSON.stringify(there)} vs ${JSON.stringify(here)}`);
  }
  assert.deepEqual(fresh.errors, []);
  await other.close();

  // Offline after the first visit: the head comes back from the device, the model from its cache.
  await context.setOffline(true);
  await page.reload();
  await modelReady(page, 'cpu', 120_000);
  await page.getByTestId('train-report').waitFor({ timeout: 60_000 });
  const offline = await onTheSample(page);
  assert.equal(offline[0][0], 'cricket', JSON.stringify(offline));
  assert.ok(Math.abs(offline[0][1] - here[0][1]) <= 0.1, `offline ${JSON.stringify(offline)} vs ${JSON.stringify(here)}`);
  await context.setOffline(false);
  assert.deepEqual(page.errors.filter((e) => !/ERR_INTERNET_DISCONNECTED|Failed to fetch|net::/.test(e)), []);
  await context.close();
});

test('a head goes from the app to the command line and from the command line to the app',
  { skip: !CLI && 'KINETISCOPE_CLI is not set (cargo xtask test sets it)' }, async () => {
  // The app's export, used by `kinetiscope classify --head`: the held cricket clip is "cricket".
  const json = JSON.parse(execFileSync(CLI, ['classify', GIF, '--head', EXPORTED, '--json'], { encoding: 'utf8' }));
  assert.equal(json.custom[0].label, 'cricket', JSON.stringify(json.custom));
  assert.ok(json.custom[0].prob > 0.9, JSON.stringify(json.custom));
  assert.equal(json.top[0].label, 'playing cricket');

  // `kinetiscope train` on a folder (the cricket GIF, the pattern video), imported by the app: the sample clip is
  // "cricket" there too.
  const folder = fs.mkdtempSync(path.join(SCREENSHOT_DIR, 'train-cli-'));
  fs.mkdirSync(path.join(folder, 'cricket'));
  fs.mkdirSync(path.join(folder, 'pattern'));
  fs.copyFileSync(GIF, path.join(folder, 'cricket', 'cricket.gif'));
  fs.copyFileSync(PATTERN, path.join(folder, 'pattern', 'pattern.webm'));
  const head = path.join(SCREENSHOT_DIR, 'cli.kinetiscope-head.json');
  console.log(execFileSync(CLI, ['train', folder, '--out', head], { encoding: 'utf8' }).trim().replace(/^/gm, '# '));
  const context = await camera.newContext({ viewport: { width: 1280, height: 1000 } });
  const page = await open(context);
  await page.getByTestId('head-file').setInputFiles(head);
  await page.getByTestId('train-report').waitFor({ timeout: 60_000 });
  const predictions = await onTheSample(page);
  assert.equal(predictions[0][0], 'cricket', JSON.stringify(predictions));
  assert.ok(predictions[0][1] >= 90, JSON.stringify(predictions));
  assert.deepEqual(page.errors, []);
  await context.close();
});

test('a camera refused while recording says what to do, and the examples already there are kept', async () => {
  const context = await denied.newContext({ viewport: { width: 1280, height: 1000 } });
  const page = await open(context);
  await classes(page).nth(1).getByTestId('example-files').setInputFiles(PATTERN);
  await examples(page, 1, 1);
  await classes(page).nth(0).getByTestId('record').click();
  const error = page.getByTestId('train-error');
  await error.waitFor({ timeout: 30_000 });
  assert.match(await error.innerText(), /Camera permission was denied/);
  assert.equal(await classes(page).nth(1).getByTestId('example').count(), 1);
  assert.equal(await classes(page).nth(0).getByTestId('example').count(), 0);
  assert.equal(await page.getByTestId('record').first().isDisabled(), false, 'the page keeps working');
  await context.close();
});

test('bad input: too few or duplicate actions disable Train with the reason; a damaged or foreign head is refused and the current one kept', async () => {
  const context = await camera.newContext({ viewport: { width: 1280, height: 1000 } });
  const page = await open(context);
  const reason = page.getByTestId('train-disabled-reason');
  await rename(page, 0, 'wave');
  await rename(page, 1, 'Wave');
  assert.match(await reason.innerText(), /two classes are named/);
  await classes(page).nth(1).getByTestId('delete-class').click();
  assert.match(await reason.innerText(), /2 to 20 classes are needed/);
  for (let i = 0; i < 19; i++) await page.getByTestId('add-class').click();
  assert.equal(await classes(page).count(), 20);
  assert.equal(await page.getByTestId('add-class').isDisabled(), true, 'at most 20 actions');

  // The exported head of the first test, imported, is the head in use; damaged files then change nothing.
  await page.getByTestId('head-file').setInputFiles(EXPORTED);
  await page.getByTestId('train-report').waitFor({ timeout: 60_000 });
  const text = fs.readFileSync(EXPORTED, 'utf8');
  const cut = path.join(SCREENSHOT_DIR, 'cut.kinetiscope-head.json');
  fs.writeFileSync(cut, text.slice(0, text.length / 2));
  const foreign = path.join(SCREENSHOT_DIR, 'foreign.kinetiscope-head.json');
  fs.writeFileSync(foreign, JSON.stringify({ ...JSON.parse(text), model_sha256: '0'.repeat(64) }));
  const newer = path.join(SCREENSHOT_DIR, 'newer.kinetiscope-head.json');
  fs.writeFileSync(newer, JSON.stringify({ ...JSON.parse(text), format: 99 }));
  // A head of another network: 512 values per clip.
  const narrow = path.join(SCREENSHOT_DIR, 'narrow.kinetiscope-head.json');
  const wide = JSON.parse(text);
  fs.writeFileSync(narrow, JSON.stringify({ ...wide, linear: { ...wide.linear, dim: 512, weights: wide.linear.weights.slice(0, 1024) } }));
  for (const [file, says] of [[cut, /line \d+/], [foreign, /other weights|weights/], [newer, /version/], [narrow, /I3D gives 1024/]]) {
    await page.getByTestId('head-file').setInputFiles(file);
    const error = page.getByTestId('train-error');
    await error.waitFor({ timeout: 30_000 });
    assert.match(await error.innerText(), says);
    assert.match(await page.getByTestId('train-report').innerText(), /2 classes/);
  }
  await screenshot(page, 'train-refused');
  await context.close();
});

test('the worker trains 20 actions × 50 windows of 1024 values (seeded synthetic features) to a head that separates them', async () => {
  const page = await newPage(camera);
  await page.goto(`${BASE_URL}/`);
  await installWorkerClient(page);
  const result = await page.evaluate(async (script) => {
    // Seeded (mulberry32, seed 0x7EA1): each action a random centre, each window the centre plus noise of a third.
    let seed = 0x7ea1;
    const random = () => {
      seed = (seed + 0x6d2b79f5) | 0;
      let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
      t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
      return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    };
    const classes = Array.from({ length: 20 }, (_, c) => {
      const centre = Array.from({ length: 1024 }, () => random());
      return { name: `action ${c + 1}`, examples: Array.from({ length: 50 }, () => centre.map((v) => v + (random() - 0.5) / 3)) };
    });
    const client = new KinetiscopeWorker(script);
    await client.load({ backend: 'cpu', precision: 'f32', threads: 1 });
    // A clip feature comes from the pass that classifies: asking for it changes no probability, and costs about
    // nothing (3 windows of 16 random 224×224 frames, alternated with and without).
    const window = () => Array.from({ length: 16 }, () => Uint8Array.from({ length: 224 * 224 * 4 }, () => random() * 256).buffer);
    const windows = { with: [], without: [] };
    for (let i = 0; i < 3; i++) {
      const frames = window();
      const copy = frames.map((b) => b.slice(0));
      const without = await client.classify(224, 224, frames);
      const withFeature = await client.classify(224, 224, copy, { feature: true });
      windows.without.push(without.model_ms);
      windows.with.push(withFeature.model_ms);
      if (withFeature.feature?.length !== 1024 || without.feature != null) throw new Error('the feature was not given as asked');
      if (withFeature.probs.some((p, k) => p !== without.probs[k])) throw new Error('asking for the feature changed the probabilities');
    }
    const started = performance.now();
    const { head, ms } = await client.train(classes);
    const roundTrip = performance.now() - started;
    client.terminate();
    const parsed = JSON.parse(head);
    return { ms, roundTrip, classes: parsed.classes.length, report: parsed.report, bytes: head.length, windows };
  }, contract.singleThreadedWorker);
  const median = (xs) => [...xs].sort((a, b) => a - b)[1];
  console.log(`# a 16-frame window in the single-threaded worker: ${median(result.windows.with).toFixed(0)} ms with its clip feature, `
    + `${median(result.windows.without).toFixed(0)} ms without (medians of 3)`);
  console.log(`# training 20 × 50 × 1024 in the single-threaded worker: ${result.ms.toFixed(0)} ms in the worker `
    + `(training ${result.report.iterations} iterations, then ${result.report.validation.validation.k_fold ? '5-fold' : 'leave-one-out'} validation), `
    + `${result.roundTrip.toFixed(0)} ms with the messages; head file ${result.bytes} bytes`);
  assert.equal(result.classes, 20);
  assert.equal(result.report.examples, 1000);
  assert.equal(result.report.training_accuracy, 1);
  assert.equal(result.report.validation.accuracy, 1);
  assert.ok(result.report.gradient_norm < 1e-4, JSON.stringify(result.report.gradient_norm));
  await page.close();
});
