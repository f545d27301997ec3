//! The model's status: what the page shows ([`ModelStatus`]) and the tasks waiting for it to settle ([`Status`]).

use futures_channel::oneshot;
use leptos::prelude::*;
use protocol::{Backend, ModelReady, Progress};

/// The model as the page shows it.
#[derive(Debug, Clone, PartialEq, Default)]
pub enum ModelStatus {
    /// Nothing started yet.
    #[default]
    Idle,
    /// The worker is starting.
    Starting,
    /// Weights arriving.
    Loading(Progress),
    /// Weights in, warm-up pass running.
    WarmingUp {
        /// Where the warm-up runs.
        backend: Backend,
    },
    /// Ready to classify.
    Ready(ModelReady),
    /// Loading failed, or the worker stopped; the message says what to do.
    Failed(String),
}

impl ModelStatus {
    /// Whether the status is final for this worker: ready or failed (a ready model may still fall
    /// back to the CPU and say `Ready` again, but it stays usable meanwhile).
    fn is_settled(&self) -> bool {
        matches!(self, ModelStatus::Ready(_) | ModelStatus::Failed(_))
    }
}

/// The model's status: a signal the page renders, plus the tasks waiting for it to settle.
///
/// `Copy`, and owned by the app rather than the page, so that tasks still running after the visitor
/// left can read and set it.
#[derive(Clone, Copy)]
pub struct Status {
    signal: RwSignal<ModelStatus>,
    /// Fired (and emptied) whenever the status becomes `Ready` or `Failed`.
    settled: StoredValue<Vec<oneshot::Sender<()>>, LocalStorage>,
}

impl Status {
    /// `Idle`, nobody waiting.
    pub fn new() -> Self {
        Self {
            signal: RwSignal::new(ModelStatus::Idle),
            settled: StoredValue::new_local(Vec::new()),
        }
    }

    /// The status, tracked (re-runs the reactive scope reading it when it changes).
    pub fn get(&self) -> ModelStatus {
        self.signal.get()
    }

    /// The status, untracked.
    pub fn get_untracked(&self) -> ModelStatus {
        self.signal.get_untracked()
    }

    /// Sets the status; on `Ready` or `Failed`, wakes every task awaiting [`Self::settled`].
    pub fn set(&self, status: ModelStatus) {
        let settled = status.is_settled();
        self.signal.set(status);
        if settled {
            for waiter in self
                .settled
                .try_update_value(std::mem::take)
                .unwrap_or_default()
            {
                let _ = waiter.send(());
            }
        }
    }

    /// Resolves once the model is ready (its description) or failed (the message). Returns at once
    /// when it already is either.
    pub async fn settled(&self) -> Result<ModelReady, String> {
        loop {
            match self.get_untracked() {
                ModelStatus::Ready(ready) => return Ok(ready),
                ModelStatus::Failed(message) => return Err(message),
                _ => {}
            }
            let (waiter, settled) = oneshot::channel();
            self.settled.update_value(|w| w.push(waiter));
            // Cancelled only if the app (which owns the waiter list) went away.
            if settled.await.is_err() {
                return Err("the classifier went away; reload the page".into());
            }
        }
    }
}

impl Default for Status {
    fn default() -> Self {
        Self::new()
    }
}
