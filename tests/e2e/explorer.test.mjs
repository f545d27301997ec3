// The dataset explorer, as a visitor uses it: search, class pages with YouTube links and an on-demand player,
// statistics charts, loading annotation files (good and bad) and deep links. Expected values come from the real
// annotation files in ../shared/data/kinetics, which `cargo xtask data` also bundles with the site.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { launch, newPage, screenshot, BASE_URL, SHARED_DIR } from './browser.mjs';

const KINETICS = path.join(SHARED_DIR, 'data/kinetics');

let browser;
before(async () => { browser = await launch(); });
after(async () => { await browser?.close(); });

/** The fields of one CSV line (quoted fields may hold commas and doubled quotes). */
function fields(line) {
  const out = [];
  const re = /(?:^|,)(?:"((?:[^"]|"")*)"|([^,]*))/g;
  for (const m of line.replace(/\r$/, '').matchAll(re)) out.push(m[1] !== undefined ? m[1].replaceAll('""', '"') : m[2]);
  return out;
}

/** Rows `{label, youtube_id, time_start, time_end, split}` of a labelled CSV with the given label. */
function rows(file, label) {
  const lines = fs.readFileSync(path.join(KINETICS, file), 'utf8').trim().split('\n');
  const header = fields(lines[0]);
  return lines.slice(1)
    .map((line) => Object.fromEntries(fields(line).map((v, i) => [header[i], v])))
    .filter((row) => row.label === label);
}

/**
 * A page on which every request that leaves the test server is recorded and aborted, so nothing reaches
 * YouTube (or anywhere else). The service worker is off: requests it made would bypass the routes these tests
 * set (the PWA tests cover it).
 */
async function isolatedPage() {
  const page = await newPage(browser, { serviceWorkers: 'block' });
  page.external = [];
  await page.context().route((url) => !url.href.startsWith(BASE_URL), (route) => {
    page.external.push(route.request().url());
    return route.abort();
  });
  return page;
}

/** Console errors other than the aborted third-party requests this test causes on purpose. */
function unexpectedErrors(page) {
  return page.errors.filter((e) => !/ERR_FAILED|ERR_BLOCKED|youtube/i.test(e));
}

/** Waits until the bundled clips of the version in view are loaded. */
async function waitForClips(page, text) {
  await page.getByTestId('data-summary').filter({ hasText: text }).waitFor({ timeout: 30_000 });
}

/** The count cell of a class row (first split column). */
function countOf(page, name) {
  return page.getByTestId('class-row')
    .filter({ has: page.getByRole('link', { name, exact: true }) })
    .locator('td.num').first();
}

