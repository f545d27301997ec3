// The pages for educators: the annotators' verification task, the quiz for a room (YouTube rounds and, offline,
// the sample clip against I3D), the papers' findings, and the visual explorer (opt-in thumbnails, two classes
// side by side, CSV export of a filtered list). YouTube is never reached: every request that leaves the test
// server is answered here (a stand-in player, a grey still image) or refused, and recorded.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { launch, newPage, screenshot, modelReady, BASE_URL } from './browser.mjs';

const STAND_IN = '<!doctype html><title>YouTube stand-in</title><body style="background:#222;color:#eee">a YouTube clip would play here</body>';
// A 1×1 grey PNG for YouTube's still images.
const STILL = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAAAAAA6fptVAAAACklEQVR4nGNoAAAAggCBd81ytgAAAABJRU5ErkJggg==', 'base64');
const PHONE = { width: 390, height: 844 };

let browser;
// Without site isolation the YouTube frames (cross-origin, mounted and replaced quickly as clips change) stay in the
// page's process: Playwright's frame tracking otherwise trips on a frame attached under an out-of-process parent
// ("Assertion error" in FrameManager.frameAttached, an unhandled rejection outside any test).
before(async () => { browser = await launch(['--disable-site-isolation-trials']); });
after(async () => { await browser?.close(); });

/** A route answered after its page or context closed (an iframe still loading when a test moves on) is no error. */
function ignoreClosed(error) {
  if (!/closed|Target|Assertion error/i.test(String(error))) throw error;
}

/**
 * A page whose requests beyond the test server never reach the network: the YouTube embed and still images are
 * answered locally, anything else refused; `page.youtube` and `page.refused` record them.
 */
async function localPage(options = {}) {
  const page = await newPage(browser, { serviceWorkers: 'block', ...options });
  page.youtube = [];
  page.stills = [];
  page.refused = [];
  await page.context().route((url) => !url.href.startsWith(BASE_URL), (route) => {
    const url = route.request().url();
    if (url.startsWith('https://www.youtube-nocookie.com/embed/')) {
      page.youtube.push(url);
      return route.fulfill({ status: 200, contentType: 'text/html', body: STAND_IN }).catch(ignoreClosed);
    }
    if (url.startsWith('https://i.ytimg.com/vi/')) {
      page.stills.push(url);
      return route.fulfill({ status: 200, contentType: 'image/png', body: STILL }).catch(ignoreClosed);
    }
    page.refused.push(url);
    return route.abort().catch(ignoreClosed);
  });
  return page;
}

/** Desktop and 390 px phone screenshots of what the page shows now. */
async function bothScreens(page, name) {
  await screenshot(page, name);
  const size = page.viewportSize();
  await page.setViewportSize(PHONE);
  await screenshot(page, `${name}-phone`);
  // Nothing sticks out sideways on the phone.
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  assert.ok(overflow <= 1, `${name}: the page is ${overflow}px wider than a 390 px screen`);
  await page.setViewportSize(size);
}

/** Clicks a start button until the bundled clips are there (the first click may come before they loaded). */
async function startWhenLoaded(page, start, running) {
  for (let i = 0; i < 60; i += 1) {
    await page.getByTestId(start).click();
    if (await page.getByTestId(running).count()) return;
    await page.waitForTimeout(500);
  }
  throw new Error(`${running} never appeared`);
}

/** The Kinetics-400 classes of a parent group, as its explorer page lists them. */
const groupCache = new Map();
async function groupMembers(browserPage, group) {
  if (!groupCache.has(group)) {
    const page = await localPage();
    await page.goto(`${BASE_URL}/groups/${encodeURIComponent(group)}?v=400`);
    await page.getByTestId('class-row').first().waitFor({ timeout: 30_000 });
    groupCache.set(group, await page.locator('[data-testid="class-row"] td.name a').allTextContents());
    await page.context().close();
  }
  return groupCache.get(group);
}

