// The installable offline app: manifest and installability, everything working with the server gone, and the
// update prompt after a new build is deployed. These tests serve a copy of the release build (dist/) with the
// site's own server and its fault switch (tests/support/server.mjs), so that they can make it fail, stop it and
// deploy a changed build.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium } from 'playwright-core';
import { launch, modelReady, screenshot, CHROMIUM, CHROMIUM_ARGS } from './browser.mjs';
import { contract } from '../support/contract.mjs';
import { serve } from '../support/server.mjs';

const DIST = process.env.DIST_DIR ?? path.resolve('../dist');

/** A private copy of the build. */
function copyOfDist() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kinetiscope-dist-'));
  fs.cpSync(DIST, dir, { recursive: true });
  return dir;
}

async function serviceWorkerReady(page) {
  await page.waitForFunction(async () => {
    const registration = await navigator.serviceWorker.ready;
    return registration.active?.state === 'activated' && navigator.serviceWorker.controller !== null;
  }, null, { timeout: 60_000, polling: 500 });
}

async function watch(context) {
  const log = { errors: [] };
  context.on('page', (p) => p.on('pageerror', (e) => log.errors.push(String(e))));
  return log;
}

async function classifySample(page) {
  await modelReady(page, 'cpu', 120_000);
  await page.getByTestId('sample').click();
  await page.getByTestId('timeline').waitFor({ timeout: 240_000 });
  assert.equal(await page.locator('[data-testid="overall"] li a').first().textContent(), 'playing cricket');
}

/**
 * A private copy of the build served by the site's server, and a fresh browser context: all closed (and the copy
 * removed) when test `t` ends, passed or not (an open server would keep the test runner waiting).
 */
async function freshSite(t) {
  const site = { root: copyOfDist() };
  // Registered first, so that whatever fails below, what was made is closed.
  t.after(async () => {
    await site.context?.close().catch(() => {});
    await site.server?.close().catch(() => {});
    fs.rmSync(site.root, { recursive: true, force: true });
  });
  site.server = await serve(site.root);
  site.context = await browser.newContext({ viewport: { width: 1280, height: 1000 } });
  site.log = await watch(site.context);
  site.page = await site.context.newPage();
  return site;
}

/**
 * A first visit to the classifier on a [`freshSite`]: returns once the service worker controls the page and the
 * model (weights downloaded and cached) is ready.
 */
async function firstVisit(t) {
  const site = await freshSite(t);
  await site.page.goto(`${site.server.url}/classify?backend=cpu`);
  await serviceWorkerReady(site.page);
  await modelReady(site.page, 'cpu', 120_000);
  return site;
}

let browser;
before(async () => { browser = await launch(); });
after(async () => { await browser?.close(); });

test('installable: the manifest parses without errors and Chromium reports no installability errors', async () => {
  const server = await serve(DIST);
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'kinetiscope-profile-'));
  // A persistent profile: installability is not judged in incognito-like contexts.
  const context = await chromium.launchPersistentContext(profile, { executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
  try {
    const page = await context.newPage();
    await page.goto(`${server.url}/`);
    await serviceWorkerReady(page);
    const cdp = await context.newCDPSession(page);
    const manifest = await cdp.send('Page.getAppManifest');
    assert.deepEqual(manifest.errors, [], JSON.stringify(manifest.errors));
    assert.match(manifest.url, /manifest\.webmanifest$/);
    const { installabilityErrors } = await cdp.send('Page.getInstallabilityErrors');
    assert.deepEqual(installabilityErrors, [], JSON.stringify(installabilityErrors));
  } finally {
    await context.close();
    await server.close();
  }
});

