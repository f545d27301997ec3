// The site's own server (`cargo xtask serve`, xtask/src/server.rs) over a folder of our choosing, with its fault
// switch (xtask/src/server/faults.rs): what the offline tests need to stop the host, make it fail, and count the
// weights it served, without a second server that could answer otherwise than the real one.
import { spawn } from 'node:child_process';
import path from 'node:path';
import readline from 'node:readline';

/** The xtask binary `cargo xtask test` runs (it says where); by hand, cargo runs it. */
function command() {
  const args = ['serve', '--no-build', '--port', '0', '--faults', '--dist'];
  if (process.env.KINETISCOPE_XTASK) return [process.env.KINETISCOPE_XTASK, args];
  return ['cargo', ['run', '--quiet', '--manifest-path', path.resolve(import.meta.dirname, '../../xtask/Cargo.toml'), '--', ...args]];
}

/**
 * Serves the built site in `root` on an ephemeral port: `{ url, mode(name), weights(), close() }`, where `mode` is
 * `'serve'`, `'fail'` (every request answered 503) or `'down'` (every connection cut), and `weights()` the number of
 * requests for weights that reached the server.
 */
export async function serve(root) {
  const [program, args] = command();
  // Its standard input stays open while this process lives: the server stops when it closes, so a test runner
  // that ends this process never leaves a server behind.
  const child = spawn(program, [...args, root], { stdio: ['pipe', 'pipe', 'inherit'] });
  const lines = readline.createInterface({ input: child.stdout });
  const urls = await new Promise((resolve, reject) => {
    const found = {};
    child.once('error', (error) => reject(new Error(`the site server did not start (${program}): ${error.message}`)));
    child.once('exit', (code, signal) => reject(new Error(`the site server stopped (${code ?? signal}) before serving`)));
    lines.on('line', (line) => {
      const site = /served at (http:\/\/\S+?)\/?$/.exec(line);
      const control = /faults are controlled at (http:\/\/\S+?)\/?$/.exec(line);
      if (site) found.site = site[1];
      if (control) found.control = control[1];
      if (found.site && found.control) resolve(found);
    });
  });
  const control = async (method, what) => {
    const response = await fetch(`${urls.control}/${what}`, { method });
    if (!response.ok) throw new Error(`fault switch ${what}: ${response.status}`);
    return response.text();
  };
  return {
    url: urls.site,
    mode: (name) => control('POST', name),
    weights: async () => Number(await control('GET', 'weights')),
    close: () => new Promise((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) return resolve();
      child.once('exit', () => resolve());
      child.kill('SIGINT');
    }),
  };
}
