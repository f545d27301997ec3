//! A static server for the built site on 127.0.0.1 (axum + tower-http's `ServeDir`).
//!
//! A file of the site is served when it exists. When it does not, the request is one of the app's client-side
//! routes (answered with `index.html`, so that deep links, reloads and bookmarks load the app) if it is a browser
//! navigation ([`is_navigation`]: `/classes/v1.2` too, whose last segment has a dot) or if its last segment has
//! no extension (`/classes/abseiling`, [`is_route`]); anything else (a script, wasm or data file fetched by code:
//! `/data/k400.bin`, `/worker-mt/worker_bg.wasm`) is a 404, so that it is reported as missing rather than as an
//! HTML page of the wrong type.
//!
//! Every response carries the site contract's [`SITE_HEADERS`] and the `Cross-Origin-Embedder-Policy` of its path
//! ([`embedder_policy`]): the page is cross-origin isolated (COOP/COEP) so that WASM threads and precise timers are
//! available (the classifier's pages with `require-corp`, which WebKit knows too), and no other site may frame it.
//!
//! With [`Faults`] (`cargo xtask serve --faults`, for the offline tests of `tests/e2e/pwa.test.mjs`), a second
//! port controls what the site's port does: serve, answer every request with 503, or cut every connection.

mod faults;

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;

use anyhow::{Context, Result};
use axum::http::{header::HeaderName, HeaderMap, HeaderValue};
use axum::Router;
use tower_http::cors::CorsLayer;
use tower_http::services::{ServeDir, ServeFile};
use tower_http::set_header::SetResponseHeaderLayer;

pub use faults::Faults;
use protocol::site::{embedder_policy, EMBEDDER_POLICY, SITE_HEADERS};

/// Whether a path the site does not have is one of the app's routes (no extension in its last segment).
fn is_route(path: &str) -> bool {
    !path.rsplit('/').next().unwrap_or_default().contains('.')
}

/// Whether a request is a browser navigation (a link followed, a reload, a bookmark, an address typed), which
/// only a page can answer, rather than a script, stylesheet, wasm or data file loaded by one. Browsers say so in
/// their fetch metadata (`Sec-Fetch-Mode: navigate`, `Sec-Fetch-Dest: document`), trusted when present; clients
/// without it (older browsers, curl) by accepting `text/html`.
fn is_navigation(headers: &HeaderMap) -> bool {
    let values = |name: &'static str| {
        headers
            .get_all(HeaderName::from_static(name))
            .iter()
            .filter_map(|value| value.to_str().ok())
            .collect::<Vec<_>>()
    };
    let (mode, dest) = (values("sec-fetch-mode"), values("sec-fetch-dest"));
    if !mode.is_empty() || !dest.is_empty() {
        return mode
            .iter()
            .any(|mode| mode.eq_ignore_ascii_case("navigate"))
            || dest
                .iter()
                .any(|dest| dest.eq_ignore_ascii_case("document"));
    }
    values("accept").iter().any(|accept| {
        accept.split(',').any(|range| {
            range
                .split(';')
                .next()
                .unwrap_or_default()
                .trim()
                .eq_ignore_ascii_case("text/html")
        })
    })
}

fn site(dist: &Path) -> Router {
    let index = ServeFile::new(dist.join("index.html"));
    let fallback = axum::routing::any(move |request: axum::extract::Request| {
        let index = index.clone();
        async move {
            use axum::response::IntoResponse;
            use tower::ServiceExt;
            let path = request.uri().path().to_owned();
            if is_navigation(request.headers()) || is_route(&path) {
                match index.oneshot(request).await {
                    Ok(response) => response.into_response(),
                    Err(e) => (axum::http::StatusCode::INTERNAL_SERVER_ERROR, e.to_string())
                        .into_response(),
                }
            } else {
                (
                    axum::http::StatusCode::NOT_FOUND,
                    format!("{path}: no such file\n"),
                )
                    .into_response()
            }
        }
    });
    let files = ServeDir::new(dist).fallback(fallback);
    let with_embedder_policy =
        Router::new()
            .fallback_service(files)
            .layer(axum::middleware::from_fn(
                |request: axum::extract::Request, next: axum::middleware::Next| async move {
                    let policy = embedder_policy(request.uri().path());
                    let mut response = next.run(request).await;
                    response.headers_mut().insert(
                        HeaderName::from_static(EMBEDDER_POLICY),
                        HeaderValue::from_static(policy),
                    );
                    response
                },
            ));
    SITE_HEADERS
        .iter()
        .fold(with_embedder_policy, |router, &(name, value)| {
            router.layer(SetResponseHeaderLayer::overriding(
                HeaderName::from_static(name),
                HeaderValue::from_static(value),
            ))
        })
}

