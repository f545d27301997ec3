// The landing page and its capabilities panel, as a visitor sees them.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { launch, newPage, screenshot, BASE_URL } from './browser.mjs';

let browser;
before(async () => { browser = await launch(); });
after(async () => { await browser?.close(); });

test('landing page shows the product and the capabilities panel with the SwiftShader adapter', async () => {
  const page = await newPage(browser);
  await page.goto(`${BASE_URL}/`);
  await page.getByRole('heading', { level: 1, name: 'Kinetiscope' }).waitFor();
  assert.ok(await page.getByRole('link', { name: /Dataset explorer/ }).isVisible());
  assert.ok(await page.getByRole('link', { name: /Action classifier/ }).isVisible());

  const webgpu = page.getByTestId('cap-webgpu');
  await webgpu.waitFor({ timeout: 30_000 });
  assert.equal(await webgpu.textContent(), 'available');
  assert.match(await page.getByTestId('cap-adapter').textContent(), /swiftshader/i);
  assert.match(await page.getByTestId('cap-f16').textContent(), /^(yes|no)$/);
  // The server sends COOP/COEP, so the page is cross-origin isolated.
  assert.equal(await page.getByTestId('cap-isolated').textContent(), 'yes');
  assert.match(await page.getByTestId('cap-build').textContent(), /^\d+\.\d+\.\d+/);
  // The Content-Security-Policy is there, with the inline loader's hash, and nothing broke it (page.errors).
  const csp = await page.locator('meta[http-equiv="Content-Security-Policy"]').getAttribute('content');
  assert.match(csp, /script-src 'self' 'wasm-unsafe-eval' 'sha256-[A-Za-z0-9+/=]+'/);
  assert.match(csp, /object-src 'none'/);
  await screenshot(page, 'home');
  assert.deepEqual(page.errors, []);
});

test('deep links load the app and the navigation works', async () => {
  const page = await newPage(browser);
  await page.goto(`${BASE_URL}/classify`);
  await page.getByRole('heading', { level: 1, name: 'Action classifier' }).waitFor();
  await page.getByRole('link', { name: 'Explorer' }).click();
  await page.getByRole('heading', { level: 1, name: 'Kinetics explorer' }).waitFor();
  assert.equal(new URL(page.url()).pathname, '/classes');
  await page.goto(`${BASE_URL}/no/such/page`);
  await page.getByRole('heading', { level: 1, name: 'Page not found' }).waitFor();
  assert.deepEqual(page.errors, []);
});