test('offline: with the server stopped, the explorer, a class page and the sample classification work', async (t) => {
  const { server, context, log, page } = await firstVisit(t);
  // First the server answers every request with 503: the cached app, data and clip are served instead.
  await server.mode('fail');
  await page.goto(`${server.url}/classes?v=400`);
  await page.locator('[data-testid="class-row"]').first().waitFor({ timeout: 30_000 });
  const ranges = await page.evaluate(async () => {
    const get = async (range) => {
      const r = await fetch('/sample/cricket.webm', { headers: { range } });
      return { status: r.status, range: r.headers.get('content-range'), bytes: (await r.arrayBuffer()).byteLength };
    };
    return { suffix: await get('bytes=-100'), open: await get('bytes=10-'), closed: await get('bytes=0-9') };
  });
  assert.equal(ranges.suffix.status, 206, JSON.stringify(ranges));
  assert.equal(ranges.suffix.bytes, 100);
  const size = Number(/\/(\d+)$/.exec(ranges.suffix.range)[1]);
  assert.equal(ranges.suffix.range, `bytes ${size - 100}-${size - 1}/${size}`);
  assert.equal(ranges.open.bytes, size - 10);
  assert.equal(ranges.closed.range, `bytes 0-9/${size}`);
  await server.mode('serve');
  const weights = await server.weights();
  // The sample clip and the data are in the precache; the weights in the model cache.
  await server.close();
  await context.setOffline(true);

  await page.goto(`${server.url}/classes?v=400`);
  await page.getByTestId('offline').waitFor();
  await page.locator('[data-testid="class-row"]').first().waitFor({ timeout: 30_000 });
  await page.locator('[data-testid="class-row"] a').first().click();
  await page.locator('[data-testid="clip-row"]').first().waitFor({ timeout: 30_000 });
  assert.ok(await page.getByTestId('needs-network').first().isVisible());
  await screenshot(page, 'pwa-offline-class');

  await page.goto(`${server.url}/classify?backend=cpu`);
  await classifySample(page);
  await screenshot(page, 'pwa-offline-classified');
  assert.equal(weights, 1, 'the weights were downloaded once, before going offline');
  assert.deepEqual(log.errors, []);
});

test('update: a new build brings a "new version" prompt, reloading serves it, the weights stay cached', async (t) => {
  const { root, server, context, log, page } = await firstVisit(t);
  const oldCaches = await page.evaluate(() => caches.keys());
  const oldApp = oldCaches.find((c) => c.startsWith(contract.appCachePrefix));
  assert.ok(oldApp, JSON.stringify(oldCaches));

  // Deploy a changed build: a changed page, hence a new service worker version.
  const sw = fs.readFileSync(path.join(root, 'sw.js'), 'utf8');
  const version = /const VERSION = '([^']+)'/.exec(sw)[1];
  fs.writeFileSync(path.join(root, 'sw.js'), sw.replace(`'${version}'`, `'${version}next'`));
  const index = fs.readFileSync(path.join(root, 'index.html'), 'utf8');
  fs.writeFileSync(path.join(root, 'index.html'), index.replace('<head>', '<head><meta name="deploy" content="next">'));

  // A second tab of the old version, with something loaded that a reload would lose.
  const other = await context.newPage();
  await other.goto(`${server.url}/classes?v=400`);
  await other.locator('[data-testid="class-row"]').first().waitFor({ timeout: 30_000 });
  await other.evaluate(() => { window.__loadedHere = true; });
  // Back to the first tab (a background tab paints no frames, so it could not be screenshotted).
  await page.bringToFront();

  await page.reload();
  await page.getByTestId('update-prompt').waitFor({ timeout: 60_000 });
  await screenshot(page, 'pwa-update-prompt');
  await Promise.all([page.waitForEvent('load'), page.getByTestId('update-reload').click()]);
  // The other tab was not reloaded under the visitor: it keeps its state and asks instead.
  await other.getByTestId('update-prompt').waitFor({ timeout: 30_000 });
  assert.equal(await other.evaluate(() => window.__loadedHere), true, 'the other tab was reloaded');
  await other.close();
  await page.bringToFront();
  await page.waitForFunction((name) => caches.keys().then((k) => k.includes(name)), `${contract.appCachePrefix}${version}next`, { timeout: 30_000 });
  const caches = await page.evaluate(() => caches.keys());
  assert.ok(!caches.includes(oldApp), `old app cache kept: ${caches}`);
  assert.ok(caches.includes(contract.modelCache), `model cache lost: ${caches}`);
  assert.equal(await page.locator('meta[name="deploy"]').getAttribute('content'), 'next');
  // The page is controlled by the new version's service worker.
  const active = await page.evaluate((ask) => new Promise((resolve) => {
    navigator.serviceWorker.addEventListener('message', (e) => resolve(e.data[ask]), { once: true });
    navigator.serviceWorker.controller.postMessage(ask);
  }), contract.swVersion);
  assert.equal(active, `${version}next`);
  await modelReady(page, 'cpu', 120_000);
  assert.equal(await server.weights(), 1, 'the weights were downloaded again');
  assert.deepEqual(log.errors, []);
});

