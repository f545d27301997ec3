//! A static server for the built site on 127.0.0.1 (axum + tower-http's `ServeDir`).
//!
//! Unknown routes fall back to `index.html`, so the app's deep links (`/classes/abseiling`) load the app; a missing
//! file (a path whose last segment has an extension, `/data/k400.bin`, `/sample.webm`) is a 404, so that it is
//! reported as missing rather than as an HTML page of the wrong type.
//! The page is cross-origin isolated (COOP/COEP) so that WASM threads and precise timers are available.

use std::net::SocketAddr;
use std::path::Path;

use anyhow::{Context, Result};
use axum::http::{header::HeaderName, HeaderValue};
use axum::Router;
use tower_http::cors::CorsLayer;
use tower_http::services::{ServeDir, ServeFile};
use tower_http::set_header::SetResponseHeaderLayer;

/// Whether a path the site does not have is one of the app's routes (no extension in its last segment).
fn is_route(path: &str) -> bool {
    !path.rsplit('/').next().unwrap_or_default().contains('.')
}

fn site(dist: &Path) -> Router {
    let index = ServeFile::new(dist.join("index.html"));
    let fallback = axum::routing::any(move |request: axum::extract::Request| {
        let index = index.clone();
        async move {
            use axum::response::IntoResponse;
            use tower::ServiceExt;
            let path = request.uri().path().to_owned();
            if is_route(&path) {
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
    let header = |name: &'static str, value: &'static str| {
        SetResponseHeaderLayer::overriding(
            HeaderName::from_static(name),
            HeaderValue::from_static(value),
        )
    };
    Router::new()
        .fallback_service(files)
        .layer(header("cross-origin-opener-policy", "same-origin"))
        .layer(header("cross-origin-embedder-policy", "credentialless"))
        .layer(header("cache-control", "no-cache"))
}

async fn bind(port: u16) -> Result<tokio::net::TcpListener> {
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    tokio::net::TcpListener::bind(addr)
        .await
        .with_context(|| format!("cannot listen on {addr} (is another server using port {port}?)"))
}

/// Serves `dist` on `http://127.0.0.1:PORT` until interrupted.
pub fn serve_forever(dist: &Path, port: u16) -> Result<()> {
    anyhow::ensure!(
        dist.join("index.html").exists(),
        "{} has no index.html: build the site first",
        dist.display()
    );
    let runtime = tokio::runtime::Runtime::new()?;
    runtime.block_on(async {
        let listener = bind(port).await?;
        println!(
            "Kinetiscope is served at http://{}/",
            listener.local_addr()?
        );
        axum::serve(listener, site(dist))
            .with_graceful_shutdown(async {
                let _ = tokio::signal::ctrl_c().await;
            })
            .await?;
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

    fn status(url: &str) -> (u16, String) {
        match ureq::get(url).call() {
            Ok(mut response) => (
                response.status().as_u16(),
                response.body_mut().read_to_string().unwrap(),
            ),
            Err(ureq::Error::StatusCode(code)) => (code, String::new()),
            Err(e) => panic!("{url}: {e}"),
        }
    }

    #[test]
    fn routes_fall_back_to_the_app_and_missing_files_are_404() {
        let dist =
            std::env::temp_dir().join(format!("kinetiscope-site-test-{}", std::process::id()));
        std::fs::create_dir_all(dist.join("data")).unwrap();
        std::fs::write(dist.join("index.html"), "<!doctype html>app").unwrap();
        std::fs::write(dist.join("data/k400.bin"), "data").unwrap();
        let server = serve_in_background(&dist).unwrap();
        let url = |path: &str| format!("{}{path}", server.url);
        assert_eq!(status(&url("/data/k400.bin")), (200, "data".into()));
        assert_eq!(
            status(&url("/classes/playing%20cricket")),
            (200, "<!doctype html>app".into())
        );
        assert_eq!(status(&url("/classify")).0, 200);
        assert_eq!(status(&url("/data/k700.bin")).0, 404);
        assert_eq!(status(&url("/sample.webm")).0, 404);
        std::fs::remove_dir_all(&dist).unwrap();
    }
}