const NAMED_CONFUSIONS = [['long jump', 'triple jump'], ['eating burger', 'eating doughnuts'], ['swing dancing', 'salsa dancing']];

test('verify: a 10-clip session with the five answers, hard negatives and a score that matches the answers given', async () => {
  const page = await localPage();
  await page.goto(`${BASE_URL}/verify`);
  await page.getByRole('heading', { level: 1, name: 'Verify like an annotator' }).waitFor();
  await page.getByTestId('verify-count').fill('10');
  await page.getByTestId('verify-count').dispatchEvent('change');
  await bothScreens(page, 'verify-setup');
  await startWhenLoaded(page, 'verify-start', 'verify-task');

  // Answers given: keys and buttons, every one of the five kinds.
  const plan = ['Y', 'N', 'unsure', 'Y', 'doesnotplay', 'N', 'yes', 'no', 'U', 'X'];
  const asked = [];
  for (let i = 0; i < plan.length; i += 1) {
    assert.equal(await page.getByTestId('verify-progress').textContent(), `Clip ${i + 1} of 10`);
    const player = page.getByTestId('player');
    await player.waitFor();
    const src = await player.getAttribute('src');
    assert.match(src, /^https:\/\/www\.youtube-nocookie\.com\/embed\/[\w-]{11}\?start=\d+&end=\d+&autoplay=1$/);
    const question = await page.getByTestId('verify-question').textContent();
    assert.match(question, /^Does this video clip contain the human action .+\?$/);
    if (i === 0) {
      // Replay mounts the player again: one more request for the embed.
      const before = page.youtube.length;
      await page.keyboard.press('r');
      await page.waitForTimeout(500);
      assert.ok(page.youtube.length > before, 'replay loads the clip again');
      await bothScreens(page, 'verify-question');
    }
    const answer = plan[i];
    if (answer.length === 1) await page.keyboard.press(answer.toLowerCase());
    else await page.getByTestId(`answer-${answer}`).click();
    const feedback = page.getByTestId('verify-feedback');
    await feedback.waitFor();
    asked.push({
      answer: { Y: 'yes', N: 'no', U: 'unsure', X: 'doesnotplay' }[answer] ?? answer,
      label: await feedback.getAttribute('data-label'),
      asked: await feedback.getAttribute('data-asked'),
      relation: await feedback.getAttribute('data-relation'),
    });
    if (i === 1) await screenshot(page, 'verify-feedback');
    if (i % 2) await page.keyboard.press('Enter');
    else await page.getByTestId('verify-next').click();
  }

  // The class asked is the label, a named confusion of it, or a class of a group it is in.
  for (const q of asked) {
    if (q.relation === 'label') {
      assert.equal(q.asked, q.label);
    } else if (q.relation === 'chosen') {
      assert.fail(`a session over every class has no "chosen" negative: ${JSON.stringify(q)}`);
    } else if (q.relation === 'confusion') {
      assert.ok(NAMED_CONFUSIONS.some(([a, b]) => (a === q.label && b === q.asked) || (b === q.label && a === q.asked)), JSON.stringify(q));
    } else {
      const group = q.relation.replace(/^group:/, '');
      const members = await groupMembers(page, group);
      assert.ok(members.includes(q.label) && members.includes(q.asked), `${JSON.stringify(q)} not both in ${group}: ${members}`);
      assert.notEqual(q.asked, q.label);
    }
  }
  // The score, computed here from the answers given and the labels revealed.
  const scored = asked.filter((q) => q.answer !== 'doesnotplay');
  const right = scored.filter((q) => (q.asked === q.label ? q.answer === 'yes' : q.answer === 'no'));
  const positives = scored.filter((q) => q.asked === q.label);
  const agreed = positives.filter((q) => q.answer === 'yes');
  const pct = (a, b) => (b ? `${Math.round((100 * a) / b)}%` : '—');
  await page.getByTestId('verify-summary').waitFor();
  assert.equal(await page.getByTestId('verify-accuracy').textContent(), pct(right.length, scored.length));
  assert.equal(await page.getByTestId('verify-agreement').textContent(), pct(agreed.length, positives.length));
  const missed = new Set(scored.filter((q) => !right.includes(q)).map((q) => q.label));
  const hardest = await page.locator('[data-testid="verify-hardest"] li a').allTextContents();
  assert.equal(hardest.length, Math.min(5, missed.size), `${hardest} vs ${[...missed]}`);
  assert.ok(hardest.every((c) => missed.has(c)), `${hardest} vs ${[...missed]}`);
  assert.equal(await page.getByTestId('verify-row').count(), 10);
  await bothScreens(page, 'verify-summary');
  assert.deepEqual(page.refused, []);
  assert.ok(page.youtube.length >= 10);
  assert.deepEqual(page.errors, []);
});