async fn bind(port: u16) -> Result<tokio::net::TcpListener> {
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    tokio::net::TcpListener::bind(addr)
        .await
        .with_context(|| format!("cannot listen on {addr} (is another server using port {port}?)"))
}

/// Serves `dist` on `http://127.0.0.1:PORT` (0: any free port) until interrupted. With `faults`, also serves their
/// control on a port of its own (see [`Faults`]), printed on the line after the site's address, until interrupted
/// or its standard input closes.
pub fn serve_forever(dist: &Path, port: u16, faults: bool) -> Result<()> {
    anyhow::ensure!(
        dist.join("index.html").exists(),
        "{} has no index.html: build the site first",
        dist.display()
    );
    let runtime = tokio::runtime::Runtime::new()?;
    runtime.block_on(async {
        let listener = bind(port).await?;
        let address = listener.local_addr()?;
        let stop = async {
            let _ = tokio::signal::ctrl_c().await;
        };
        if !faults {
            println!("Kinetiscope is served at http://{address}/");
            axum::serve(listener, site(dist))
                .with_graceful_shutdown(stop)
                .await?;
            return Ok(());
        }
        // Run by a test, which may end without stopping it: it stops when its standard input closes.
        std::thread::spawn(|| {
            let _ = std::io::copy(&mut std::io::stdin(), &mut std::io::sink());
            std::process::exit(0);
        });
        let faults = Arc::new(Faults::default());
        let control = bind(0).await?;
        println!("Kinetiscope is served at http://{address}/");
        println!("faults are controlled at http://{}/", control.local_addr()?);
        let control = axum::serve(control, faults::control(faults.clone()));
        let site = axum::serve(
            faults::Listener::new(listener, faults.clone()),
            site(dist).layer(axum::middleware::from_fn_with_state(faults, faults::answer)),
        );
        tokio::select! {
            served = site => served?,
            served = control => served?,
            () = stop => {}
        }
        Ok(())
    })
}

/// A server running in the background for tests; it stops when dropped.
pub struct BackgroundServer {
    /// `http://127.0.0.1:PORT`, without a trailing slash.
    pub url: String,
    _runtime: tokio::runtime::Runtime,
}

/// Starts serving `dist` on an ephemeral port of 127.0.0.1.
pub fn serve_in_background(dist: &Path) -> Result<BackgroundServer> {
    let runtime = tokio::runtime::Runtime::new()?;
    let listener = runtime.block_on(bind(0))?;
    let url = format!("http://{}", listener.local_addr()?);
    let app = site(dist);
    runtime.spawn(async move { axum::serve(listener, app).await });
    Ok(BackgroundServer {
        url,
        _runtime: runtime,
    })
}

