//! The thread plan: which build of the worker to start (single-threaded, threaded, or threaded with relaxed
//! SIMD) and with how many threads, and why ([`WorkerPlan`]).

use protocol::site::{ISOLATION_ADVICE, RELAXED_WORKER, SINGLE_THREADED_WORKER, THREADED_WORKER};
/// Threads asked for by default: the logical cores the browser reports, at most this many (past
/// it, a layer's chunks are too few to keep more threads busy, and each costs a Web Worker).
pub const DEFAULT_MAX_THREADS: u32 = 8;
/// The most threads `?threads=` may ask for.
pub const MAX_THREADS: u32 = 16;

/// Which build of the worker to start and with how many threads, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkerPlan {
    /// The worker's script.
    pub script: &'static str,
    /// Threads to ask the worker for.
    pub threads: u32,
    /// Why the single-threaded build, when it is the one (shown in the model panel).
    pub single_because: Option<String>,
}

impl WorkerPlan {
    /// The plan for a page that is (or not) cross-origin `isolated`, in a browser that can share memory with a
    /// worker (`shared_memory`: `Err` says why not; see [`crate::isolation::memory_shareable`]), has (or not)
    /// `relaxed_simd` ([`crate::capabilities::relaxed_simd`]: the threaded build's relaxed flavour then), reports
    /// `cores` logical cores, with `requested` threads from the address (`?threads=`).
    pub fn new(
        isolated: bool,
        shared_memory: Result<(), String>,
        relaxed_simd: bool,
        cores: u32,
        requested: Option<u32>,
    ) -> Self {
        let single = |why: &str| WorkerPlan {
            script: SINGLE_THREADED_WORKER,
            threads: 1,
            single_because: Some(why.to_owned()),
        };
        if requested == Some(1) {
            return single("one thread was asked for (?threads=1)");
        }
        if !isolated {
            return single(&format!(
                "the page is not cross-origin isolated, so WebAssembly threads are off (the host must send \
                 {ISOLATION_ADVICE})"
            ));
        }
        if let Err(why) = shared_memory {
            return single(&format!("{why}, so WebAssembly threads are off"));
        }
        let threads = requested.unwrap_or_else(|| cores.clamp(1, DEFAULT_MAX_THREADS));
        WorkerPlan {
            script: if relaxed_simd {
                RELAXED_WORKER
            } else {
                THREADED_WORKER
            },
            threads: threads.clamp(1, MAX_THREADS),
            single_because: None,
        }
    }

    /// The plan for this browser and page.
    pub fn for_this_page(requested: Option<u32>) -> Self {
        use crate::capabilities::{cross_origin_isolated, hardware_concurrency, relaxed_simd};
        let isolated = cross_origin_isolated();
        // Asked only of an isolated page (elsewhere the answer is known): it starts a worker for a moment.
        let shared_memory = if isolated && requested != Some(1) {
            crate::isolation::memory_shareable()
        } else {
            Ok(())
        };
        Self::new(
            isolated,
            shared_memory,
            relaxed_simd(),
            hardware_concurrency(),
            requested,
        )
    }

    /// The single-threaded build, after the threaded one failed to start for `why`.
    pub fn single_after(why: &str) -> Self {
        WorkerPlan {
            script: SINGLE_THREADED_WORKER,
            threads: 1,
            single_because: Some(format!("the threaded build could not start ({why})")),
        }
    }

    /// Whether this is a threaded build (plain or relaxed SIMD).
    pub fn threaded(&self) -> bool {
        self.script == THREADED_WORKER || self.script == RELAXED_WORKER
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn threads_need_an_isolated_page_and_shared_memory() {
        let plan = WorkerPlan::new(true, Ok(()), false, 4, None);
        assert_eq!((plan.script, plan.threads), (THREADED_WORKER, 4));
        assert!(plan.single_because.is_none() && plan.threaded());
        // Many cores: capped by default, not when asked for.
        assert_eq!(
            WorkerPlan::new(true, Ok(()), false, 64, None).threads,
            DEFAULT_MAX_THREADS
        );
        assert_eq!(
            WorkerPlan::new(true, Ok(()), false, 2, Some(12)).threads,
            12
        );
        let not_isolated = WorkerPlan::new(false, Ok(()), true, 8, None);
        assert_eq!(
            (not_isolated.script, not_isolated.threads),
            (SINGLE_THREADED_WORKER, 1)
        );
        assert!(not_isolated
            .single_because
            .as_deref()
            .is_some_and(|w| w.contains("not cross-origin isolated")));
        let no_shared = WorkerPlan::new(
            true,
            Err("memory cannot be shared with workers in this browser (DataCloneError)".into()),
            true,
            8,
            None,
        );
        assert!(!no_shared.threaded());
        assert_eq!(
            no_shared.single_because.unwrap(),
            "memory cannot be shared with workers in this browser (DataCloneError), so WebAssembly \
             threads are off"
        );
        let one = WorkerPlan::new(true, Ok(()), true, 8, Some(1));
        // Relaxed SIMD picks the threaded build's relaxed flavour.
        let relaxed = WorkerPlan::new(true, Ok(()), true, 2, None);
        assert_eq!((relaxed.script, relaxed.threads), (RELAXED_WORKER, 2));
        assert!(relaxed.threaded());
        assert!(!one.threaded() && one.single_because.unwrap().contains("?threads=1"));
    }
}
