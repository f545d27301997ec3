// The site contract (crates/protocol/src/site.rs) with a sample of every message of the protocol, as the site build
// wrote it for the tests (crates/site/src/contract.rs): every URL, cache name, header and message shape that the
// browser tests and benchmarks use comes from here. Restating one of them in a harness fails `cargo xtask test`
// (the contract lint, xtask/src/contract_lint.rs).
import fs from 'node:fs';
import path from 'node:path';

const FILE = process.env.KINETISCOPE_CONTRACT ?? path.resolve(import.meta.dirname, '../../target/site/contract.json');
if (!fs.existsSync(FILE)) {
  throw new Error(`${FILE} is missing: the site build writes it (run the tests through \`cargo xtask test\`, or build the site once with \`cargo xtask serve\`)`);
}

/** The contract, as JSON (keys as in `site::contract::values`, plus `messages` and `choices`). */
export const contract = JSON.parse(fs.readFileSync(FILE, 'utf8'));

/**
 * A URL path of the site, absolute, from one of the contract's paths relative to a threaded worker's folder (the
 * plain threaded build's, or with `dir = contract.relaxedDir` its relaxed-SIMD flavour's).
 */
export const threaded = (file, dir = contract.threadedDir) => `/${dir}/${file}`;

/**
 * The classifier worker's scripts, every build: the threaded one and its relaxed-SIMD flavour (cross-origin isolated
 * pages; the flavour where the browser has relaxed SIMD) and the single-threaded one.
 */
export const WORKER_SCRIPTS = [contract.threadedWorker, contract.relaxedWorker, contract.singleThreadedWorker];

/** Whether a worker's URL is one of the classifier's builds (not a pool thread, not the service worker). */
export const isClassifierWorker = (url) => WORKER_SCRIPTS.includes(new URL(url).pathname);