/// Serves the model weights (`/weights/…`) and the reference fixtures (`/fixtures/…`) with CORS, for the
/// wasm tests in Chromium, which cannot read files: they fetch them from here.
pub fn serve_test_assets(weights: &Path, fixtures: &Path) -> Result<BackgroundServer> {
    let runtime = tokio::runtime::Runtime::new()?;
    let listener = runtime.block_on(bind(0))?;
    let url = format!("http://{}", listener.local_addr()?);
    let app = Router::new()
        .nest_service("/weights", ServeDir::new(weights))
        .nest_service("/fixtures", ServeDir::new(fixtures))
        .layer(CorsLayer::permissive());
    runtime.spawn(async move { axum::serve(listener, app).await });
    Ok(BackgroundServer {
        url,
        _runtime: runtime,
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use std::path::PathBuf;

    /// A built site in a temporary folder: `index.html`, a data file, a wasm file; removed when dropped.
    struct Dist(PathBuf);

    impl Dist {
        fn new(test: &str) -> Self {
            let dir = std::env::temp_dir().join(format!(
                "kinetiscope-site-test-{test}-{}",
                std::process::id()
            ));
            let _ = std::fs::remove_dir_all(&dir);
            std::fs::create_dir_all(dir.join("data")).unwrap();
            std::fs::create_dir_all(dir.join("worker-mt")).unwrap();
            std::fs::write(dir.join("index.html"), INDEX).unwrap();
            std::fs::write(dir.join("data/k400.bin"), "data").unwrap();
            std::fs::write(dir.join("worker-mt/worker_bg.wasm"), WASM).unwrap();
            Self(dir)
        }
    }

    impl Drop for Dist {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    const INDEX: &str = "<!doctype html>app";
    const WASM: &str = "\0asm\x01\0\0\0";

    /// What the server answers to `GET url` with the request headers given: status, headers, body.
    fn get(url: &str, headers: &[(&str, &str)]) -> (u16, ureq::http::HeaderMap, String) {
        let mut request = ureq::get(url);
        for &(name, value) in headers {
            request = request.header(name, value);
        }
        let mut response = request
            .config()
            .http_status_as_error(false)
            .build()
            .call()
            .unwrap();
        let body = String::from_utf8(response.body_mut().read_to_vec().unwrap()).unwrap();
        (response.status().as_u16(), response.headers().clone(), body)
    }

    fn status(url: &str) -> (u16, String) {
        let (status, _, body) = get(url, &[]);
        (status, body)
    }

    #[test]
    fn routes_fall_back_to_the_app_and_missing_files_are_404() {
        let dist = Dist::new("routes");
        let server = serve_in_background(&dist.0).unwrap();
        let url = |path: &str| format!("{}{path}", server.url);
        assert_eq!(status(&url("/data/k400.bin")), (200, "data".into()));
        assert_eq!(
            status(&url("/classes/playing%20cricket")),
            (200, INDEX.into())
        );
        assert_eq!(status(&url("/classes/abseiling")), (200, INDEX.into()));
        assert_eq!(status(&url("/classify")).0, 200);
        assert_eq!(status(&url("/data/k700.bin")).0, 404);
        assert_eq!(status(&url("/sample.webm")).0, 404);
    }

    /// A class whose label has a dot is a route of the app when the browser navigates to it (a reload, a
    /// bookmark); a missing script or wasm file stays a 404 for the code that fetches it.
    #[test]
    fn navigations_to_routes_with_a_dot_load_the_app() {
        let dist = Dist::new("dots");
        let server = serve_in_background(&dist.0).unwrap();
        let url = |path: &str| format!("{}{path}", server.url);
        let html = ("accept", "text/html,application/xhtml+xml,*/*;q=0.8");
        let navigate = [
            ("sec-fetch-mode", "navigate"),
            ("sec-fetch-dest", "document"),
        ];

        for headers in [&[html][..], &navigate, &[navigate[0], navigate[1], html]] {
            let (code, response, body) = get(&url("/classes/v1.2"), headers);
            assert_eq!((code, body.as_str()), (200, INDEX), "{headers:?}");
            assert!(response["content-type"]
                .to_str()
                .unwrap()
                .starts_with("text/html"));
            assert_eq!(get(&url("/classes/abseiling"), headers).2, INDEX);
        }

        let missing = "/worker-mt/missing.wasm";
        assert_eq!(get(&url(missing), &[]).0, 404);
        assert_eq!(get(&url(missing), &[("accept", "*/*")]).0, 404);
        // A browser's fetch, even one that would take HTML, is no navigation.
        let fetch = [("sec-fetch-mode", "cors"), ("sec-fetch-dest", "empty")];
        assert_eq!(get(&url(missing), &fetch).0, 404);
        assert_eq!(
            get(
                &url(missing),
                &[fetch[0], fetch[1], ("accept", "text/html")]
            )
            .0,
            404
        );
        let worker = [
            ("sec-fetch-mode", "same-origin"),
            ("sec-fetch-dest", "worker"),
        ];
        assert_eq!(get(&url("/worker-mt/worker.js"), &worker).0, 404);
        assert_eq!(
            get(&url("/classes/v1.2"), &[("sec-fetch-dest", "document")]).0,
            200
        );

        // A file that exists is the file, navigation or not.
        for headers in [&[][..], &[html], &navigate] {
            let (code, response, body) = get(&url("/worker-mt/worker_bg.wasm"), headers);
            assert_eq!((code, body.as_str()), (200, WASM), "{headers:?}");
            assert_eq!(response["content-type"], "application/wasm");
        }
    }

    #[test]
    fn every_response_forbids_framing_and_is_cross_origin_isolated() {
        let dist = Dist::new("headers");
        let server = serve_in_background(&dist.0).unwrap();
        let url = |path: &str| format!("{}{path}", server.url);
        for (path, expected) in [
            ("/", 200),
            ("/classes/abseiling", 200),
            ("/classify", 200),
            ("/data/k400.bin", 200),
            ("/worker-mt/missing.wasm", 404),
        ] {
            let (code, headers, _) = get(&url(path), &[]);
            assert_eq!(code, expected, "{path}");
            for (name, value) in SITE_HEADERS {
                let sent: Vec<_> = headers.get_all(name).iter().collect();
                assert_eq!(sent, [value], "{path}: {name}");
            }
            let sent: Vec<_> = headers.get_all(EMBEDDER_POLICY).iter().collect();
            assert_eq!(sent, [embedder_policy(path)], "{path}");
            assert_eq!(headers["content-security-policy"], "frame-ancestors 'none'");
            assert_eq!(headers["x-frame-options"], "DENY");
        }
    }
}