test('verify: "verify both" of a confusion asks only about the two classes, and offline the clip says it cannot play', async () => {
  const page = await localPage();
  await page.goto(`${BASE_URL}/findings/confusions`);
  await page.getByTestId('verify-link').first().click();
  await page.getByTestId('verify-classes').filter({ hasText: 'Only long jump and triple jump' }).waitFor();
  await page.getByTestId('verify-count').fill('4');
  await page.getByTestId('verify-count').dispatchEvent('change');
  await startWhenLoaded(page, 'verify-start', 'verify-task');
  for (let i = 0; i < 4; i += 1) {
    if (i === 2) {
      await page.context().setOffline(true);
      await page.getByTestId('verify-offline').waitFor();
      assert.equal(await page.getByTestId('player').count(), 0);
      await screenshot(page, 'verify-offline');
    }
    await page.keyboard.press(i === 2 ? 'x' : 'y');
    const feedback = page.getByTestId('verify-feedback');
    await feedback.waitFor();
    assert.ok(['long jump', 'triple jump'].includes(await feedback.getAttribute('data-label')));
    assert.ok(['long jump', 'triple jump'].includes(await feedback.getAttribute('data-asked')));
    await page.keyboard.press('Enter');
  }
  await page.getByTestId('verify-summary').waitFor();
  assert.match(await page.getByTestId('verify-summary').textContent(), /of 3 scored answers/);
  await page.context().setOffline(false);
  assert.deepEqual(page.refused, []);
});

test('quiz: YouTube rounds with four choices and a score that counts the right ones', async () => {
  const page = await localPage();
  await page.goto(`${BASE_URL}/quiz`);
  await page.getByTestId('quiz-rounds').fill('3');
  await page.getByTestId('quiz-rounds').dispatchEvent('change');
  await bothScreens(page, 'quiz-setup');
  await startWhenLoaded(page, 'quiz-start', 'quiz-round');
  let right = 0;
  for (let round = 0; round < 3; round += 1) {
    assert.equal(await page.getByTestId('quiz-progress').textContent(), `Round ${round + 1} of 3`);
    await page.getByTestId('player').waitFor();
    const choices = (await page.getByTestId('quiz-choice').allTextContents()).map((t) => t.replace(/^[A-D] /, ''));
    assert.equal(new Set(choices).size, 4, choices.join(' | '));
    // Round 1 by key, the others by click.
    if (round === 0) await page.keyboard.press('2');
    else await page.getByTestId('quiz-choice').nth(round).click();
    const picked = choices[round === 0 ? 1 : round];
    await page.getByTestId('quiz-reveal').waitFor();
    const answer = await page.getByTestId('quiz-answer').textContent();
    assert.ok(choices.includes(answer));
    assert.equal(await page.getByTestId('quiz-reveal').getAttribute('data-right'), String(picked === answer));
    if (picked === answer) right += 1;
    assert.equal(await page.getByTestId('quiz-score').textContent(), `Score ${right - (picked === answer ? 1 : 0)} of ${round}`);
    if (round === 0) await bothScreens(page, 'quiz-youtube-reveal');
    await page.getByTestId('quiz-next').click();
  }
  assert.equal(await page.getByTestId('quiz-final-score').textContent(), `The room: ${right} of 3`);
  assert.deepEqual(page.refused, []);
  assert.deepEqual(page.errors, []);
});

