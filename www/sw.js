// Kinetiscope's service worker: the app works offline once visited.
//
// The build (crates/site, run by `cargo xtask`) fills the placeholders below: the site contract (cache names and
// messages shared with the app, crates/protocol/src/site.rs), the version (a hash of every file of the build) and
// the list of files to precache. So any change to the build changes this file, the browser installs the new
// worker, and the page offers to reload. Served without that build, this file is a syntax error, not a worker
// running on values of its own.
//
// - App shell, data, icons, sample clip: precached in the app cache (its prefix and the version).
// - Hashed files (`app-<hash>.js`, …): cache first; a name never changes content.
// - Everything else, navigations included: network first, the cache when offline or when the server answers
//   with an error. Unhashed files (the worker's
//   `worker.js`, the data assets) must come from the same build as the page that loads them, and the network has
//   the newest build. Navigations fall back to the cached index.html (every route is the same single-page app).
// - Model weights: in the model cache, written by the classifier's worker; never touched by updates.
// - Old app caches are deleted when a new version activates, which waits for the visitor's "reload".
// - Every response it gives carries the site's headers (COOP, the path's COEP, no framing) whatever the host sent:
//   on a host that sends none (GitHub Pages, a school's plain server), the visit after the first is cross-origin
//   isolated, and the classifier gets its threads (the pattern of coi-serviceworker).
const CONTRACT = __KINETISCOPE_CONTRACT__;
const VERSION = '__KINETISCOPE_VERSION__';
const PRECACHE = __KINETISCOPE_PRECACHE__;
const APP_CACHE = `${CONTRACT.appCachePrefix}${VERSION}`;
const MODEL_CACHE = CONTRACT.modelCache;

self.addEventListener('install', (event) => {
  // `cache: 'reload'`: straight from the server, never an older copy from the HTTP cache. A failure (storage
  // quota, a file missing) is told to the open pages, which say the app is not available offline, and the
  // install fails: the next visit tries again.
  event.waitUntil((async () => {
    try {
      const cache = await caches.open(APP_CACHE);
      await cache.addAll(PRECACHE.map((url) => new Request(url, { cache: 'reload' })));
    } catch (error) {
      await caches.delete(APP_CACHE);
      const reason = `${error?.name ?? 'Error'}: ${error?.message ?? error}`;
      for (const client of await self.clients.matchAll({ includeUncontrolled: true, type: 'window' })) {
        client.postMessage({ [CONTRACT.swPrecacheFailed]: reason });
      }
      throw error;
    }
  })());
});

self.addEventListener('activate', (event) => {
  event.waitUntil((async () => {
    for (const name of await caches.keys()) {
      if (name.startsWith(CONTRACT.appCachePrefix) && name !== APP_CACHE) await caches.delete(name);
    }
    await self.clients.claim();
  })());
});

self.addEventListener('message', (event) => {
  if (event.data === CONTRACT.swSkipWaiting) self.skipWaiting();
  if (event.data === CONTRACT.swVersion) event.source?.postMessage({ [CONTRACT.swVersion]: VERSION });
});

// A navigation: the network's page, or the cached app when the network fails or the server errs (5xx).
async function navigation(request) {
  let response;
  try {
    response = await fetch(request);
    if (response.status < 500) return response;
  } catch (offline) {
    response = undefined;
  }
  const cache = await caches.open(APP_CACHE);
  return (await cache.match('/index.html')) ?? response ?? Response.error();
}

// Media elements seek with Range requests; a cached response is whole, so slice it (without this, seeking in the
// cached sample clip shows the wrong frames).
// Every single-range form: `bytes=START-`, `bytes=START-END` and the suffix `bytes=-LENGTH`; a multi-range
// request gets the whole file (a server may always answer a Range request so).
async function ranged(request, response) {
  const range = /^bytes=(\d*)-(\d*)$/.exec(request.headers.get('range') ?? '');
  if (!range || (range[1] === '' && range[2] === '')) return response;
  const body = await response.arrayBuffer();
  const size = body.byteLength;
  let start;
  let end;
  if (range[1] === '') {
    start = Math.max(size - Number(range[2]), 0);
    end = Number(range[2]) === 0 ? -1 : size - 1;
  } else {
    start = Number(range[1]);
    end = range[2] ? Math.min(Number(range[2]), size - 1) : size - 1;
  }
  if (start >= size || end < start) {
    return new Response(null, { status: 416, headers: { 'content-range': `bytes */${size}` } });
  }
  return new Response(body.slice(start, end + 1), {
    status: 206,
    headers: {
      'content-type': response.headers.get('content-type') ?? 'application/octet-stream',
      'content-range': `bytes ${start}-${end}/${size}`,
      'content-length': String(end - start + 1),
      'accept-ranges': 'bytes',
    },
  });
}

