// The core journeys in the three engines, Chromium, Firefox (ESR) and WebKit (WebKitGTK's MiniBrowser), through
// the small driver layer of ../support/engines.mjs: the landing page and what it says of this browser, the
// explorer with a loaded annotation file, /verify's first question, the sample clip classified on the CPU with the
// threads that engine can have, /inside, the pages on a 390 px phone, and the app after a first visit with the
// network gone. Only Chromium has WebGPU here (SwiftShader); the journeys run on the CPU. A browser or driver that
// is missing fails the tests, it does not skip them. (Chromium's other tests go deeper; these are the same
// journeys in every engine.)
import { describe, test, before, after, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { ENGINES, openEngine } from '../support/engines.mjs';
import { contract } from '../support/contract.mjs';
import { SHARED_DIR } from './browser.mjs';

const KINETICS = path.join(SHARED_DIR, 'data/kinetics');
const PHONE = { width: 390, height: 844 };
const DESKTOP = { width: 1280, height: 900 };

/** What the page says in these test ids now (the ones it shows), for a failure message. */
async function shows(engine, ...ids) {
  const said = await engine.evaluate((ids) => ids
    .map((id) => [id, document.querySelector(`[data-testid="${id}"]`)?.innerText])
    .filter(([, text]) => text != null)
    .map(([id, text]) => `${id}: "${text.replace(/\s+/g, ' ').trim().slice(0, 300)}"`), ids).catch((e) => [e.message]);
  return said.length ? `the page shows ${said.join('; ')}` : `the page shows none of ${ids.join(', ')}`;
}

/** Scrolls `[data-testid=…]` into view: WebKit's screenshots are of the viewport, not the whole page. */
async function inView(engine, testid) {
  await engine.evaluate((id) => document.querySelector(`[data-testid="${id}"]`)?.scrollIntoView({ block: 'center' }), testid);
}

/** Waits for the page's h1 to read `heading`. */
async function heading(engine, heading) {
  await engine.waitFor((h) => document.querySelector('h1')?.textContent === h, {
    args: [heading],
    message: async () => `the heading "${heading}" never showed (h1: ${JSON.stringify(await engine.evaluate(() => document.querySelector('h1')?.textContent ?? null))})`,
  });
}

/** Waits until the classifier's model is ready, fails at once with what the page says if it did not load. */
async function modelReady(engine, timeout) {
  const state = await engine.waitFor(() => {
    const error = document.querySelector('[data-testid="model-error"]');
    if (error) return { error: error.innerText };
    const status = document.querySelector('[data-testid="model-status"][data-backend]');
    return status && { backend: status.dataset.backend, text: status.innerText };
  }, { timeout, message: async () => `the model never got ready: ${await shows(engine, 'model-status')}` });
  assert.equal(state.error, undefined, `${engine.name}: the model did not load: ${state.error}`);
  assert.equal(state.backend, 'cpu', `${engine.name}: the model runs on ${state.backend}, not the CPU: ${state.text}`);
}

/**
 * The elements that stick out of the screen on the right, where the page scrolls sideways: the outermost of each
 * overflow (its parent fits), not inside a box that scrolls or clips on its own.
 */
function overflowing() {
  const width = document.documentElement.clientWidth;
  const out = (el) => el.getBoundingClientRect().right > width + 1;
  const clipped = (el) => {
    for (let a = el.parentElement; a && a !== document.body; a = a.parentElement) {
      if (getComputedStyle(a).overflowX !== 'visible') return true;
    }
    return false;
  };
  const name = (el) => `${el.localName}${el.dataset.testid ? `[data-testid=${el.dataset.testid}]` : ''}${el.id ? `#${el.id}` : ''}${el.classList.length ? `.${[...el.classList].join('.')}` : ''}`;
  return {
    clientWidth: width,
    scrollWidth: document.documentElement.scrollWidth,
    offenders: [...document.body.querySelectorAll('*')]
      .filter((el) => out(el) && !(el.parentElement && out(el.parentElement)) && !clipped(el))
      .slice(0, 10)
      .map((el) => `${name(el)} (right edge at ${Math.round(el.getBoundingClientRect().right)} px)`),
  };
}

for (const name of ENGINES) {
  describe(name, () => {
    let engine;
    let started;
    before(async () => {
      started = Date.now();
      engine = await openEngine(name);
    });
    after(async () => {
      if (!engine) return;
      await engine.close();
      console.log(`# ${name}: all journeys in ${((Date.now() - started) / 1000).toFixed(1)} s (browser start and stop included)`);
    });
    // Each journey checks the errors of its own pages: what a journey that failed early left is dropped here.
    beforeEach(async () => { await engine?.takeErrors(); });

    /** No uncaught error (nor console error) reached the page, as far as the engine lets us see. */
    async function noErrors(journey) {
      assert.deepEqual(await engine.takeErrors(), [], `${name}: errors on ${journey}`);
    }

    test('landing: "Kinetiscope" and what the capabilities panel says of this browser', async () => {
      await engine.goto('/');
      await heading(engine, 'Kinetiscope');
      const caps = await engine.waitFor(() => {
        const text = (id) => document.querySelector(`[data-testid="${id}"]`)?.textContent;
        return text('cap-isolated') && { webgpu: text('cap-webgpu'), isolated: text('cap-isolated'), cores: text('cap-cores') };
      }, { message: async () => `the capabilities panel never filled in: ${await shows(engine, 'capabilities')}` });
      console.log(`# ${name} capabilities: ${JSON.stringify(caps)}`);
      // WebGPU: Chromium's SwiftShader adapter; neither Firefox nor WebKit has WebGPU on Linux, said plainly.
      assert.equal(caps.webgpu, name === 'chromium' ? 'available' : 'this browser has no WebGPU', `${name}: WebGPU`);
      // The explorer's pages are served with COEP credentialless: Chromium and Firefox are isolated; WebKit does
      // not know the value (the classifier's pages, served with require-corp, are isolated there: below).
      assert.equal(caps.isolated, name === 'webkit' ? 'no' : 'yes', `${name}: cross-origin isolated says "${caps.isolated}"`);
      assert.match(caps.cores, /^[1-9]\d*$/, `${name}: logical cores "${caps.cores}"`);
      await engine.screenshot('home');
      await noErrors('/');
    });

    test('explorer: the class list, a loaded annotation file, and a class page with its clips', async () => {
      await engine.goto('/classes');
      await heading(engine, 'Kinetics explorer');
      const count = await engine.waitFor(() => document.querySelector('[data-testid="class-count"]')?.textContent.match(/Classes 1–\d+ of (\d+)\./)?.[1],
        { message: async () => `no class count: ${await shows(engine, 'class-count')}` });
      assert.ok(Number(count) >= 400, `${name}: ${count} classes listed`);
      // The bundled validation clips are in: the first class (abseiling) has its 50.
      const first = await engine.waitFor(() => {
        const row = document.querySelector('[data-testid="class-row"]');
        const summary = document.querySelector('[data-testid="data-summary"]')?.textContent ?? '';
        return /19,906 val/.test(summary) && { name: row?.querySelector('td.name a')?.textContent, count: row?.querySelector('td.num')?.textContent };
      }, { message: async () => `the bundled clips never loaded: ${await shows(engine, 'data-summary', 'load-status')}` });
      assert.deepEqual(first, { name: 'abseiling', count: '50' });

      // Load the official Kinetics-400 validation file on top of the bundled one: every count doubles.
      await engine.click('[data-testid="data-panel"] summary');
      await engine.click('[data-testid="mode-extend"]');
      await engine.setFiles('[data-testid="file-input"]', path.join(KINETICS, 'kinetics-400_val.csv'));
      await engine.waitFor(() => document.querySelector('[data-testid="load-status"]')?.textContent
        .startsWith('Added kinetics-400_val.csv (Kinetics-400): 19,906 clips (19,906 labelled), 0 rows skipped.'),
      { message: async () => `the file did not load: ${await shows(engine, 'load-status')}` });
      await engine.waitFor(() => document.querySelector('[data-testid="class-row"] td.num')?.textContent === '100',
        { message: async () => `abseiling's count did not double: ${await shows(engine, 'class-row')}` });
      await inView(engine, 'load-status');
      await engine.screenshot('explorer-loaded');

      // The class page, by clicking the class: the loaded clips are still there (no reload).
      await engine.click('[data-testid="class-row"] td.name a');
      await heading(engine, 'abseiling');
      assert.equal(await engine.evaluate(() => location.pathname), '/classes/abseiling');
      const clips = await engine.waitFor(() => document.querySelectorAll('[data-testid="clip-row"]').length && {
        count: document.querySelector('[data-testid="clip-count"]')?.textContent,
        rows: document.querySelectorAll('[data-testid="clip-row"]').length,
        watch: document.querySelector('[data-testid="watch-link"]')?.getAttribute('href'),
      }, { message: async () => `no clips on the class page: ${await shows(engine, 'clip-count', 'unknown-class')}` });
      assert.equal(clips.count, 'Clips 1–50 of 100.', `${name}: ${JSON.stringify(clips)}`);
      assert.equal(clips.rows, 50);
      assert.match(clips.watch, /^https:\/\/www\.youtube\.com\/watch\?v=[\w-]{11}&t=\d+s$/);
      await engine.screenshot('explorer-class');
      await noErrors('/classes and /classes/abseiling');
    });

    test('/verify: the first question and its answer', async () => {
      await engine.goto('/verify');
      await heading(engine, 'Verify like an annotator');
      // The start button works once the bundled clips are loaded: pressed until the task shows.
      await engine.waitFor(() => {
        if (document.querySelector('[data-testid="verify-task"]')) return true;
        document.querySelector('[data-testid="verify-start"]')?.click();
        return false;
      }, { interval: 500, message: async () => `the session never started: ${await shows(engine, 'verify-problem', 'verify-setup')}` });
      const question = await engine.waitFor(() => {
        const text = (id) => document.querySelector(`[data-testid="${id}"]`)?.textContent;
        return text('verify-question') && {
          progress: text('verify-progress'),
          question: text('verify-question'),
          clip: document.querySelector('[data-testid="player"]') ? 'player' : document.querySelector('[data-testid="player-link"]') ? 'link' : 'none',
        };
      }, { message: async () => `no question: ${await shows(engine, 'verify-task')}` });
      console.log(`# ${name} /verify: ${question.progress}: ${question.question} (the clip as a ${question.clip})`);
      assert.match(question.progress, /^Clip 1 of \d+$/);
      assert.match(question.question, /^Does this video clip contain the human action .+\?$/);
      // /verify is isolated with require-corp in every engine: a YouTube frame only as a credentialless iframe
      // (Chromium), a link elsewhere.
      assert.equal(question.clip, name === 'chromium' ? 'player' : 'link', `${name}: the clip is shown as a ${question.clip}`);
      await inView(engine, 'verify-question');
      await engine.screenshot('verify-question');
      // A real click on "yes": the feedback reveals the clip's label.
      await engine.click('[data-testid="answer-yes"]');
      const label = await engine.waitFor(() => document.querySelector('[data-testid="verify-feedback"]')?.dataset.label,
        { message: async () => `no feedback after answering: ${await shows(engine, 'verify-task')}` });
      assert.ok(label.length > 0);
      await noErrors('/verify');
    });

    test('classifier: from the explorer\'s menu, the sample clip on the CPU is "playing cricket"', { timeout: 240_000 }, async () => {
      // As a visitor comes: from the explorer (COEP credentialless) by the menu. In WebKit, where that page is not
      // isolated, the classifier's page is loaded again from the host, which isolates it.
      await engine.goto('/classes');
      await heading(engine, 'Kinetics explorer');
      await engine.click('header nav a[href="/classify"]');
      await heading(engine, 'Action classifier');
      await modelReady(engine, 60_000);
      const threads = await engine.evaluate(() => {
        const el = document.querySelector('[data-testid="threads"]');
        return { count: Number(el.dataset.threads), note: el.innerText, isolated: self.crossOriginIsolated, cores: navigator.hardwareConcurrency };
      });
      // Why the CPU, in plain words: Chromium's adapter is SwiftShader; the others have no WebGPU here.
      const status = await engine.text('model-status');
      assert.match(status, name === 'chromium' ? /because the adapter is a software renderer/ : /because this browser has no WebGPU\./, status);
      console.log(`# ${name} /classify: ${threads.count} thread(s), crossOriginIsolated ${threads.isolated}, ${threads.cores} logical cores: "${threads.note}"`);
      // Every engine: /classify is served with COEP require-corp, so it is cross-origin isolated.
      assert.equal(threads.isolated, true, `${name}: /classify is not cross-origin isolated: ${threads.note}`);
      if (name === 'webkit') {
        // WebKitGTK isolates the page but cannot post shared memory to a worker: one thread, and the real reason.
        assert.equal(threads.count, 1, `webkit: ${threads.note}`);
        assert.match(threads.note, /one thread: memory cannot be shared with workers in this browser/);
      } else {
        // The threaded build, a thread per core (up to 8).
        assert.equal(threads.count, Math.min(threads.cores, 8), threads.note);
        assert.match(threads.note, /threads on Web Workers/);
      }

      const started = Date.now();
      await engine.click('[data-testid="sample"]');
      const result = await engine.waitFor(() => document.querySelector('[data-testid="timeline"]') && {
        top: document.querySelector('[data-testid="overall"] li a')?.textContent,
        heading: document.querySelector('.video-results h2')?.textContent,
      }, { timeout: 180_000, interval: 500, message: async () => `the sample clip was not analysed: ${await shows(engine, 'analysis-progress', 'video-error', 'model-error')}` });
      console.log(`# ${name}: ${result.heading} in ${((Date.now() - started) / 1000).toFixed(1)} s; first: ${result.top}`);
      assert.ok(result.top?.startsWith('playing cricket'), `${name}: the first prediction is "${result.top}"`);
      await inView(engine, 'timeline');
      await engine.screenshot('classifier-sample');
      await noErrors('/classify');
    });

    test('/inside on the CPU: the first layer\'s strongest channels on the last window', { timeout: 60_000 }, async () => {
      // From the previous journey's result: the model stays loaded across the app's own navigation.
      const link = await engine.evaluate(() => !!document.querySelector('[data-testid="inside-link"]'));
      assert.ok(link, `${name}: no link to /inside: the sample clip's classification (previous test) did not finish`);
      await engine.click('[data-testid="inside-link"]');
      await heading(engine, 'Inside I3D');
      // The architecture table, with the totals of `kinetiscope bench`.
      const parameters = await engine.waitFor(() => document.querySelector('[data-testid="totals"]')?.dataset.parameters);
      assert.equal(parameters, '12689984');
      await engine.select('[data-testid="layer-picker"]', 'Conv3d_1a_7x7');
      await engine.click('[data-testid="show-activations"]');
      // 16 channels, drawn: the strongest one's canvas lights up.
      const grid = await engine.waitFor(() => {
        const grid = document.querySelector('[data-testid="activations"][data-layer="Conv3d_1a_7x7"]');
        const canvas = grid?.querySelector('[data-testid="channel"] canvas');
        if (!canvas) return null;
        const data = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
        let lit = false;
        for (let i = 0; i < data.length && !lit; i += 4) lit = data[i] > 0;
        return lit && { channels: grid.querySelectorAll('[data-testid="channel"]').length, backend: grid.dataset.backend };
      }, { timeout: 40_000, message: async () => `no activations shown: ${await shows(engine, 'inside-error', 'inside-status')}` });
      assert.deepEqual(grid, { channels: 16, backend: 'cpu' });
      await inView(engine, 'activations');
      await engine.screenshot('inside-activations');
      await noErrors('/inside');
    });

    test('phones: /classify, /verify, /quiz and /train fit a 390 px screen', { timeout: 90_000 }, async () => {
      const viewport = await engine.setViewport(PHONE.width, PHONE.height);
      try {
        assert.equal(viewport.innerWidth, PHONE.width, `${name}: the window did not become a phone's: ${JSON.stringify(viewport)}`);
        const wide = [];
        for (const [where, h1] of [['/classify?backend=cpu', 'Action classifier'], ['/verify', 'Verify like an annotator'],
          ['/quiz', 'Which action is this?'], ['/train', 'Teach it your own actions']]) {
          await engine.goto(where);
          await heading(engine, h1);
          // The classifier's panel grows once the model is ready (its notes): measured then, or after 20 s as it
          // is (a model that never gets ready is the classifier journey's failure, not this one's).
          if (where.startsWith('/classify')) {
            await engine.waitFor(() => document.querySelector('[data-testid="model-status"][data-backend], [data-testid="model-error"]'),
              { timeout: 20_000 }).catch(async () => console.log(`# ${name} phone /classify measured before the model was ready: ${await shows(engine, 'model-status')}`));
          }
          // Two frames: the layout of what just rendered.
          await engine.evaluate(() => new Promise((resolve) => requestAnimationFrame(() => requestAnimationFrame(resolve))));
          const page = await engine.evaluate(overflowing);
          await engine.screenshot(`phone${new URL(where, 'http://x').pathname.replace('/', '-')}`);
          if (page.scrollWidth > page.clientWidth) {
            wide.push(`${where} is ${page.scrollWidth} px wide on a ${page.clientWidth} px screen: ${page.offenders.join(', ') || '(no single element)'}`);
          }
        }
        assert.deepEqual(wide, [], `${name}: pages wider than the phone`);
      } finally {
        await engine.setViewport(DESKTOP.width, DESKTOP.height);
      }
      await noErrors('the phone pages');
    });

    test('offline after a first visit: the service worker serves the app', { timeout: 90_000 }, async (t) => {
      await engine.goto('/classes');
      await heading(engine, 'Kinetics explorer');
      const ready = () => Promise.race([
        navigator.serviceWorker.ready.then((r) => r.active?.state === 'activated' && navigator.serviceWorker.controller?.scriptURL),
        new Promise((resolve) => setTimeout(() => resolve(null), 2_000)),
      ]);
      assert.ok(await engine.evaluate(() => 'serviceWorker' in navigator), `${name}: no navigator.serviceWorker`);
      // The worker claims the pages it finds once active; one reload in case this page came before that.
      let controller = await engine.waitFor(ready, { timeout: 20_000 }).catch(() => null);
      if (!controller) {
        await engine.reload();
        controller = await engine.waitFor(ready, { timeout: 10_000, message: `no service worker controls the page within 30 s` });
      }
      assert.equal(new URL(controller).pathname, contract.serviceWorker);

      if (name === 'webkit') {
        const note = 'webkit: the service worker controls the page; W3C WebDriver has no offline switch, so the offline visit is not simulated here';
        t.diagnostic(note);
        console.log(`# ${note}`);
        await noErrors('/classes');
        return;
      }
      await engine.setOffline(true);
      try {
        await engine.reload();
        await heading(engine, 'Kinetics explorer');
        const offline = await engine.waitFor(() => document.querySelector('[data-testid="class-row"]') && {
          banner: !!document.querySelector('[data-testid="offline"]'),
          online: navigator.onLine,
        }, { message: async () => `the explorer did not render offline: ${await shows(engine, 'data-summary', 'offline')}` });
        assert.deepEqual(offline, { banner: true, online: false });
        await engine.screenshot('offline-classes');
        // The classifier's page too, with its sample clip to try (the model from the cache is pwa.test.mjs's).
        await engine.goto('/classify?backend=cpu');
        await heading(engine, 'Action classifier');
        await engine.waitFor(() => document.querySelector('[data-testid="sample"]'), { message: 'no sample clip button offline' });
      } finally {
        await engine.setOffline(false);
      }
      await noErrors('/classes and /classify offline');
    });
  });
}
