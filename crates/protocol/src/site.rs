//! The site contract: every value that the Rust code (the app, the classifier worker, the build and the server in
//! `xtask`) and the site's JavaScript (`www/`, the browser tests and benchmarks) must agree on, defined once.
//!
//! Rust reads these constants. JavaScript never restates them: the build (`crates/site`) writes them, as one JSON
//! object, over the `__KINETISCOPE_CONTRACT__` placeholder of each script it ships (`www/sw.js`,
//! `www/worker-mt/*.js`), and into `target/site/contract.json` (with a sample of every message of the protocol) for
//! the test and benchmark helpers (`tests/support/`). A JavaScript file that restates one of them fails
//! `cargo xtask test` (the `contract` lint of `xtask`).

/// The name of the Cache API cache that holds the model weights. Versioned by the weights format, not by the
/// app build, so that app updates (and the service worker's clean-up of old app caches) keep the weights.
pub const MODEL_CACHE: &str = "kinetiscope-model-v1";

/// The prefix of the service worker's app caches; the build's version follows it (`kinetiscope-app-<hash>`).
pub const APP_CACHE_PREFIX: &str = "kinetiscope-app-";

/// The service worker's script, registered by the app (absolute: the page may be at any route).
pub const SERVICE_WORKER: &str = "/sw.js";

/// What the app posts to a waiting service worker to make it take over (the visitor accepted the update).
pub const SW_SKIP_WAITING: &str = "skip-waiting";

/// What a page posts to the service worker to learn its version; it answers `{ <SW_VERSION>: "<hash>" }`.
pub const SW_VERSION: &str = "version";

/// The key of the service worker's message to its pages when it could not precache the app
/// (`{ <SW_PRECACHE_FAILED>: "<reason>" }`): the app is then not available offline, and says so.
pub const SW_PRECACHE_FAILED: &str = "precacheFailed";

/// The weights manifest, put into the site by the build (absolute, like the worker scripts).
pub const MODEL_MANIFEST: &str = "/model/i3d-kinetics-400.json";

/// The single-threaded classifier worker's loader, where trunk writes it (`data-loader-shim` in `index.html`).
pub const SINGLE_THREADED_WORKER: &str = "/worker_loader.js";

/// The folder of the threaded build of the classifier worker (`+atomics`, shared memory), from the site's root.
pub const THREADED_DIR: &str = "worker-mt";

/// The threaded build's loader (`www/worker-mt/loader.js`), the script the page starts.
pub const THREADED_WORKER: &str = "/worker-mt/loader.js";

/// The folder of the relaxed-SIMD flavour of the threaded build: the same worker compiled with `+relaxed-simd`
/// (fused multiply-add in its GEMM kernel), for browsers that validate relaxed SIMD; same files as [`THREADED_DIR`].
pub const RELAXED_DIR: &str = "worker-mt-relaxed";

/// The relaxed-SIMD flavour's loader (a copy of `www/worker-mt/loader.js`), the script the page starts.
pub const RELAXED_WORKER: &str = "/worker-mt-relaxed/loader.js";

/// The script of each of the threaded build's pool threads (`www/worker-mt/thread.js`), next to the loader.
pub const THREAD_SCRIPT: &str = "thread.js";

/// wasm-bindgen's glue of the threaded build (`no-modules`), next to the loader.
pub const THREADED_GLUE: &str = "worker.js";

/// The threaded build's WebAssembly module, next to the loader.
pub const THREADED_WASM: &str = "worker_bg.wasm";

/// The threaded build's export that a pool thread calls to run its rayon thread (`threads.rs`).
pub const THREAD_ENTRY: &str = "kinetiscope_thread_run";

/// The key of the page's messages to the worker that holds the protocol's message (`{ message, frames }`: see the
/// crate's docs).
pub const ENVELOPE_MESSAGE: &str = "message";

/// The key of the page's messages to the worker that holds the frames' buffers, transferred beside the message.
pub const ENVELOPE_FRAMES: &str = "frames";

/// Frames of the warm-up clip that the worker runs before it says it is ready; its time predicts a window's
/// (`ModelReady::warmup_ms` is measured on this many frames).
pub const WARMUP_FRAMES: usize = 16;

/// The `Content-Security-Policy` header of every response: no page, ours included, may show the site in a frame
/// (clickjacking). Only a header can say so: browsers ignore `frame-ancestors` in the `<meta>` policy
/// ([`CONTENT_SECURITY_POLICY`]) that the build writes into `index.html`. The app frames none of its own pages (its
/// only frames are YouTube's embeds, frames *of* YouTube). Browsers enforce it together with the meta policy.
pub const FRAME_ANCESTORS: &str = "frame-ancestors 'none'";

