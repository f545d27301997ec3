// One small interface over the three browser engines the site must work in, for tests/e2e/engines.test.mjs:
// Chromium (Debian's, driven by playwright-core as in tests/e2e/browser.mjs), Firefox (the Debian ESR, driven by
// playwright-core over WebDriver BiDi) and WebKit (WebKitGTK's MiniBrowser, driven over plain W3C WebDriver by
// WebKitWebDriver under Xvfb; WebKit has no npm driver here).
//
// `openEngine(name)` returns `{ name, goto, reload, evaluate, waitFor, text, click, select, setFiles, setViewport,
// screenshot, setOffline, takeErrors, close }` (see `Engine` below). Both engines send nothing beyond the site under
// test: other hosts go to a proxy that does not exist (the YouTube players of /verify never load), as in the
// Chromium tests, which abort such requests.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { firefox } from 'playwright-core';
import { BASE_URL, SCREENSHOT_DIR, launch as launchChromium } from '../e2e/browser.mjs';

export const FIREFOX = process.env.FIREFOX ?? '/usr/bin/firefox-esr';
export const WEBKIT_DRIVER = process.env.WEBKIT_DRIVER ?? '/usr/bin/WebKitWebDriver';
export const MINIBROWSER = process.env.MINIBROWSER ?? '/usr/lib/x86_64-linux-gnu/webkit2gtk-4.1/MiniBrowser';
export const XVFB_RUN = process.env.XVFB_RUN ?? '/usr/bin/xvfb-run';

/** The engines of this file, in the order the tests run them. */
export const ENGINES = ['chromium', 'firefox', 'webkit'];

/** The desktop window every session starts with (the Chromium tests' size). */
const DESKTOP = { width: 1280, height: 900 };
/** A port on which nothing listens: the proxy for every host but the site's. */
const NO_PROXY_PORT = 9;
const SITE_HOST = new URL(BASE_URL).hostname;

/** Fails (not skips) with what is missing: a test run without a browser must not pass. */
function needs(file, what) {
  if (!fs.existsSync(file)) throw new Error(`${what} is missing: ${file} (install it, or point the environment variable at it)`);
}

/** `fn` as an expression calling it with `args` (JSON values), for the page. */
function call(fn, args) {
  return `(${fn})(...${JSON.stringify(args)})`;
}

/**
 * The parts every engine shares, on top of its own `evaluate`: waiting for the page, reading a test id.
 */
function common(engine) {
  return Object.assign(engine, {
    /**
     * Polls `fn(...args)` in the page until it returns something truthy, and returns that. On timeout, fails with
     * `message` (a string, or a function, async or not, of the last value: it may read the page) and the last error
     * the page threw, if any.
     */
    async waitFor(fn, { args = [], timeout = 30_000, interval = 250, message = 'the page never got there' } = {}) {
      const end = Date.now() + timeout;
      let last;
      let error;
      for (;;) {
        try {
          last = await engine.evaluate(fn, ...args);
          error = undefined;
          if (last) return last;
        } catch (e) {
          // A page between two documents (a navigation) has no script context for a moment.
          error = e;
        }
        if (Date.now() > end) {
          const said = typeof message === 'function' ? await Promise.resolve().then(() => message(last)).catch((e) => `(${e.message})`) : message;
          throw new Error(`${engine.name}: ${said} (waited ${timeout / 1000} s${error ? `; last error: ${error.message}` : ''})`);
        }
        await new Promise((resolve) => setTimeout(resolve, interval));
      }
    },
    /** The text a user reads in `[data-testid=…]` (innerText), or null while there is none. */
    text(testid) {
      return engine.evaluate((id) => document.querySelector(`[data-testid="${id}"]`)?.innerText ?? null, testid);
    },
  });
}

// ---------------------------------------------------------------------------------------------------------------
// Firefox: playwright-core's WebDriver BiDi driver (channel `moz-firefox`), which needs no patched browser.

