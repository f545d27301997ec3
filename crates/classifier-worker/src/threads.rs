//! WebAssembly threads for the CPU executor: rayon's global pool on nested Web Workers.
//!
//! The threaded build of this worker (`/worker-mt/`, compiled with `+atomics` and std rebuilt with it,
//! see `xtask/src/web.rs` and `crates/site/src/flags.rs`) runs on a shared `WebAssembly.Memory`. [`start`] spawns one Web Worker per
//! pool thread (`www/worker-mt/thread.js`), each instantiating this same module on that memory once its scripts
//! run, waits until all of them are up, then builds rayon's global pool so that each worker runs one of its
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
use protocol::site::THREAD_SCRIPT;

/// How long the pool's workers may take to start, ms. They fetch only `thread.js` and instantiate the
/// module they are sent (compiled already) on the shared memory: well under a second where it works, so a
/// thread silent for this long is taken for failed, and the page starts the single-threaded build.
const START_TIMEOUT_MS: i32 = 10_000;

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

/// Starts a pool of `wanted` threads (once per worker; later calls report the first outcome). Fails, with
/// the reason in words, when the pool cannot start: no nested workers, a thread worker that cannot be
/// created, fails or does not answer within [`START_TIMEOUT_MS`]. The thread workers already created are
/// then terminated (none is left blocked), and the page starts the single-threaded build instead.
pub async fn start(wanted: u32) -> Result<Threads, String> {
    if let Some(threads) = STARTED.with(|s| s.borrow().as_ref().map(|(_, t)| t.clone())) {
        return Ok(threads);
    }
    let mut workers = Vec::new();
    let outcome = spawn(wanted, &mut workers).await;
    match outcome {
        Ok(threads) => {
            STARTED.with(|s| *s.borrow_mut() = Some((workers, threads.clone())));
            Ok(threads)
        }
        Err(why) => {
            for worker in &workers {
                worker.terminate();
            }
            Err(why)
        }
    }
}

/// Creates the pool's workers into `workers` (so that the caller can terminate them whatever happens) and
/// builds rayon's global pool on them.
async fn spawn(wanted: u32, workers: &mut Vec<Worker>) -> Result<Threads, String> {
    if wanted <= 1 {
        return Ok(Threads {
            count: 1,
            note: "one thread was asked for".into(),
        });
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
    // One limit for all of them: rejects (with `undefined`) after START_TIMEOUT_MS. Handled at once, so that it is
    // not an unhandled rejection when the start ends before it (the races below handle it too).
    let timeout = Promise::new(&mut |_, reject| {
        let _ =
            scope.set_timeout_with_callback_and_timeout_and_arguments_0(&reject, START_TIMEOUT_MS);
    });
    let ignore = Closure::<dyn FnMut(JsValue)>::new(|_| {});
    let _ = timeout.catch(&ignore);
    ignore.forget();
    // Two steps, all the threads at once: each says its scripts are loaded; then each is sent the module and the
    // memory, and says it is ready. So the memory is only ever posted to a thread that runs. (Firefox's threaded
    // worker now and then stops answering altogether, about one visit in twenty here, with or without these steps;
    // the page catches that, see `THREADS_START_TIMEOUT_MS` in the app's `classifier/client/boot.rs`.)
    let next_message =
        |worker: &Worker| Promise::new(&mut |resolve, _| worker.set_onmessage(Some(&resolve)));
    let loaded = Array::new();
    let failures = Array::new();
    for i in 0..wanted {
        let options = WorkerOptions::new();
        options.set_name(&format!("{THREAD_NAME_PREFIX}{i}"));
        let worker = Worker::new_with_options(&url, &options).map_err(|e| {
            format!(
                "thread worker {} of {wanted} could not be created ({})",
                i + 1,
                crate::fetch::describe(&e)
            )
        })?;
        workers.push(worker.clone());
        failures.push(&Promise::new(&mut |_, reject| {
            // An `ErrorEvent` for an error thrown in the thread's script, a plain `Event` when the script could not
            // be loaded. Handled here (`preventDefault`), so that it does not also become an uncaught error of
            // this worker, which the page would take for a crash of the classifier.
            let on_error =
                Closure::<dyn FnMut(web_sys::Event)>::new(move |event: web_sys::Event| {
                    event.prevent_default();
                    let why = match event.dyn_ref::<web_sys::ErrorEvent>() {
                        Some(error) => error.message(),
                        None => "its script could not be loaded".to_owned(),
                    };
                    let _ = reject.call1(&JsValue::NULL, &why.into());
                });
            worker.set_onerror(Some(on_error.as_ref().unchecked_ref()));
            // Lives as long as the thread worker may call it (it is unset below).
            on_error.forget();
        }));
        loaded.push(&next_message(&worker));
    }
    // All of `step`, or the first thread's failure, or the time limit.
    let any_failed = Promise::race(&failures);
    let step = |all: &Array| {
        JsFuture::from(Promise::race(&Array::of3(
            &Promise::all(all),
            &any_failed,
            &timeout,
        )))
    };
    let mut outcome = step(&loaded).await;
    if outcome.is_ok() {
        let ready = Array::new();
        for worker in workers.iter() {
            ready.push(&next_message(worker));
            worker.post_message(&init).map_err(|e| {
                format!(
                    "the shared memory could not be sent to a thread ({})",
                    crate::fetch::describe(&e)
                )
            })?;
        }
        outcome = step(&ready).await;
    }
    for worker in workers.iter() {
        worker.set_onmessage(None);
        worker.set_onerror(None);
    }
    if let Err(e) = outcome {
        // A thread's error (text), or the timeout (undefined).
        let what = e
            .as_string()
            .unwrap_or_else(|| format!("not all started within {} s", START_TIMEOUT_MS / 1000));
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
    Ok(Threads {
        count: wanted,
        note: format!(
            "{wanted} threads on Web Workers ({cores} logical cores reported), {}",
            crate::run::SIMD
        ),
    })
}