/// The `X-Frame-Options` header of every response: [`FRAME_ANCESTORS`] for browsers that predate it.
pub const X_FRAME_OPTIONS: &str = "DENY";

/// `Cross-Origin-Embedder-Policy: credentialless`: isolates a page in Chromium and Firefox while letting it show
/// YouTube's thumbnails and embeds, which send no `Cross-Origin-Resource-Policy`. WebKit (Safari) does not know
/// the value and leaves such a page unisolated.
pub const COEP_CREDENTIALLESS: &str = "credentialless";

/// `Cross-Origin-Embedder-Policy: require-corp`: isolates a page in every engine, WebKit included, but blocks
/// cross-origin images and frames that do not opt in. The pages that run the classifier ([`ROUTES`]) are served
/// with it, so that Safari can have threads there; their YouTube players are `credentialless` frames where the
/// browser has them, links elsewhere. Every file that is not a page is served with it too: a worker's script sets
/// the worker's own policy, and WebKit refuses a worker less strict than the page that starts it.
pub const COEP_REQUIRE_CORP: &str = "require-corp";

/// The app's routes (every one is answered with `index.html`; the router in `crates/app/src/lib.rs` has exactly
/// these, a test in `crates/site` checks it) with the `Cross-Origin-Embedder-Policy` each page is served with.
/// `*` stands for one path segment (a class's label, a group's name, a finding's topic).
pub const ROUTES: [(&str, &str); 15] = [
    ("/", COEP_CREDENTIALLESS),
    ("/classes", COEP_CREDENTIALLESS),
    ("/classes/*", COEP_CREDENTIALLESS),
    ("/groups", COEP_CREDENTIALLESS),
    ("/groups/*", COEP_CREDENTIALLESS),
    ("/stats", COEP_CREDENTIALLESS),
    ("/compare", COEP_CREDENTIALLESS),
    ("/teach", COEP_CREDENTIALLESS),
    ("/findings", COEP_CREDENTIALLESS),
    ("/findings/*", COEP_CREDENTIALLESS),
    ("/verify", COEP_REQUIRE_CORP),
    ("/quiz", COEP_REQUIRE_CORP),
    ("/classify", COEP_REQUIRE_CORP),
    ("/inside", COEP_REQUIRE_CORP),
    ("/train", COEP_REQUIRE_CORP),
];

/// The `Cross-Origin-Embedder-Policy` of a response for `path` (without query): a route's own ([`ROUTES`]; a
/// trailing `/` is ignored, as static hosts serve `/classify/` for `/classify`), [`COEP_CREDENTIALLESS`] for any
/// other page (the app's "not found"), [`COEP_REQUIRE_CORP`] for files (a dot in the last segment).
pub fn embedder_policy(path: &str) -> &'static str {
    let path = match path.strip_suffix('/') {
        Some(trimmed) if !trimmed.is_empty() => trimmed,
        _ => path,
    };
    if let Some(&(_, policy)) = ROUTES
        .iter()
        .find(|(pattern, _)| route_matches(pattern, path))
    {
        return policy;
    }
    if path.rsplit('/').next().unwrap_or_default().contains('.') {
        COEP_REQUIRE_CORP
    } else {
        COEP_CREDENTIALLESS
    }
}

/// Whether `path` is the route `pattern` (`*`: any one non-empty segment).
pub fn route_matches(pattern: &str, path: &str) -> bool {
    let (mut pattern, mut path) = (pattern.split('/'), path.split('/'));
    loop {
        match (pattern.next(), path.next()) {
            (None, None) => return true,
            (Some("*"), Some(segment)) if !segment.is_empty() => {}
            (Some(expected), Some(segment)) if expected == segment => {}
            _ => return false,
        }
    }
}

/// The page of a route whose policy is [`COEP_REQUIRE_CORP`]: the pages that run the classifier.
pub fn runs_the_classifier(path: &str) -> bool {
    embedder_policy(path) == COEP_REQUIRE_CORP
        && !path.rsplit('/').next().unwrap_or_default().contains('.')
}

/// The `Cross-Origin-Opener-Policy` of every response; with a `Cross-Origin-Embedder-Policy` it makes a page
/// cross-origin isolated, so that WebAssembly threads and precise timers are available.
pub const OPENER_POLICY: (&str, &str) = ("cross-origin-opener-policy", "same-origin");

