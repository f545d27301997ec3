// What a first visit downloads: every response to a fresh browser profile loading PATH (the page and its workers;
// for /classify until the model is ready), until the network is quiet, summed by kind: the bytes sent (this
// server does not compress) and what gzip -9 makes of them (what a compressing host would send). The service
// worker is blocked here so that every request is seen; its precache (the app shell again, the data, the sample
// clip, downloaded in the background after the first visit) is summed apart from the precache list of `sw.js`.
// A measurement, not a test.
//
// node bench/first-visit.mjs SITE_URL PATH...    e.g. node bench/first-visit.mjs http://127.0.0.1:8080 / /classify
import zlib from 'node:zlib';
import { launch, newPage } from '../e2e/browser.mjs';

const [site, ...paths] = process.argv.slice(2);
const browser = await launch();
const gz = (body) => zlib.gzipSync(body, { level: 9 }).length;
const line = (name, k) => `  ${name.padEnd(26)} ${String(k.count).padStart(3)} files ${String(k.bytes).padStart(10)} B  gzip ${String(k.gzip).padStart(9)} B`;

for (const where of paths.length ? paths : ['/']) {
  const page = await newPage(browser, { serviceWorkers: 'block' });
  const bodies = [];
  // The size as sent (Playwright's sizes), and the body for gzip where Chromium keeps it (not for the weights,
  // streamed in the worker: those count their sent size under gzip too; f16 weights hardly compress).
  page.context().on('requestfinished', (request) => bodies.push((async () => {
    const response = await request.response();
    const { responseBodySize } = await request.sizes();
    const body = await response.body().catch(() => Buffer.alloc(0));
    return { url: response.url(), bytes: responseBodySize, body };
  })()));
  await page.goto(`${site}${where}`, { waitUntil: 'networkidle', timeout: 300_000 });
  if (where.startsWith('/classify')) {
    await page.locator('[data-testid="model-status"][data-backend], [data-testid="model-error"]').first().waitFor({ timeout: 300_000 });
  }
  await page.waitForTimeout(2000);
  const kinds = new Map();
  const total = { count: 0, bytes: 0, gzip: 0 };
  for (const { url, bytes, body } of await Promise.all(bodies)) {
    const file = new URL(url).pathname;
    const kind = /\.safetensors$/.test(file) ? 'weights (.safetensors)' : (file.match(/\.([a-z0-9]+)$/i)?.[1] ?? 'html').toLowerCase();
    const k = kinds.get(kind) ?? { count: 0, bytes: 0, gzip: 0 };
    const packed = body.length === bytes ? gz(body) : bytes;
    for (const t of [k, total]) { t.count += 1; t.bytes += bytes; t.gzip += packed; }
    kinds.set(kind, k);
  }
  console.log(`${where}:`);
  for (const [kind, k] of [...kinds].sort((a, b) => b[1].bytes - a[1].bytes)) console.log(line(kind, k));
  console.log(line('total', total));
  await page.context().close();
}

// The service worker's precache, fetched once after the first visit.
const sw = await (await fetch(`${site}/sw.js`)).text();
const list = JSON.parse(/const PRECACHE = (\[[^\]]*\])/.exec(sw)[1]);
const pre = { count: 0, bytes: 0, gzip: 0 };
for (const url of list) {
  const body = Buffer.from(await (await fetch(new URL(url, site))).arrayBuffer());
  pre.count += 1; pre.bytes += body.length; pre.gzip += gz(body);
}
console.log('service worker precache (after the first visit):');
console.log(line('total', pre));
await browser.close();
