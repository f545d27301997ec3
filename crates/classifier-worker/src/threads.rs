//! WebAssembly threads for the CPU executor: rayon's global pool on nested Web Workers.
//!
//! The threaded build of this worker (`/worker-mt/`, compiled with `+atomics` and std rebuilt with it,
//! see `xtask/src/site.rs`) runs on a shared `WebAssembly.Memory`. [`start`] spawns one Web Worker per
//! pool thread (`www/worker-mt/thread.js`), each instantiating this same module on that memory, waits
//! until all of them are up, then builds rayon's global pool so that each worker runs one of its
//! threads ([`kinetiscope_thread_run`]). From then on every `par_iter` of the CPU kernels
//! (`i3d-cpu`) spreads over the workers, while this worker (the caller) blocks, which a worker may.
//!
//! Why not `wasm-bindgen-rayon`: it starts its threads as ES-module workers that import the main
//! module through a bundler-style relative path, while this worker is wasm-bindgen's `no-modules`
//! output in a classic worker (as trunk builds the single-threaded one). What it would do here is
//! the fifty lines below.

use std::cell::RefCell;
use std::collections::VecDeque;
use std::sync::{Condvar, Mutex, PoisonError};

use js_sys::{Array, Promise, Reflect};
use protocol::Threads;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use web_sys::{DedicatedWorkerGlobalScope, Worker, WorkerOptions};

/// The name prefix of the pool's workers; `main` does nothing in them (see `main.rs`).
pub const THREAD_NAME_PREFIX: &str = "kinetiscope-thread-";

/// The thread workers' script, next to this worker's loader.
const THREAD_SCRIPT: &str = "thread.js";

/// How long the pool's workers may take to start, ms (they fetch nothing: the module and the memory
/// are sent to them).
const START_TIMEOUT_MS: i32 = 20_000;

/// Pool threads handed over by rayon's spawn handler, waiting for a worker to run them.
static WAITING: Mutex<VecDeque<rayon::ThreadBuilder>> = Mutex::new(VecDeque::new());
static ARRIVED: Condvar = Condvar::new();

thread_local! {
    /// The pool's workers, kept for the worker's lifetime, and what [`start`] reported.
    static STARTED: RefCell<Option<(Vec<Worker>, Threads)>> = const { RefCell::new(None) };
}

/// Runs in a pool worker once the module is instantiated on the shared memory: takes one of the
/// pool's threads (blocking until rayon hands one over) and runs it for the worker's lifetime.
#[wasm_bindgen]
pub fn kinetiscope_thread_run() {
    let mut waiting = WAITING.lock().unwrap_or_else(PoisonError::into_inner);
    let builder = loop {
        if let Some(builder) = waiting.pop_front() {
            break builder;
        }
        waiting = ARRIVED
            .wait(waiting)
            .unwrap_or_else(PoisonError::into_inner);
    };
    drop(waiting);
    builder.run();
}

fn scope() -> DedicatedWorkerGlobalScope {
    js_sys::global().unchecked_into()
}

/// Starts a pool of `wanted` threads (once per worker; later calls report the first outcome). Never
/// fails: without nested workers, or when they do not start, the executor runs on this worker's
/// thread alone and the note says why.
pub async fn start(wanted: u32) -> Threads {
    if let Some(threads) = STARTED.with(|s| s.borrow().as_ref().map(|(_, t)| t.clone())) {
        return threads;
    }
    let (workers, threads) = spawn(wanted).await.unwrap_or_else(|why| {
        let one = Threads {
            count: 1,
            note: format!("one thread: {why}"),
        };
        (Vec::new(), one)
    });
    STARTED.with(|s| *s.borrow_mut() = Some((workers, threads.clone())));
    threads
}

async fn spawn(wanted: u32) -> Result<(Vec<Worker>, Threads), String> {
    if wanted <= 1 {
        return Ok((
            Vec::new(),
            Threads {
                count: 1,
                note: "one thread was asked for".into(),
            },
        ));
    }
    let scope = scope();
    if !Reflect::has(&scope, &"Worker".into()).unwrap_or(false) {
        return Err("this browser cannot start workers from a worker".into());
    }
    let href = scope.location().href();
    let url = web_sys::Url::new_with_base(THREAD_SCRIPT, &href)
        .map_err(|e| format!("bad thread script address: {e:?}"))?
        .href();
    let init = Array::of2(&wasm_bindgen::module(), &wasm_bindgen::memory());
    let mut workers = Vec::new();
    let mut ready = Array::new();
    for i in 0..wanted {
        let options = WorkerOptions::new();
        options.set_name(&format!("{THREAD_NAME_PREFIX}{i}"));
        let worker = Worker::new_with_options(&url, &options)
            .map_err(|e| format!("a thread worker could not be created ({e:?})"))?;
        let started = Promise::new(&mut |resolve, reject| {
            worker.set_onmessage(Some(&resolve));
            worker.set_onerror(Some(&reject));
        });
        worker
            .post_message(&init)
            .map_err(|e| format!("the shared memory could not be sent to a thread ({e:?})"))?;
        ready.push(&started);
        workers.push(worker);
    }
    let timeout = Promise::new(&mut |_, reject| {
        let _ =
            scope.set_timeout_with_callback_and_timeout_and_arguments_0(&reject, START_TIMEOUT_MS);
    });
    ready = Array::of2(&Promise::all(&ready), &timeout);
    let outcome = JsFuture::from(Promise::race(&ready)).await;
    for worker in &workers {
        worker.set_onmessage(None);
        worker.set_onerror(None);
    }
    if let Err(e) = outcome {
        for worker in &workers {
            worker.terminate();
        }
        let what = e
            .dyn_ref::<web_sys::ErrorEvent>()
            .map(|e| e.message())
            .unwrap_or_else(|| format!("not started within {} s", START_TIMEOUT_MS / 1000));
        return Err(format!("the thread workers failed ({what})"));
    }
    rayon::ThreadPoolBuilder::new()
        .num_threads(wanted as usize)
        .spawn_handler(|thread| {
            WAITING
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .push_back(thread);
            ARRIVED.notify_all();
            Ok(())
        })
        .build_global()
        .map_err(|e| format!("the thread pool could not be built ({e})"))?;
    let cores = scope.navigator().hardware_concurrency();
    Ok((
        workers,
        Threads {
            count: wanted,
            note: format!("{wanted} threads on Web Workers ({cores} logical cores reported)"),
        },
    ))
}