/// The name of the header whose value [`embedder_policy`] gives.
pub const EMBEDDER_POLICY: &str = "cross-origin-embedder-policy";

/// What a host must send for a classifier page to be isolated, as its configuration names it, for a visitor told
/// why a page is not isolated (the test below keeps it the same as [`OPENER_POLICY`] and [`ROUTES`]).
pub const ISOLATION_ADVICE: &str =
    "Cross-Origin-Opener-Policy: same-origin and Cross-Origin-Embedder-Policy: require-corp";

/// The headers (lowercase names) that a host of the site sends with every response, whatever its status, beside
/// the [`EMBEDDER_POLICY`] of [`embedder_policy`]: [`OPENER_POLICY`], no framing, and revalidation of every file
/// (names without a hash change content).
pub const SITE_HEADERS: [(&str, &str); 4] = [
    OPENER_POLICY,
    ("content-security-policy", FRAME_ANCESTORS),
    ("x-frame-options", X_FRAME_OPTIONS),
    ("cache-control", "no-cache"),
];

/// The site's Content-Security-Policy, put into `index.html` as a meta tag (so that it holds on any static host)
/// with `{inline}` replaced by the hashes of the inline scripts trunk wrote: its own scripts and WebAssembly
/// only; styles of its own (and `style` attributes, which the charts use); images and media of its own or the
/// visitor's (blob:), YouTube's thumbnails; YouTube's privacy embed as the only frame; data fetched from itself or
/// any https URL the visitor gives; no plugins, no base or form targets elsewhere. The workers (not covered by a
/// document's meta policy) load only same-origin scripts.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self' 'wasm-unsafe-eval' {inline}; \
    style-src 'self' 'unsafe-inline'; img-src 'self' data: blob: https://i.ytimg.com; media-src 'self' blob:; \
    connect-src 'self' https:; frame-src https://www.youtube-nocookie.com; worker-src 'self' blob:; \
    object-src 'none'; base-uri 'self'; form-action 'self'";

/// The placeholder that the build replaces, in each script it ships from `www/`, with the contract as a JSON
/// object. A script served without the build (e.g. by `trunk serve` alone) is then a syntax error rather than a
/// script running on values of its own.
pub const PLACEHOLDER: &str = "__KINETISCOPE_CONTRACT__";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_threaded_worker_is_in_its_folder() {
        assert_eq!(THREADED_WORKER, format!("/{THREADED_DIR}/loader.js"));
        assert_eq!(RELAXED_WORKER, format!("/{RELAXED_DIR}/loader.js"));
        assert_eq!(SITE_HEADERS[0], OPENER_POLICY);
        assert!(CONTENT_SECURITY_POLICY.contains("{inline}"));
    }

    #[test]
    fn the_advice_names_the_classifier_pages_headers() {
        let said = format!(
            "{}: {} and {EMBEDDER_POLICY}: {}",
            OPENER_POLICY.0,
            OPENER_POLICY.1,
            embedder_policy("/classify")
        );
        assert_eq!(ISOLATION_ADVICE.to_lowercase(), said);
    }

    #[test]
    fn each_response_gets_its_embedder_policy() {
        for (path, policy) in [
            ("/", COEP_CREDENTIALLESS),
            ("/classes", COEP_CREDENTIALLESS),
            ("/classes/", COEP_CREDENTIALLESS),
            ("/classes/playing%20cricket", COEP_CREDENTIALLESS),
            ("/findings/transfer", COEP_CREDENTIALLESS),
            ("/no/such/page", COEP_CREDENTIALLESS),
            ("/classify", COEP_REQUIRE_CORP),
            ("/classify/", COEP_REQUIRE_CORP),
            ("/inside", COEP_REQUIRE_CORP),
            ("/train", COEP_REQUIRE_CORP),
            ("/quiz", COEP_REQUIRE_CORP),
            ("/verify", COEP_REQUIRE_CORP),
            ("/classify/extra", COEP_CREDENTIALLESS),
            ("/worker-mt/loader.js", COEP_REQUIRE_CORP),
            ("/worker_loader.js", COEP_REQUIRE_CORP),
            ("/index.html", COEP_REQUIRE_CORP),
        ] {
            assert_eq!(embedder_policy(path), policy, "{path}");
        }
        assert!(runs_the_classifier("/classify") && runs_the_classifier("/train/"));
        assert!(!runs_the_classifier("/classes") && !runs_the_classifier("/worker_loader.js"));
        assert!(!route_matches("/classes/*", "/classes/"));
    }
}