/** The cache a URL belongs to: the weights have their own, which app updates keep. */
function cacheFor(url) {
  return url.pathname.startsWith('/model/') && url.pathname.endsWith('.safetensors') ? MODEL_CACHE : APP_CACHE;
}

async function cached(request) {
  const cache = await caches.open(cacheFor(new URL(request.url)));
  const hit = await cache.match(request, { ignoreSearch: true });
  return hit ? ranged(request, hit) : undefined;
}

async function cacheFirst(request) {
  return (await cached(request)) ?? fetch(request);
}

// The network's answer, or the cached copy when the network fails or the server answers with an error (a 5xx
// while it is down, a 4xx from a broken deployment): the visitor keeps a working app either way.
async function networkFirst(request) {
  let response;
  try {
    response = await fetch(request);
  } catch (offline) {
    return (await cached(request)) ?? Response.error();
  }
  if (response.status < 400) return response;
  return (await cached(request)) ?? response;
}

/**
 * The `Cross-Origin-Embedder-Policy` of a path: protocol::site::embedder_policy, on the routes the contract gives.
 * A route's own (a trailing `/` ignored), credentialless for any other page, require-corp for files.
 */
function embedderPolicy(pathname) {
  const path = pathname.length > 1 && pathname.endsWith('/') ? pathname.slice(0, -1) : pathname;
  const segments = path.split('/');
  for (const [pattern, policy] of CONTRACT.routes) {
    const expected = pattern.split('/');
    if (expected.length === segments.length
        && expected.every((part, i) => (part === '*' ? segments[i] !== '' : part === segments[i]))) {
      return policy;
    }
  }
  return segments[segments.length - 1].includes('.') ? CONTRACT.coepRequireCorp : CONTRACT.coepCredentialless;
}

/**
 * `response` with the site's headers, as the site's own server sends them. Opaque answers (a redirect the browser
 * follows itself, a cross-origin file) and network errors pass as they are: their headers cannot be read or set.
 */
function withSiteHeaders(url, response) {
  if (response.type === 'opaqueredirect' || response.type === 'opaque' || response.type === 'error'
      || response.status === 0) {
    return response;
  }
  const headers = new Headers(response.headers);
  // The host's own values stay (a Content-Security-Policy of its own, say), but the isolation is ours.
  const [opener] = CONTRACT.isolationHeaderNames;
  for (const [name, value] of Object.entries(CONTRACT.siteHeaders)) {
    if (name === opener || !headers.has(name)) headers.set(name, value);
  }
  headers.set(CONTRACT.embedderPolicy, embedderPolicy(url.pathname));
  // Statuses that may not have a body (a Response built with one throws).
  const body = [101, 204, 205, 304].includes(response.status) ? null : response.body;
  return new Response(body, { status: response.status, statusText: response.statusText, headers });
}

/** trunk's content-hashed outputs: `name-0123456789abcdef.ext` or `name-0123456789abcdef_bg.wasm`. */
const HASHED = /-[0-9a-f]{16}(_bg)?\.[a-z]+$/;

self.addEventListener('fetch', (event) => {
  const request = event.request;
  if (request.method !== 'GET' || new URL(request.url).origin !== self.location.origin) return;
  const url = new URL(request.url);
  const answer = request.mode === 'navigate' ? navigation(request)
    : HASHED.test(url.pathname) || cacheFor(url) === MODEL_CACHE ? cacheFirst(request)
      : networkFirst(request);
  event.respondWith(answer.then((response) => withSiteHeaders(url, response)));
});