/** The model panel's notes about the weights' cache. */
async function modelNotes(page) {
  const notes = page.getByTestId('model-notes');
  return (await notes.count()) ? notes.innerText() : '';
}

test('a corrupt or truncated cached model is deleted, downloaded again, and the panel says so', async (t) => {
  const { server, log, page } = await firstVisit(t);
  assert.equal(await server.weights(), 1);
  const damages = [
    ['flip', /unusable \(.*\.safetensors is corrupt: SHA-256 [0-9a-f]{64}, the manifest says [0-9a-f]{64}\): it was deleted and downloaded again\./],
    ['cut', /unusable \(.*\.safetensors is truncated or wrong: \d+ bytes, the manifest says \d+\): it was deleted and downloaded again\./],
  ];
  for (const [damage, said] of damages) {
    await page.evaluate(async ([how, name]) => {
      const cache = await caches.open(name);
      const [request] = await cache.keys();
      const bytes = new Uint8Array(await (await cache.match(request)).arrayBuffer());
      if (how === 'flip') bytes[bytes.length >> 1] ^= 0xff;
      await cache.put(request, new Response(how === 'flip' ? bytes : bytes.slice(0, bytes.length >> 1)));
    }, [damage, contract.modelCache]);
    await page.reload();
    await modelReady(page, 'cpu', 120_000);
    assert.match(await modelNotes(page), said);
  }
  await screenshot(page, 'pwa-cache-repaired');
  assert.equal(await server.weights(), 3, 'downloaded once, then once after each damage');
  // The copy downloaded again is whole: the next visit reads it from the cache, with nothing to say.
  await page.reload();
  await modelReady(page, 'cpu', 120_000);
  assert.match(await page.getByTestId('model-status').locator('xpath=..').innerText(), /from the cache/);
  assert.equal(await modelNotes(page), '');
  assert.equal(await server.weights(), 3);
  assert.deepEqual(log.errors, []);
});

