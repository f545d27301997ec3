//! Entry point of the Kinetiscope web app.

/// No panic hook: the site's build aborts on a panic at once, without running one (`Toolchain::site_env` in
/// xtask says why).
#[cfg(target_arch = "wasm32")]
fn main() {
    leptos::mount::mount_to_body(app::App);
}

/// The app runs only in a browser. Natively this binary exists because cargo builds a package's binaries for its
/// integration tests; mounting the app here would compile all of Leptos's views for the host (about 95 s of
/// the native test build on 2 cores) for a program nobody runs.
#[cfg(not(target_arch = "wasm32"))]
fn main() {
    eprintln!("the Kinetiscope app runs in a browser: `cargo xtask serve` builds and serves it");
}
