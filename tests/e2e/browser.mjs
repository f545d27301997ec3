// Shared helpers for the end-to-end tests: headless Debian Chromium (never a downloaded browser) driven by
// playwright-core, with the WebGPU-on-SwiftShader flags from ../shared/TOOLCHAIN.md.
import { chromium } from 'playwright-core';
import path from 'node:path';
import fs from 'node:fs';

export const BASE_URL = process.env.BASE_URL ?? 'http://127.0.0.1:8080';
/** The weights (`/weights/…`, f32 and f16 with their manifest) and reference fixtures (`/fixtures/…`), with CORS. */
export const ASSETS_URL = process.env.ASSETS_URL;
export const SCREENSHOT_DIR = process.env.SCREENSHOT_DIR ?? path.resolve('../target/e2e');
export const SHARED_DIR = process.env.SHARED_DIR ?? path.resolve('../../shared');
export const CHROMIUM = process.env.CHROMIUM ?? '/usr/bin/chromium';

export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--enable-unsafe-webgpu',
  '--enable-features=Vulkan',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** Launches headless Chromium; `extraArgs` adds flags such as the fake webcam ones. */
export async function launch(extraArgs = []) {
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [...CHROMIUM_ARGS, ...extraArgs],
  });
}

/** Chromium whose fake camera plays `y4m` (a file ffmpeg wrote), the camera permission granted. */
export function launchWithCamera(y4m) {
  return launch([
    '--use-fake-device-for-media-stream',
    `--use-file-for-fake-video-capture=${y4m}`,
    '--use-fake-ui-for-media-stream',
  ]);
}

/** Chromium with a fake camera whose permission prompts are refused. */
export function launchCameraDenied() {
  return launch(['--use-fake-device-for-media-stream', '--deny-permission-prompts']);
}

/**
 * A new page (in its own context; `options` are Playwright context options) that records console errors and
 * uncaught exceptions into `page.errors`.
 */
export async function newPage(browser, options = {}) {
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 }, ...options });
  page.errors = [];
  page.on('pageerror', (e) => page.errors.push(String(e)));
  page.on('console', (m) => {
    if (m.type() === 'error') page.errors.push(m.text());
  });
  // Content-Security-Policy violations count as errors too (most also reach the console).
  await page.addInitScript(() => {
    document.addEventListener('securitypolicyviolation', (e) => {
      console.error(`CSP violation: ${e.violatedDirective} blocked ${e.blockedURI}`);
    });
  });
  return page;
}

/**
 * Saves a full-page screenshot as SCREENSHOT_DIR/NAME.png. A full-page capture that times out (seen once on a
 * loaded 2-core machine, right after an analysis) is retried once as a viewport capture, and said so.
 */
export async function screenshot(page, name) {
  fs.mkdirSync(SCREENSHOT_DIR, { recursive: true });
  const file = path.join(SCREENSHOT_DIR, `${name}.png`);
  try {
    await page.screenshot({ path: file, fullPage: true });
  } catch (error) {
    if (error.name !== 'TimeoutError') throw error;
    console.log(`# screenshot ${name}: the full-page capture timed out; retrying the viewport`);
    await page.screenshot({ path: file, timeout: 60_000 });
  }
}

/**
 * Waits until the classifier's model is ready and checks it runs on `backend`; a load error, or another
 * backend, fails at once with what the page says instead of running into the timeout.
 */
export async function modelReady(page, backend, timeout) {
  await page.locator('[data-testid="model-status"][data-backend], [data-testid="model-error"]').first().waitFor({ timeout });
  const error = page.getByTestId('model-error');
  if (await error.count()) throw new Error(`the model did not load: ${await error.innerText()}`);
  const actual = await page.getByTestId('model-status').getAttribute('data-backend');
  if (actual !== backend) {
    throw new Error(`the model runs on ${actual}, not ${backend}: ${await page.getByTestId('model-status').innerText()}`);
  }
}
