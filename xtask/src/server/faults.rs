//! Faults for the offline tests: the site's server made to fail (every request answered 503, as a host down for
//! maintenance) or to go down (every connection cut, as when the network is gone: the browser sees a network
//! error, not an answer), and a count of the weights downloaded, all switched from a control port:
//!
//! - `POST /serve`, `POST /fail`, `POST /down`: the mode (204);
//! - `GET /weights`: how many requests for a `.safetensors` file reached the site (text).

use std::io;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, AtomicU8, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};

use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};

const SERVE: u8 = 0;
const FAIL: u8 = 1;
const DOWN: u8 = 2;

/// The mode of a server with faults, and what it counted.
#[derive(Debug, Default)]
pub struct Faults {
    mode: AtomicU8,
    weights: AtomicU64,
}

/// The control port's routes.
pub fn control(faults: Arc<Faults>) -> Router {
    let set = |mode: u8| {
        move |State(faults): State<Arc<Faults>>| async move {
            faults.mode.store(mode, Ordering::SeqCst);
            StatusCode::NO_CONTENT
        }
    };
    Router::new()
        .route("/serve", post(set(SERVE)))
        .route("/fail", post(set(FAIL)))
        .route("/down", post(set(DOWN)))
        .route(
            "/weights",
            get(|State(faults): State<Arc<Faults>>| async move {
                faults.weights.load(Ordering::SeqCst).to_string()
            }),
        )
        .with_state(faults)
}

/// The site's middleware: 503 while failing; counts the weights served.
pub async fn answer(State(faults): State<Arc<Faults>>, request: Request, next: Next) -> Response {
    if faults.mode.load(Ordering::SeqCst) == FAIL {
        return (StatusCode::SERVICE_UNAVAILABLE, "down for maintenance").into_response();
    }
    if request.uri().path().ends_with(".safetensors") {
        faults.weights.fetch_add(1, Ordering::SeqCst);
    }
    next.run(request).await
}

/// The site's listener: its connections fail to read while the server is down, so that each is cut at its next
/// request, and new ones as soon as they open.
pub struct Listener {
    inner: TcpListener,
    faults: Arc<Faults>,
}

impl Listener {
    /// Listens on `inner` with `faults`.
    pub fn new(inner: TcpListener, faults: Arc<Faults>) -> Self {
        Self { inner, faults }
    }
}

impl axum::serve::Listener for Listener {
    type Io = Connection;
    type Addr = std::net::SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        let (stream, address) = axum::serve::Listener::accept(&mut self.inner).await;
        let connection = Connection {
            stream,
            faults: self.faults.clone(),
        };
        (connection, address)
    }

    fn local_addr(&self) -> io::Result<Self::Addr> {
        self.inner.local_addr()
    }
}

/// A connection of [`Listener`].
pub struct Connection {
    stream: TcpStream,
    faults: Arc<Faults>,
}

impl AsyncRead for Connection {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        if self.faults.mode.load(Ordering::SeqCst) == DOWN {
            return Poll::Ready(Err(io::ErrorKind::ConnectionReset.into()));
        }
        Pin::new(&mut self.stream).poll_read(cx, buf)
    }
}

impl AsyncWrite for Connection {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.stream).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_shutdown(cx)
    }
}
