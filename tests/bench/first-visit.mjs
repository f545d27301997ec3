// What a first visit downloads: every response of a fresh browser profile loading PATH (service worker on, as a
// visitor has it), until the network is quiet, summed by kind, as sent on the wire (encoded: after any HTTP
// compression) and as files (decoded). A measurement, not a test.
//
// node bench/first-visit.mjs SITE_URL PATH...    e.g. node bench/first-visit.mjs http://127.0.0.1:8080 / /classify
import { launch, newPage } from '../e2e/browser.mjs';

const [site, ...paths] = process.argv.slice(2);
const browser = await launch();
for (const where of paths.length ? paths : ['/']) {
  const page = await newPage(browser);
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('Network.enable');
  const requests = new Map();
  cdp.on('Network.responseReceived', (e) => requests.set(e.requestId, { url: e.response.url, type: e.type, encoding: e.response.headers['content-encoding'] ?? e.response.headers['Content-Encoding'] ?? '' }));
  const done = [];
  cdp.on('Network.loadingFinished', (e) => done.push(e));
  cdp.on('Network.dataReceived', (e) => {
    const r = requests.get(e.requestId);
    if (r) r.decoded = (r.decoded ?? 0) + e.dataLength;
  });
  await page.goto(`${site}${where}`, { waitUntil: 'networkidle', timeout: 300_000 });
  // The classifier downloads its model in a worker; wait for it to be ready, if the page has one.
  if (where.startsWith('/classify')) {
    await page.locator('[data-testid="model-status"][data-backend], [data-testid="model-error"]').first().waitFor({ timeout: 300_000 });
  }
  await page.waitForTimeout(2000);
  const kinds = new Map();
  let wire = 0;
  let files = 0;
  for (const e of done) {
    const r = requests.get(e.requestId);
    if (!r) continue;
    const ext = (new URL(r.url).pathname.match(/\.([a-z0-9]+)$/i)?.[1] ?? 'html').toLowerCase();
    const k = kinds.get(ext) ?? { count: 0, wire: 0, files: 0 };
    k.count += 1;
    k.wire += e.encodedDataLength;
    k.files += r.decoded ?? 0;
    kinds.set(ext, k);
    wire += e.encodedDataLength;
    files += r.decoded ?? 0;
  }
  console.log(`${where}: ${done.length} responses, ${wire} bytes on the wire, ${files} bytes decoded`);
  for (const [ext, k] of [...kinds].sort((a, b) => b[1].files - a[1].files)) {
    console.log(`  ${ext.padEnd(12)} ${String(k.count).padStart(3)}  wire ${String(k.wire).padStart(10)}  decoded ${String(k.files).padStart(10)}`);
  }
  await page.context().close();
}
await browser.close();