test('search, class page with YouTube links, and a player that loads only on demand', async () => {
  const page = await isolatedPage();
  await page.goto(`${BASE_URL}/classes`);
  await page.getByRole('heading', { level: 1, name: 'Kinetics explorer' }).waitFor();
  await waitForClips(page, /19,906 val/);
  assert.match(await page.getByTestId('class-count').textContent(), /Classes 1–100 of 400\./);

  await page.getByTestId('class-filter').fill('cricket');
  await page.waitForURL(/[?&]q=cricket/);
  const names = await page.getByTestId('class-row').locator('td.name').allTextContents();
  assert.equal(names[0], 'playing cricket', `hits: ${names}`);
  assert.equal(await countOf(page, 'playing cricket').textContent(), '50');
  await screenshot(page, 'explorer-search');

  await page.getByRole('link', { name: 'playing cricket', exact: true }).click();
  await page.getByRole('heading', { level: 1, name: 'playing cricket' }).waitFor();
  assert.equal(new URL(page.url()).pathname, '/classes/playing%20cricket');
  await page.getByTestId('clip-row').first().waitFor();
  const expected = rows('kinetics-400_val.csv', 'playing cricket');
  assert.equal(expected.length, 50);
  assert.equal(await page.getByTestId('clip-count').textContent(), 'Clips 1–50 of 50.');
  const hrefs = await page.getByTestId('watch-link').evaluateAll((links) => links.map((a) => a.getAttribute('href')));
  const wanted = expected.map((r) => `https://www.youtube.com/watch?v=${r.youtube_id}&t=${Math.floor(Number(r.time_start))}s`);
  assert.deepEqual([...hrefs].sort(), [...wanted].sort());
  // The first row of the file, checked explicitly: -49tMSUTnZg from 16 s to 26 s.
  const first = expected.find((r) => r.youtube_id === '-49tMSUTnZg');
  assert.equal(first.time_start, '16');
  const row = page.locator('[data-testid="clip-row"][data-youtube-id="-49tMSUTnZg"]');
  assert.equal(await row.getByTestId('watch-link').getAttribute('href'), 'https://www.youtube.com/watch?v=-49tMSUTnZg&t=16s');
  assert.match(await row.textContent(), /16–26 s/);
  assert.match(await row.textContent(), /val/);

  // No third-party frame or request until the user asks for the player.
  assert.equal(await page.locator('iframe').count(), 0);
  assert.deepEqual(page.external, []);
  await row.getByTestId('play').click();
  const player = page.getByTestId('player');
  await player.waitFor({ state: 'attached' });
  assert.equal(await player.getAttribute('src'), 'https://www.youtube-nocookie.com/embed/-49tMSUTnZg?start=16&end=26');
  assert.equal(await player.getAttribute('credentialless'), '');
  assert.equal(await page.locator('iframe').count(), 1);
  await page.waitForTimeout(500);
  assert.ok(page.external.length > 0 && page.external.every((u) => u.startsWith('https://www.youtube-nocookie.com/')),
    `requests after the click: ${page.external}`);
  await screenshot(page, 'explorer-class');
  await row.getByTestId('play').click();
  assert.equal(await page.locator('iframe').count(), 0);
  assert.deepEqual(unexpectedErrors(page), []);

  // A browser without credentialless iframes (the page is cross-origin isolated): a plain link, no frame.
  await page.addInitScript(() => { delete HTMLIFrameElement.prototype.credentialless; });
  await page.reload();
  const again = page.locator('[data-testid="clip-row"][data-youtube-id="-49tMSUTnZg"]');
  await again.getByTestId('play').click();
  const link = page.getByTestId('player-link');
  await link.waitFor();
  assert.equal(await link.locator('a').getAttribute('href'), 'https://www.youtube.com/watch?v=-49tMSUTnZg&t=16s');
  assert.equal(await page.locator('iframe').count(), 0);
});

test('statistics: clicking a bar of the clips-per-class chart opens that class', async () => {
  const page = await isolatedPage();
  await page.goto(`${BASE_URL}/stats`);
  await page.getByRole('heading', { level: 1, name: 'Dataset statistics' }).waitFor();
  await waitForClips(page, /19,906 val/);
  await page.getByTestId('class-chart-caption').filter({ hasText: /400 classes with loaded clips/ }).waitFor();
  assert.equal(await page.getByTestId('class-bar').count(), 400);
  assert.match(await page.locator('[data-split="test"]').textContent(), /38,685 unlabelled/);
  await screenshot(page, 'explorer-stats');

  const bar = page.getByTestId('class-bar').nth(123);
  const name = await bar.getAttribute('data-class');
  await bar.click();
  await page.getByRole('heading', { level: 1, name, exact: true }).waitFor();
  assert.equal(decodeURIComponent(new URL(page.url()).pathname), `/classes/${name}`);
  await page.getByTestId('clip-row').first().waitFor();
  assert.deepEqual(unexpectedErrors(page), []);
  assert.deepEqual(page.external, []);
});