test('storage full: the page says the app cannot be saved offline, and the model runs uncached and says so', async (t) => {
  const { server, context, log, page } = await freshSite(t);
  // DevTools' storage quota override: 2 MB, less than the app's precache and the weights.
  const cdp = await context.newCDPSession(page);
  await cdp.send('Storage.overrideQuotaForOrigin', { origin: server.url, quotaSize: 2_000_000 });
  await page.goto(`${server.url}/classify?backend=cpu`);
  const banner = page.getByTestId('offline-unavailable');
  await banner.waitFor({ timeout: 60_000 });
  assert.match(await banner.innerText(), /could not be saved for offline use \(QuotaExceededError: .+\); the browser's storage may be full\. It works while you are online/);
  await modelReady(page, 'cpu', 120_000);
  assert.match(await modelNotes(page), /The model could not be kept on this device \(.+; is the storage full\?\): it runs now, and the next visit downloads it again\./);
  await screenshot(page, 'pwa-storage-full');
  await page.reload();
  await modelReady(page, 'cpu', 120_000);
  assert.equal(await server.weights(), 2, 'not cached, so downloaded again');
  assert.deepEqual(log.errors, []);
});

test('offline on the first visit to the classifier: it says so, and loads by itself once back online', async (t) => {
  const { server, context, log, page } = await freshSite(t);
  // The home page once (the app is saved for offline use), never the classifier: no weights yet.
  await page.goto(`${server.url}/`);
  await serviceWorkerReady(page);
  await context.setOffline(true);
  await server.mode('down');
  await page.goto(`${server.url}/classify?backend=cpu`);
  const error = page.getByTestId('model-error');
  await error.waitFor({ timeout: 120_000 });
  assert.match(await error.innerText(), /You are offline, and the model has not been downloaded to this device yet\. It loads by itself as soon as you are back online/);
  assert.equal(await page.getByTestId('model-retry').count(), 1);
  await screenshot(page, 'pwa-offline-first-classify');
  await server.mode('serve');
  await context.setOffline(false);
  await modelReady(page, 'cpu', 120_000);
  assert.equal(await server.weights(), 1);
  assert.deepEqual(log.errors, []);
});

/**
 * `python3 -m http.server` over the deployable site (`cargo xtask dist`'s folder, DEPLOY_DIR): a host that serves
 * files and sends no header of ours. `{ url, close() }`.
 */
async function plainHost(t) {
  const root = process.env.DEPLOY_DIR;
  assert.ok(root && fs.existsSync(path.join(root, '_headers')), `DEPLOY_DIR (${root}) is not a deployable site`);
  const child = spawn('python3', ['-u', '-m', 'http.server', '0', '--bind', '127.0.0.1', '--directory', root],
    { stdio: ['ignore', 'pipe', 'pipe'] });
  t.after(() => child.kill());
  const port = await new Promise((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`python3 -m http.server stopped (${code})`)));
    child.stdout.on('data', (chunk) => {
      const found = /port (\d+)/.exec(String(chunk));
      if (found) resolve(Number(found[1]));
    });
  });
  return { url: `http://127.0.0.1:${port}` };
}

test('a host that sends no headers: the service worker isolates the second visit, and the classifier gets its threads', async (t) => {
  const host = await plainHost(t);
  const context = await browser.newContext({ viewport: { width: 1280, height: 1000 } });
  t.after(() => context.close().catch(() => {}));
  const log = await watch(context);
  const page = await context.newPage();

  // First visit: the host's answer has no isolation header, so the page is not isolated and runs one thread.
  const first = await page.goto(`${host.url}/classify?backend=cpu`);
  for (const name of contract.isolationHeaderNames) assert.equal(first.headers()[name], undefined, name);
  assert.equal(await page.evaluate(() => self.crossOriginIsolated), false);
  await modelReady(page, 'cpu', 120_000);
  assert.match(await page.getByTestId('threads').innerText(), /one thread: the page is not cross-origin isolated/);
  await serviceWorkerReady(page);

  // Second visit: the service worker answers with the site's headers.
  await page.goto(`${host.url}/classify?backend=cpu`);
  assert.equal(await page.evaluate(() => self.crossOriginIsolated), true, 'the second visit is cross-origin isolated');
  await modelReady(page, 'cpu', 120_000);
  const cores = await page.evaluate(() => navigator.hardwareConcurrency);
  const threads = Number(await page.getByTestId('threads').getAttribute('data-threads'));
  t.diagnostic(`second visit: ${threads} threads on ${cores} cores: ${await page.getByTestId('threads').innerText()}`);
  assert.ok(cores >= 2, `this test needs 2 cores or more (the browser reports ${cores})`);
  assert.equal(threads, Math.min(cores, 8));
  assert.match(await page.getByTestId('threads').innerText(), /threads on Web Workers/);
  await screenshot(page, 'plain-host-second-visit');
  assert.deepEqual(log.errors, []);
});
