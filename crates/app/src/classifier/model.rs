//! The model shared by visits to `/classify`: one [`ModelClient`] (the worker) that stays loaded
//! while the visitor browses, the backend and precision it was asked for, and its [`Status`].

use std::rc::Rc;

use leptos::prelude::*;
use protocol::{Backend, BackendChoice};

use super::client::{
    BootFailure, ModelClient, ModelRequest, ModelStatus, StartFailure, Status, WorkerPlan,
};

/// The model, provided by the app (not the page) so that it outlives a visit to the page.
#[derive(Clone, Copy)]
pub struct Model {
    client: StoredValue<Option<Rc<ModelClient>>, LocalStorage>,
    /// What the running client was started with.
    requested: StoredValue<Option<ModelRequest>>,
    /// What the model is doing.
    pub status: Status,
}

impl Model {
    /// No worker yet.
    pub fn new() -> Self {
        Self {
            client: StoredValue::new_local(None),
            requested: StoredValue::new(None),
            status: Status::new(),
        }
    }

    /// Starts the worker as `request` asks (backend, precision, threads) unless it already runs (or
    /// is loading) with it; a failed model is started again. The threaded build is started where the
    /// page allows threads ([`WorkerPlan::for_this_page`]); if it fails before it booted, the
    /// single-threaded one is started instead and the model panel says why.
    pub fn ensure(&self, request: ModelRequest) {
        let running = self.client.with_value(Option::is_some);
        let failed = matches!(self.status.get_untracked(), ModelStatus::Failed(_));
        if running && !failed && self.requested.get_value() == Some(request) {
            return;
        }
        self.retire();
        self.requested.set_value(Some(request));
        let plan = WorkerPlan::for_this_page(request.threads);
        let fallback = plan.threaded().then(|| self.threaded_fallback(request, 1));
        self.start(request, plan, fallback);
    }

    /// What follows a failed start of the threaded build: the threaded build again when it only stopped
    /// answering (`retries` times at most), else the single-threaded build, whose panel says why.
    fn threaded_fallback(&self, request: ModelRequest, retries: u32) -> BootFailure {
        let model = *self;
        Rc::new(move |failure: StartFailure| {
            web_sys::console::warn_1(
                &format!("threaded classifier failed: {}", failure.why).into(),
            );
            if failure.silent && retries > 0 {
                let plan = WorkerPlan::for_this_page(request.threads);
                let fallback = plan
                    .threaded()
                    .then(|| model.threaded_fallback(request, retries - 1));
                model.start(request, plan, fallback);
            } else {
                model.start(request, WorkerPlan::single_after(&failure.why), None);
            }
        })
    }

    fn start(&self, request: ModelRequest, plan: WorkerPlan, fallback: Option<BootFailure>) {
        self.retire();
        match ModelClient::start(request, plan, self.status, fallback) {
            Ok(client) => self.client.set_value(Some(Rc::new(client))),
            Err(e) => self.status.set(ModelStatus::Failed(e)),
        }
    }

    /// Starts the model again as last asked (after a failure: a crashed worker, a download cut off);
    /// false when there is nothing to retry (the address asked for something that does not exist).
    pub fn retry(&self) -> bool {
        match self.requested.get_value() {
            Some(request) => {
                self.retire();
                self.ensure(request);
                true
            }
            None => false,
        }
    }

    /// Whether [`Self::retry`] has something to start again.
    pub fn can_retry(&self) -> bool {
        self.requested.with_value(Option::is_some)
    }

    /// Whether the running model was asked for on WebGPU by name (`?backend=webgpu`): a failure then
    /// offers the CPU.
    pub fn asked_for_webgpu(&self) -> bool {
        self.requested
            .get_value()
            .is_some_and(|r| r.backend == BackendChoice::Only(Backend::Wgpu))
    }

    /// Stops the model and shows `message` as its error (e.g. an address asking for a backend that
    /// does not exist). The next [`Self::ensure`] starts it again.
    pub fn fail(&self, message: String) {
        self.retire();
        self.requested.set_value(None);
        self.status.set(ModelStatus::Failed(message));
    }

    /// Stops the current worker at once (a task may still hold its client for a moment: its window
    /// then fails, and the old worker can no longer touch the status) and forgets it.
    fn retire(&self) {
        if let Some(client) = self.client.try_update_value(Option::take).flatten() {
            client.stop();
        }
    }

    /// The client, if the model is ready to classify now (no waiting).
    pub fn ready_now(&self) -> Option<Rc<ModelClient>> {
        match self.status.get_untracked() {
            ModelStatus::Ready(_) => self.client.get_value(),
            _ => None,
        }
    }

    /// Resolves once the model is ready (its client) or failed (`Err`, "the model did not load: …").
    pub async fn ready(&self) -> Result<Rc<ModelClient>, String> {
        self.status
            .settled()
            .await
            .map_err(|e| format!("the model did not load: {e}"))?;
        self.client
            .get_value()
            .ok_or_else(|| "the model is not loaded".to_owned())
    }
}

impl Default for Model {
    fn default() -> Self {
        Self::new()
    }
}
