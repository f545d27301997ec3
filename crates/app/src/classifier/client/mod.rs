//! The model, from the page's side: a [`ModelClient`] owns the classifier Web Worker, turns its
//! messages into the model's [`Status`] and answers [`ModelClient::classify`] calls.
//!
//! Nothing here polls: a task that needs the model loaded awaits [`Status::settled`], one that must
//! not queue behind another window awaits [`ModelClient::idle`]. Both are built on `futures-channel`
//! oneshots kept in a waiter list and fired when the state they wait for is reached.
//!
//! By job:
//! - [`transport`]: the worker and the requests in flight (windows, questions), their replies and time limits;
//! - [`boot`]: starting the worker, its start-up time limits and the threaded build's hand-over, and reading
//!   its messages into the status and the replies;
//! - [`status`]: the model's [`ModelStatus`] as the page shows it, and the tasks waiting for it to settle;
//! - [`plan`]: which build of the worker to start and with how many threads ([`WorkerPlan`]);
//! - [`address`]: the model the page's address asks for ([`requested_model`]).

pub mod address;
pub mod boot;
pub mod plan;
pub mod status;
pub mod transport;

pub use address::{requested_model, ModelRequest};
pub use boot::{version_mismatch, BootFailure, StartFailure, MANIFEST_URL};
pub use plan::{WorkerPlan, DEFAULT_MAX_THREADS, MAX_THREADS};
pub use status::{ModelStatus, Status};
pub use transport::{answer_of, request_timeout_ms, ModelClient, WindowResult};