test('loading files: extend, replace, and a bad file that leaves the data untouched', async () => {
  const page = await isolatedPage();
  await page.goto(`${BASE_URL}/classes?v=600`);
  await waitForClips(page, /30,000 val/);
  assert.equal(await countOf(page, 'abseiling').textContent(), '50');
  await page.getByTestId('data-panel').locator('summary').click();

  // Extend: the same official file again doubles every count.
  await page.getByTestId('mode-extend').check();
  await page.getByTestId('file-input').setInputFiles(path.join(KINETICS, 'kinetics-600_val.csv'));
  await page.getByTestId('load-status').filter({ hasText: 'Added kinetics-600_val.csv (Kinetics-600): 30,000 clips (30,000 labelled), 0 rows skipped.' }).waitFor({ timeout: 30_000 });
  assert.equal(await countOf(page, 'abseiling').textContent(), '100');
  await waitForClips(page, /60,000 val/);

  // Replace: only the loaded file remains; it is Kinetics-400, so the 600 view is empty and says so.
  await page.getByTestId('mode-replace').check();
  await page.getByTestId('file-input').setInputFiles(path.join(KINETICS, 'kinetics-400_val.csv'));
  await page.getByTestId('load-status').filter({ hasText: 'Replaced the loaded data with kinetics-400_val.csv (Kinetics-400): 19,906 clips' }).waitFor({ timeout: 30_000 });
  await waitForClips(page, /No Kinetics-600 clips loaded/);
  await page.getByTestId('load-status').getByRole('link', { name: 'switch' }).click();
  await waitForClips(page, /^19,906 Kinetics-400 clips loaded \(19,906 val; 19,906 labelled\)$/);
  assert.equal(await countOf(page, 'abseiling').textContent(), '50');

  // A malformed file: the error names the line and field, and the data stays as it was.
  const bad = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'kinetiscope-')), 'broken.csv');
  fs.writeFileSync(bad, 'label,youtube_id,time_start,time_end,split\nabseiling,0wR5jVB-WPk,417,427,val\nabseiling,3caPS4FHFF8,abc,46,val\n');
  await page.getByTestId('mode-extend').check();
  await page.getByTestId('file-input').setInputFiles(bad);
  const error = page.getByTestId('load-error');
  await error.waitFor();
  assert.equal(await error.textContent(), 'broken.csv line 3, field time_start: "abc" is not a number');
  assert.match(await page.getByTestId('load-status').textContent(), /Could not load broken\.csv\. The loaded data is unchanged\./);
  await waitForClips(page, /^19,906 Kinetics-400 clips loaded/);
  assert.equal(await countOf(page, 'abseiling').textContent(), '50');
  // Replace with a file that parses but holds no clip (a header only): refused, nothing is dropped.
  const headerOnly = path.join(path.dirname(bad), 'header-only.csv');
  fs.writeFileSync(headerOnly, 'label,youtube_id,time_start,time_end,split\n');
  await page.getByTestId('mode-replace').check();
  await page.getByTestId('file-input').setInputFiles(headerOnly);
  await page.getByTestId('load-error').filter({ hasText: 'header-only.csv holds no clips' }).waitFor({ timeout: 30_000 });
  assert.match(await page.getByTestId('load-status').textContent(), /Could not load header-only\.csv\. The loaded data is unchanged\./);
  await waitForClips(page, /^19,906 Kinetics-400 clips loaded/);
  assert.equal(await countOf(page, 'abseiling').textContent(), '50');
  await screenshot(page, 'explorer-load-error');
  assert.deepEqual(unexpectedErrors(page), []);
});