async function openFirefox() {
  needs(FIREFOX, 'Firefox');
  const browser = await firefox.launch({
    channel: 'moz-firefox',
    executablePath: FIREFOX,
    headless: true,
    firefoxUserPrefs: {
      // Every host but the site's goes to a proxy that is not there.
      'network.proxy.type': 1,
      'network.proxy.http': '127.0.0.1',
      'network.proxy.http_port': NO_PROXY_PORT,
      'network.proxy.ssl': '127.0.0.1',
      'network.proxy.ssl_port': NO_PROXY_PORT,
      'network.proxy.no_proxies_on': SITE_HOST,
      'network.proxy.allow_hijacking_localhost': false,
    },
  });
  return playwrightEngine('firefox', browser, await browser.newContext({ viewport: DESKTOP }));
}

// Chromium: as the other tests drive it; requests to other hosts are aborted (as the proxy does for Firefox).
async function openChromium() {
  const browser = await launchChromium();
  const context = await browser.newContext({ viewport: DESKTOP });
  const site = new URL(BASE_URL).origin;
  await context.route((url) => url.origin !== site, (route) => route.abort());
  return playwrightEngine('chromium', browser, context);
}

/** An engine driven by playwright-core: `browser`'s `context`, on one page. */
async function playwrightEngine(name, browser, context) {
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });

  return common({
    name,
    page,
    async goto(where) {
      await page.goto(`${BASE_URL}${where}`);
    },
    async reload() {
      await page.reload();
    },
    evaluate(fn, ...args) {
      return page.evaluate(call(fn, args));
    },
    async click(selector) {
      await page.locator(selector).first().click();
    },
    async select(selector, value) {
      await page.locator(selector).first().selectOption(value);
    },
    async setFiles(selector, file) {
      await page.locator(selector).first().setInputFiles(file);
    },
    async setViewport(width, height) {
      await page.setViewportSize({ width, height });
      return page.evaluate(() => ({ innerWidth, clientWidth: document.documentElement.clientWidth }));
    },
    async screenshot(shot) {
      fs.mkdirSync(SCREENSHOT_DIR, { recursive: true });
      const file = path.join(SCREENSHOT_DIR, `${name}-${shot}.png`);
      try {
        await page.screenshot({ path: file, fullPage: true });
      } catch (error) {
        // As in browser.mjs: a full-page capture on a busy 2-core machine may time out; the viewport then.
        if (error.name !== 'TimeoutError') throw error;
        console.log(`# ${name} screenshot ${shot}: the full-page capture timed out; retrying the viewport`);
        await page.screenshot({ path: file, timeout: 60_000 });
      }
      return file;
    },
    /** The browser's own offline switch (WebDriver BiDi emulation.setNetworkConditions). */
    async setOffline(offline) {
      await context.setOffline(offline);
    },
    /** Uncaught exceptions and console errors since the last call. */
    takeErrors() {
      return errors.splice(0);
    },
    async close() {
      await browser.close();
    },
  });
}

// ---------------------------------------------------------------------------------------------------------------
// WebKit: W3C WebDriver over fetch. WebKitWebDriver starts MiniBrowser (`--automation`) on an Xvfb display.

/** The key under which W3C WebDriver returns an element reference. */
const ELEMENT = 'element-6066-11e4-a52e-4f735466cecf';

function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/**
 * Errors seen from now on in this document: uncaught exceptions, unhandled rejections and console.error. WebKit's
 * WebDriver has no console or error events, so this is installed by script after each load: it does not see what
 * went wrong before it was installed (during the page's first script run).
 */
function installErrorCapture() {
  if (window.__errors) return;
  window.__errors = [];
  addEventListener('error', (e) => window.__errors.push(`${e.message} (${e.filename}:${e.lineno})`));
  addEventListener('unhandledrejection', (e) => window.__errors.push(`unhandled rejection: ${e.reason}`));
  const error = console.error.bind(console);
  console.error = (...args) => {
    window.__errors.push(args.map(String).join(' '));
    error(...args);
  };
}

