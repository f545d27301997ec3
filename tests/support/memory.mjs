// The resident memory of a Chromium's renderer processes, sampled from Linux's /proc (the bench's app part reads
// it while the sample clip is analysed: the page, its workers and their WebAssembly memories live there).
//
// A renderer is a process whose command line has `--type=renderer` and that descends from the browser (through
// its zygote): from the browser's own process when `browserPid` finds it, else from this Node process (which
// launched it: then only one browser should be open). Each process's RSS is VmRSS from /proc/PID/status, so
// pages shared between renderers count once per process: the sum is an upper bound. Sizes are in MB of 2^20 bytes
// (MiB, as `kinetiscope bench`'s `peak_rss_mb`). Off Linux (no /proc) every total is null.
import fs from 'node:fs';

/** Parent pid of every process in /proc (pid → ppid). */
function parents() {
  const map = new Map();
  let entries = [];
  try { entries = fs.readdirSync('/proc'); } catch { return map; }
  for (const name of entries) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${name}/stat`, 'utf8');
      // `pid (comm) state ppid …`; comm may hold spaces and parentheses, so read after the last ')'.
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      map.set(Number(name), ppid);
    } catch { /* the process ended meanwhile */ }
  }
  return map;
}

/** The pids that descend from `root` (not `root` itself). */
function descendants(root, parentOf) {
  const children = new Map();
  for (const [pid, ppid] of parentOf) {
    if (!children.has(ppid)) children.set(ppid, []);
    children.get(ppid).push(pid);
  }
  const out = [];
  const queue = [...(children.get(root) ?? [])];
  while (queue.length) {
    const pid = queue.pop();
    out.push(pid);
    queue.push(...(children.get(pid) ?? []));
  }
  return out;
}

/** Whether `pid`'s command line has `--type=renderer` (a zygote's children rewrite theirs as one string). */
const isRenderer = (pid) => {
  try {
    return /(^|[\s\0])--type=renderer([\s\0]|$)/.test(fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8'));
  } catch { return false; }
};

/** VmRSS of `pid` in bytes, or null when it is gone. */
function rssBytes(pid) {
  try {
    const kb = /^VmRSS:\s+(\d+) kB/m.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
    return kb ? Number(kb[1]) * 1024 : null;
  } catch { return null; }
}

/**
 * The main process of a browser that playwright-core launched (the DevTools protocol's `SystemInfo.getProcessInfo`
 * names it), or null when the protocol does not say.
 */
export async function browserPid(browser) {
  try {
    const session = await browser.newBrowserCDPSession();
    const { processInfo } = await session.send('SystemInfo.getProcessInfo');
    await session.detach();
    return processInfo.find((p) => p.type === 'browser')?.id ?? null;
  } catch { return null; }
}

/**
 * The renderer processes descending from `root` (default: this Node process) and the sum of their RSS now:
 * `{ mb, processes }`, `mb` null off Linux.
 */
export function rendererMemory(root = process.pid) {
  if (!fs.existsSync('/proc/self/status')) return { mb: null, processes: 0 };
  let bytes = 0;
  let processes = 0;
  for (const pid of descendants(root, parents())) {
    if (!isRenderer(pid)) continue;
    const rss = rssBytes(pid);
    if (rss === null) continue;
    bytes += rss;
    processes += 1;
  }
  return { mb: bytes / 2 ** 20, processes };
}

/**
 * Samples the renderers' total RSS every `intervalMs` ms until `stop()`. `sampler.now()` reads it at once (and
 * records it), `sampler.mark()` starts a window, `sampler.peak(mark)` is the largest total since that window
 * began (a fresh read included), in MB; null off Linux.
 */
export function sampleRenderers(root = process.pid, intervalMs = 100) {
  const samples = []; // { t: ms since start, mb }
  const start = performance.now();
  const take = () => {
    const { mb } = rendererMemory(root);
    if (mb !== null) samples.push({ t: performance.now() - start, mb });
    return mb;
  };
  take();
  const timer = setInterval(take, intervalMs);
  return {
    samples,
    now: take,
    mark: () => performance.now() - start,
    peak(since = 0) {
      take();
      const inWindow = samples.filter((s) => s.t >= since).map((s) => s.mb);
      return inWindow.length ? Math.max(...inWindow) : null;
    },
    stop() { clearInterval(timer); return samples; },
  };
}