test('quiz offline: a round on the sample clip reveals I3D\'s top five and its activation map', async () => {
  // With the service worker, as an installed app: the page, the sample and the model come from this device.
  const page = await newPage(browser);
  const external = [];
  await page.context().route((url) => !url.href.startsWith(BASE_URL), (route) => {
    external.push(route.request().url());
    return route.abort().catch(ignoreClosed);
  });
  await page.goto(`${BASE_URL}/quiz?backend=cpu`);
  await page.getByTestId('quiz-device').check();
  await modelReady(page, 'cpu', 180_000);
  await page.waitForFunction(async () => {
    const registration = await navigator.serviceWorker.ready;
    return registration.active?.state === 'activated' && navigator.serviceWorker.controller !== null;
  }, null, { timeout: 60_000, polling: 500 });
  await page.context().setOffline(true);
  await page.getByTestId('quiz-start').click();
  await page.getByTestId('quiz-video').waitFor();
  const choices = (await page.getByTestId('quiz-choice').allTextContents()).map((t) => t.replace(/^[A-D] /, ''));
  assert.ok(choices.includes('playing cricket'), choices.join(' | '));
  // The room gets it wrong on purpose.
  const wrong = choices.findIndex((c) => c !== 'playing cricket');
  await page.getByTestId('quiz-choice').nth(wrong).click();
  assert.equal(await page.getByTestId('quiz-reveal').getAttribute('data-right'), 'false');
  assert.equal(await page.getByTestId('quiz-answer').textContent(), 'playing cricket');
  const model = page.getByTestId('quiz-model');
  await model.waitFor({ timeout: 240_000 });
  assert.equal(await model.getAttribute('data-right'), 'true');
  assert.equal(await page.locator('[data-testid="quiz-model-top"] li a').first().textContent(), 'playing cricket');
  assert.equal(await page.locator('[data-testid="quiz-model-top"] li').count(), 5);
  // The activation map is drawn over the video.
  const painted = await page.evaluate(() => {
    const canvas = document.querySelector('.quiz-stage canvas');
    const { data } = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height);
    let n = 0;
    for (let i = 3; i < data.length; i += 4) if (data[i] > 0) n += 1;
    return n / (data.length / 4);
  });
  assert.ok(painted > 0.05, `activation map covers ${painted}`);
  await bothScreens(page, 'quiz-offline-reveal');
  await page.getByTestId('quiz-next').click();
  assert.equal(await page.getByTestId('quiz-final-score').textContent(), 'The room: 0 of 1');
  assert.equal(await page.getByTestId('quiz-final-model').textContent(), 'I3D: 1 of 1 on the videos of this device');
  await screenshot(page, 'quiz-final');
  assert.deepEqual(external, []);
  await page.context().setOffline(false);
});