async function openWebKit() {
  needs(XVFB_RUN, 'xvfb-run');
  needs(WEBKIT_DRIVER, 'WebKitWebDriver');
  needs(MINIBROWSER, 'MiniBrowser (WebKitGTK)');
  const port = await freePort();
  // Its own process group, so that close() (or this process ending) stops Xvfb too, not only the driver.
  const driver = spawn(XVFB_RUN, ['-a', '-s', `-screen 0 ${DESKTOP.width}x${DESKTOP.height}x24`, WEBKIT_DRIVER, `--port=${port}`], {
    detached: true,
    // WebKit's own sandbox stays on (it starts here, as root too); where it cannot, the environment may set
    // WEBKIT_DISABLE_SANDBOX_THIS_IS_DANGEROUS=1, which reaches MiniBrowser from here.
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  driver.stderr.on('data', (d) => { stderr = (stderr + d).slice(-4_000); });
  const killGroup = () => { try { process.kill(-driver.pid, 'SIGTERM'); } catch { /* gone already */ } };
  process.once('exit', killGroup);
  const url = `http://127.0.0.1:${port}`;

  async function send(method, where, body) {
    const response = await fetch(`${url}${where}`, {
      method,
      headers: { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const json = await response.json();
    if (!response.ok) {
      const { error, message } = json.value ?? {};
      throw new Error(`webkit: ${method} ${where}: ${error}: ${message}`);
    }
    return json.value;
  }

  let session;
  try {
    const end = Date.now() + 30_000;
    for (;;) {
      if (driver.exitCode !== null) throw new Error(`WebKitWebDriver exited (${driver.exitCode}): ${stderr}`);
      const ready = await send('GET', '/status').then((s) => s.ready, () => false);
      if (ready) break;
      if (Date.now() > end) throw new Error(`WebKitWebDriver did not answer on port ${port} within 30 s: ${stderr}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const created = await send('POST', '/session', {
      capabilities: {
        alwaysMatch: {
          // A non-empty `args` replaces the driver's default, which is `--automation`. Full screen hides
          // MiniBrowser's toolbar: the viewport is then the whole window, and the window can be as narrow as a
          // phone (with the toolbar it stops at 447 px).
          'webkitgtk:browserOptions': { binary: MINIBROWSER, args: ['--automation', '--full-screen'] },
          timeouts: { script: 120_000, pageLoad: 120_000, implicit: 0 },
          proxy: {
            proxyType: 'manual',
            httpProxy: `127.0.0.1:${NO_PROXY_PORT}`,
            sslProxy: `127.0.0.1:${NO_PROXY_PORT}`,
            noProxy: [SITE_HOST],
          },
        },
      },
    });
    session = `/session/${created.sessionId}`;
  } catch (error) {
    killGroup();
    throw error;
  }
  await send('POST', `${session}/window/rect`, DESKTOP);

  const engine = common({
    name: 'webkit',
    // Errors read from documents already left.
    errors: [],
    async goto(where) {
      await engine.collectErrors();
      await send('POST', `${session}/url`, { url: `${BASE_URL}${where}` });
      await engine.evaluate(installErrorCapture);
    },
    async reload() {
      await engine.collectErrors();
      await send('POST', `${session}/refresh`, {});
      await engine.evaluate(installErrorCapture);
    },
    /** `fn(...args)` in the page, awaited when it returns a promise; a throw comes back as an Error here. */
    async evaluate(fn, ...args) {
      const script = `const done = arguments[arguments.length - 1];
        Promise.resolve().then(() => ${call(fn, args)}).then(
          (value) => done({ value: value === undefined ? null : value }),
          (error) => done({ error: String(error?.stack ?? error) }));`;
      const result = await send('POST', `${session}/execute/async`, { script, args: [] });
      if (result?.error !== undefined) throw new Error(`webkit: the page threw: ${result.error}`);
      return result?.value;
    },
    /** The first element `selector` matches, waited for up to `timeout` ms (as Playwright's actions wait). */
    async find(selector, timeout = 10_000) {
      const end = Date.now() + timeout;
      for (;;) {
        try {
          const found = await send('POST', `${session}/element`, { using: 'css selector', value: selector });
          return found[ELEMENT];
        } catch (error) {
          if (!/no such element/.test(error.message) || Date.now() > end) throw error;
        }
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    },
    /** A real click: the driver scrolls the element into view and clicks its centre (it must be visible). */
    async click(selector) {
      await send('POST', `${session}/element/${await engine.find(selector)}/click`, {});
    },
    /** WebDriver has no "select an option": the value is set and `change` fired, as a user's pick does. */
    async select(selector, value) {
      await engine.evaluate((s, v) => {
        const el = document.querySelector(s);
        el.value = v;
        el.dispatchEvent(new Event('input', { bubbles: true }));
        el.dispatchEvent(new Event('change', { bubbles: true }));
      }, selector, value);
    },
    /** A file input picks `file` (absolute path): WebDriver's "send keys" to a file input. */
    async setFiles(selector, file) {
      await send('POST', `${session}/element/${await engine.find(selector)}/value`, { text: path.resolve(file) });
    },
    /**
     * A viewport of `width` × `height` CSS pixels: the window's size (MiniBrowser runs without its toolbar, see
     * above). Returns what the page then measures, `{ innerWidth, clientWidth }`.
     */
    async setViewport(width, height) {
      await send('POST', `${session}/window/rect`, { width, height });
      return engine.evaluate(() => ({ innerWidth, clientWidth: document.documentElement.clientWidth }));
    },
    /** The viewport as the user sees it (WebDriver screenshots are of the viewport, not the full page). */
    async screenshot(name) {
      fs.mkdirSync(SCREENSHOT_DIR, { recursive: true });
      const file = path.join(SCREENSHOT_DIR, `webkit-${name}.png`);
      fs.writeFileSync(file, Buffer.from(await send('GET', `${session}/screenshot`), 'base64'));
      return file;
    },
    /** W3C WebDriver has no network switch. */
    async setOffline() {
      throw new Error('webkit: W3C WebDriver cannot take the browser offline');
    },
    async collectErrors() {
      const seen = await engine.evaluate(() => window.__errors?.splice(0) ?? []).catch(() => []);
      engine.errors.push(...seen);
    },
    /** Errors (see `installErrorCapture`) since the last call, this document's and those of documents left. */
    async takeErrors() {
      await engine.collectErrors();
      return engine.errors.splice(0);
    },
    async close() {
      try {
        await send('DELETE', session);
      } finally {
        killGroup();
        process.removeListener('exit', killGroup);
      }
    },
  });
  return engine;
}

/**
 * @typedef {object} Engine
 * @property {'chromium'|'firefox'|'webkit'} name
 * @property {(where: string) => Promise<void>} goto  loads BASE_URL + `where` and waits for its load event
 * @property {() => Promise<void>} reload
 * @property {(fn: Function, ...args: any[]) => Promise<any>} evaluate  `fn(...args)` in the page (JSON in and out)
 * @property {(fn: Function, options?: object) => Promise<any>} waitFor  polls `fn` until it is truthy
 * @property {(testid: string) => Promise<string|null>} text
 * @property {(selector: string) => Promise<void>} click
 * @property {(selector: string, value: string) => Promise<void>} select
 * @property {(selector: string, file: string) => Promise<void>} setFiles
 * @property {(width: number, height: number) => Promise<any>} setViewport
 * @property {(name: string) => Promise<string>} screenshot  SCREENSHOT_DIR/ENGINE-NAME.png
 * @property {(offline: boolean) => Promise<void>} setOffline  Chromium and Firefox
 * @property {() => (string[]|Promise<string[]>)} takeErrors
 * @property {() => Promise<void>} close
 */

/** Starts `name` (one of ENGINES) with a page of its own at 1280 × 900. @returns {Promise<Engine>} */
export async function openEngine(name) {
  if (name === 'chromium') return openChromium();
  if (name === 'firefox') return openFirefox();
  if (name === 'webkit') return openWebKit();
  throw new Error(`no engine called ${name}: ${ENGINES.join(', ')}`);
}