test('loading from a URL and by drag and drop', async () => {
  const page = await isolatedPage();
  const url = `${BASE_URL}/remote/kinetics-600_val.csv`;
  await page.route(url, (route) => route.fulfill({
    status: 200, contentType: 'text/csv', body: fs.readFileSync(path.join(KINETICS, 'kinetics-600_val.csv')),
  }));
  await page.goto(`${BASE_URL}/classes?v=600`);
  await waitForClips(page, /30,000 val/);
  await page.getByTestId('data-panel').locator('summary').click();

  await page.getByTestId('mode-replace').check();
  await page.getByLabel('or from a URL').fill(url);
  await page.getByRole('button', { name: 'Fetch' }).click();
  await page.getByTestId('load-status').filter({ hasText: 'Replaced the loaded data with kinetics-600_val.csv (Kinetics-600): 30,000 clips' }).waitFor({ timeout: 30_000 });
  await waitForClips(page, /^30,000 Kinetics-600 clips loaded \(30,000 val; 30,000 labelled\)$/);

  const text = fs.readFileSync(path.join(KINETICS, 'kinetics-400_val.csv'), 'utf8');
  const dataTransfer = await page.evaluateHandle((csv) => {
    const dt = new DataTransfer();
    dt.items.add(new File([csv], 'dropped.csv', { type: 'text/csv' }));
    return dt;
  }, text);
  await page.getByTestId('mode-extend').check();
  await page.getByTestId('drop-zone').dispatchEvent('drop', { dataTransfer });
  await page.getByTestId('load-status').filter({ hasText: 'Added dropped.csv (Kinetics-400): 19,906 clips (19,906 labelled), 0 rows skipped. Now 49,906 clips from 2 files.' }).waitFor({ timeout: 30_000 });
  await page.getByTestId('view-400').click();
  await waitForClips(page, /^19,906 Kinetics-400 clips loaded/);
  assert.equal(await countOf(page, 'abseiling').textContent(), '50');

  // A URL that answers 404, and a file on another site that allows only a third one to read it (Playwright
  // adds a permissive CORS header to a fulfilled response that has none): each says why and what to do, and the
  // data stays as it was.
  const missing = `${BASE_URL}/remote/missing.csv`;
  await page.route(missing, (route) => route.fulfill({ status: 404, contentType: 'text/plain', body: 'not found' }));
  await page.getByLabel('or from a URL').fill(missing);
  await page.getByRole('button', { name: 'Fetch' }).click();
  await page.getByTestId('load-error').filter({ hasText: `cannot fetch ${missing}: HTTP 404 Not Found` }).waitFor({ timeout: 30_000 });
  const foreign = 'https://annotations.example/kinetics-400_val.csv';
  await page.route(foreign, (route) => route.fulfill({
    status: 200,
    contentType: 'text/csv',
    headers: { 'access-control-allow-origin': 'https://elsewhere.example' },
    body: fs.readFileSync(path.join(KINETICS, 'kinetics-400_val.csv')),
  }));
  await page.getByLabel('or from a URL').fill(foreign);
  await page.getByRole('button', { name: 'Fetch' }).click();
  await page.getByTestId('load-error').filter({ hasText: 'does not allow other sites to read the file (CORS). Download the file and open it with "Choose a CSV or JSON file" instead.' }).waitFor({ timeout: 30_000 });
  await waitForClips(page, /^19,906 Kinetics-400 clips loaded/);
  assert.equal(await countOf(page, 'abseiling').textContent(), '50');
  await screenshot(page, 'explorer-url-cors');
  // The browser's own report of the refused requests is expected here; nothing else.
  assert.deepEqual(unexpectedErrors(page).filter((e) => !/CORS policy|404 \(Not Found\)/.test(e)), []);
});

test('deep links work on reload, and without bundled data the taxonomy shows with a prompt', async () => {
  const page = await isolatedPage();
  await page.goto(`${BASE_URL}/classes/abseiling`);
  await page.getByRole('heading', { level: 1, name: 'abseiling' }).waitFor();
  await page.getByTestId('clip-count').filter({ hasText: 'Clips 1–50 of 50.' }).waitFor({ timeout: 30_000 });
  await page.reload();
  await page.getByRole('heading', { level: 1, name: 'abseiling' }).waitFor();
  await page.getByTestId('clip-count').filter({ hasText: 'Clips 1–50 of 50.' }).waitFor({ timeout: 30_000 });
  assert.equal(await page.getByTestId('k400-label').textContent(), 'label 0 of 400');

  const bare = await isolatedPage();
  await bare.route(`${BASE_URL}/data/manifest.json`, (route) => route.fulfill({ status: 404, body: 'not here' }));
  await bare.goto(`${BASE_URL}/classes?v=600&q=dyeing`);
  await bare.getByTestId('empty-prompt').waitFor();
  const names = await bare.getByTestId('class-row').locator('td.name').allTextContents();
  assert.deepEqual(names, ['dyeing hair', 'dyeing eyebrows', 'tie dying']);
  await screenshot(bare, 'explorer-no-data');
  assert.deepEqual(unexpectedErrors(page), []);
});