test('findings: each topic renders its tables with sources, and every class link opens that class', async () => {
  const page = await localPage();
  await page.goto(`${BASE_URL}/findings`);
  const topics = await page.getByTestId('topic').evaluateAll((links) => links.map((a) => a.getAttribute('href')));
  assert.equal(topics.length, 7);
  await bothScreens(page, 'findings');
  const links = new Map();
  for (const href of topics) {
    await page.goto(`${BASE_URL}${href}`);
    const figures = page.getByTestId('finding');
    await figures.first().waitFor();
    for (const figure of await figures.all()) {
      assert.ok(await figure.locator('tbody tr').count() > 0, `${href}: an empty table`);
      assert.match(await figure.getByTestId('source').textContent(), /\(seeds\/\d{3}_[0-9a-f]{16}\.txt\)$/);
    }
    for (const link of await page.getByTestId('class-link').all()) {
      links.set(await link.getAttribute('href'), await link.getAttribute('data-class'));
    }
    await bothScreens(page, `findings-${href.split('/').pop()}`);
  }
  assert.ok(links.size > 40, `${links.size} class links`);
  for (const [href, name] of links) {
    await page.goto(`${BASE_URL}${href}`);
    await page.getByRole('heading', { level: 1, name, exact: true }).waitFor();
    assert.equal(await page.getByTestId('unknown-class').count(), 0, href);
    assert.match(await page.getByTestId(href.endsWith('v=600') ? 'k600-label' : 'k400-label').textContent(), /^label \d+ of \d+$/, href);
  }
  // The paper's numbers, as the seeds print them.
  await page.goto(`${BASE_URL}/findings/baselines`);
  assert.match(await page.getByTestId('finding').textContent(), /Two-Stream84\.285\.992\.551\.056\.963\.756\.0 \/ 77\.349\.5 \/ 71\.961\.0 \/ 81\.3/);
  assert.deepEqual(page.refused, []);
  assert.deepEqual(page.errors, []);
});

test('visual explorer: thumbnails only after opting in (remembered), two classes side by side, CSV export that loads back', async () => {
  const page = await localPage({ acceptDownloads: true });
  await page.goto(`${BASE_URL}/classes/abseiling?v=400&split=val`);
  await page.locator('[data-testid="clip-row"]').first().waitFor({ timeout: 30_000 });
  assert.equal(await page.getByTestId('thumb-grid').count(), 0);
  assert.equal(await page.getByTestId('thumbnail').count(), 0);
  assert.deepEqual(page.stills, [], 'no still image before opting in');
  await page.getByTestId('thumbnails-toggle').check();
  await page.getByTestId('thumbnail').first().waitFor();
  assert.equal(await page.getByTestId('thumbnail').count(), 50);
  await page.waitForFunction(() => [...document.querySelectorAll('[data-testid="thumbnail"]')].slice(0, 4).every((img) => img.complete));
  assert.ok(page.stills.length > 0 && page.stills.every((u) => /^https:\/\/i\.ytimg\.com\/vi\/[\w-]{11}\/mqdefault\.jpg$/.test(u)));
  await bothScreens(page, 'class-thumbnails');
  await page.reload();
  await page.getByTestId('thumbnail').first().waitFor({ timeout: 30_000 });
  assert.ok(await page.getByTestId('thumbnails-toggle').isChecked(), 'remembered');

  // Export: the filtered list (all 50 val clips of the class), in the official layout.
  const [download] = await Promise.all([page.waitForEvent('download'), page.getByTestId('export-csv').click()]);
  assert.equal(download.suggestedFilename(), 'kinetics-400_abseiling_val.csv');
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'kinetiscope-export-')), download.suggestedFilename());
  await download.saveAs(file);
  const lines = fs.readFileSync(file, 'utf8').trim().split('\n');
  assert.equal(lines[0], 'label,youtube_id,time_start,time_end,split,is_cc');
  assert.equal(lines.length, 51);
  assert.ok(lines.slice(1).every((l) => /^abseiling,[\w-]{11},\d+,\d+,val,[01]$/.test(l)), lines.slice(0, 3).join('\n'));
  const official = fs.readFileSync(path.join(process.env.SHARED_DIR ?? path.resolve('../../shared'), 'data/kinetics/kinetics-400_val.csv'), 'utf8')
    .split('\n').filter((l) => l.startsWith('abseiling,'));
  assert.deepEqual(new Set(lines.slice(1)), new Set(official.map((l) => l.trim())));
  // The app's own parser reads it back to the same clips.
  await page.getByRole('link', { name: '← All classes' }).click();
  await page.getByTestId('data-panel').locator('summary').click();
  await page.getByTestId('mode-replace').check();
  await page.getByTestId('file-input').setInputFiles(file);
  await page.getByTestId('load-status').filter({ hasText: `Replaced the loaded data with ${path.basename(file)} (Kinetics-400): 50 clips (50 labelled), 0 rows skipped.` }).waitFor({ timeout: 30_000 });
  await page.locator('[data-testid="class-row"] a', { hasText: /^abseiling$/ }).click();
  await page.getByTestId('clip-count').filter({ hasText: 'Clips 1–50 of 50.' }).waitFor({ timeout: 30_000 });
  const shown = await page.getByTestId('clip-row').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-youtube-id')));
  assert.deepEqual(shown.sort(), lines.slice(1).map((l) => l.split(',')[1]).sort());

  // Two classes side by side, from the confusions page.
  await page.goto(`${BASE_URL}/findings/confusions`);
  await page.getByTestId('compare-link').first().click();
  const columns = page.getByTestId('compare-column');
  await columns.nth(1).waitFor();
  assert.deepEqual(await columns.evaluateAll((cs) => cs.map((c) => c.getAttribute('data-class'))), ['long jump', 'triple jump']);
  await page.locator('.compare-clip').first().waitFor({ timeout: 30_000 });
  assert.ok(await columns.nth(0).getByTestId('thumbnail').count() > 0);
  await bothScreens(page, 'compare');
  assert.deepEqual(page.refused, []);
  assert.deepEqual(page.errors.filter((e) => !/ERR_FAILED/.test(e)), []);
});

test('thumbnails after coming in at the classifier: the explorer\'s page is loaded again, and the images show', async () => {
  // The classifier's pages are served with COEP require-corp, which blocks YouTube's images (they send no
  // Cross-Origin-Resource-Policy). Thumbnails on, then in at /classify and on to a class page by the app's links.
  const page = await localPage();
  await page.goto(`${BASE_URL}/classes`);
  await page.getByTestId('class-row').first().waitFor({ timeout: 30_000 });
  await page.evaluate(() => localStorage.clear());
  await page.goto(`${BASE_URL}/classes/abseiling?v=400&split=val`);
  await page.getByTestId('thumbnails-toggle').check();
  await page.getByTestId('thumbnail').first().waitFor();
  await page.goto(`${BASE_URL}/classify`);
  await page.getByRole('heading', { level: 1, name: 'Action classifier' }).waitFor();
  await page.getByRole('link', { name: 'Explorer' }).click();
  await page.getByTestId('class-row').first().waitFor({ timeout: 30_000 });
  await page.locator('[data-testid="class-row"] td.name a', { hasText: /^abseiling$/ }).click();
  await page.getByTestId('thumbnail').first().waitFor({ timeout: 30_000 });
  // The first images have loaded, from a document of the explorer's own policy.
  await page.waitForFunction(() => [...document.querySelectorAll('[data-testid="thumbnail"]')].slice(0, 4)
    .every((img) => img.complete && img.naturalWidth > 0), null, { timeout: 30_000 });
  assert.equal(new URL(page.url()).pathname, '/classes/abseiling');
  assert.equal(await page.evaluate(() => performance.getEntriesByType('navigation')[0].type), 'reload');
  assert.deepEqual(page.refused, []);
  assert.deepEqual(page.errors, []);
});

test('home leads educators to the classroom pages', async () => {
  const page = await localPage();
  await page.goto(`${BASE_URL}/`);
  const path = page.getByTestId('teach-path');
  await path.waitFor();
  for (const [id, heading] of [['teach-findings', 'What the papers found'], ['teach-verify', 'Verify like an annotator'], ['teach-quiz', 'Which action is this?'], ['teach-compare', 'Compare two classes']]) {
    await page.goto(`${BASE_URL}/`);
    await page.getByTestId(id).click();
    await page.getByRole('heading', { level: 1, name: heading }).waitFor();
  }
  await page.goto(`${BASE_URL}/teach`);
  await bothScreens(page, 'teach');
  assert.deepEqual(page.errors, []);
});
