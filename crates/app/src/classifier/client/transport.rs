//! The worker and the requests in flight: windows ([`ModelClient::send`], [`ModelClient::classify`]) and
//! other questions ([`ModelClient::ask`]), their replies, and the time limit after which a silent worker is
//! stopped. Starting the worker and reading its messages is [`super::boot`].

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::rc::Rc;

use futures_channel::oneshot;
use js_sys::{Array, ArrayBuffer, Object, Reflect};
use protocol::{ActivationMap, CustomPrediction, FromWorker, ToWorker};
use wasm_bindgen::closure::Closure;
use web_sys::{Event, MessageEvent, Worker};

use super::status::{ModelStatus, Status};

/// How long a window may take before the worker is taken for hung, ms: twenty times what the
/// warm-up ([`protocol::site::WARMUP_FRAMES`] frames) predicts for `frames` frames, and at least a minute.
pub fn request_timeout_ms(warmup_ms: f64, frames: usize) -> u32 {
    let expected = warmup_ms.max(0.0) / protocol::site::WARMUP_FRAMES as f64 * frames as f64;
    (20.0 * expected).clamp(60_000.0, 3_600_000.0) as u32
}

/// The answer for one window.
#[derive(Debug, Clone, PartialEq)]
pub struct WindowResult {
    /// Frames in the window.
    pub frames: usize,
    /// All 400 probabilities in 0..1, model label order (ranked by the caller).
    pub probs: Vec<f32>,
    /// Preprocessing and inference, ms.
    pub latency_ms: f64,
    /// The network alone, ms.
    pub model_ms: f64,
    /// The class activation map, when asked.
    pub cam: Option<ActivationMap>,
    /// The window's clip feature (1024 values), when asked.
    pub feature: Option<Vec<f32>>,
    /// The few-shot head's answer, when one is in use (`ToWorker::UseHead`).
    pub custom: Option<CustomPrediction>,
}

pub(super) type Reply = oneshot::Sender<Result<WindowResult, String>>;

/// The reply owed to a request other than a window ([`ModelClient::ask`]): the worker's answer.
pub(super) type OtherReply = oneshot::Sender<Result<FromWorker, String>>;

/// What the worker's callbacks and the client share: the worker, the requests in flight and who waits for
/// none.
pub(super) struct Shared {
    /// The worker, terminated when closed.
    pub(super) worker: Worker,
    /// Replies owed, by request id.
    pub(super) pending: RefCell<HashMap<u32, Reply>>,
    /// Replies owed to [`ModelClient::ask`], by request id.
    pub(super) others: RefCell<HashMap<u32, OtherReply>>,
    /// The next request's id.
    pub(super) next_id: Cell<u32>,
    /// Fired (and emptied) whenever `pending` becomes empty.
    pub(super) idle: RefCell<Vec<oneshot::Sender<()>>>,
    /// The worker said `Booted`.
    pub(super) booted: Cell<bool>,
    /// The worker said `Ready` (its model loaded): from then on a failure is the model's, not the build's.
    pub(super) ready: Cell<bool>,
    /// The worker is stopped or unusable: nothing more is sent to it, and every reply is settled.
    pub(super) closed: Cell<bool>,
}

impl Shared {
    /// Settles request `id` (if still owed) and wakes the idle waiters when none is left.
    pub(super) fn settle(&self, id: u32, result: Result<WindowResult, String>) {
        let reply = self.pending.borrow_mut().remove(&id);
        if let Some(reply) = reply {
            let _ = reply.send(result);
        }
        self.wake_if_idle();
    }

    /// Settles request `id` of [`ModelClient::ask`]; false when none such is owed.
    pub(super) fn settle_other(&self, id: u32, result: Result<FromWorker, String>) -> bool {
        let reply = self.others.borrow_mut().remove(&id);
        let owed = reply.is_some();
        if let Some(reply) = reply {
            let _ = reply.send(result);
        }
        self.wake_if_idle();
        owed
    }

    pub(super) fn wake_if_idle(&self) {
        if !self.pending.borrow().is_empty() || !self.others.borrow().is_empty() {
            return;
        }
        let waiters = std::mem::take(&mut *self.idle.borrow_mut());
        for waiter in waiters {
            let _ = waiter.send(());
        }
    }

    /// Terminates the worker (with its model, and the threaded build's pool and shared memory) and settles
    /// every request in flight with `message`, or their callers would wait forever. A closed worker gets
    /// nothing more, and nothing it might still send is read.
    pub(super) fn close(&self, message: &str) {
        if self.closed.replace(true) {
            return;
        }
        self.worker.terminate();
        // Events the worker queued before it was terminated may still be dispatched; its handlers go now, before
        // the client (which owns their closures) may be dropped, or they would call a dropped closure.
        self.worker.set_onmessage(None);
        self.worker.set_onerror(None);
        self.settle_all(message);
    }

    /// Gives up on the worker after a request (`what`) went unanswered for `limit_ms`: stops it and says so.
    pub(super) fn give_up(&self, status: Status, what: &str, limit_ms: u32) {
        let message = format!(
            "the classifier did not answer {what} within {} s and was stopped. Press “Try again” to restart it, or pick a shorter window in the settings.",
            limit_ms / 1000
        );
        self.close(&message);
        status.set(ModelStatus::Failed(message));
    }

    /// Settles every window in flight with `message` (an error the worker could not tie to one).
    pub(super) fn settle_all(&self, message: &str) {
        let owed: Vec<Reply> = self.pending.borrow_mut().drain().map(|(_, r)| r).collect();
        for reply in owed {
            let _ = reply.send(Err(message.to_owned()));
        }
        let others: Vec<OtherReply> = self.others.borrow_mut().drain().map(|(_, r)| r).collect();
        for reply in others {
            let _ = reply.send(Err(message.to_owned()));
        }
        self.wake_if_idle();
    }
}

/// The worker and the requests in flight.
pub struct ModelClient {
    pub(super) shared: Rc<Shared>,
    pub(super) status: Status,
    pub(super) _on_message: Closure<dyn FnMut(MessageEvent)>,
    pub(super) _on_error: Closure<dyn FnMut(Event)>,
}

impl Drop for ModelClient {
    fn drop(&mut self) {
        self.stop();
    }
}

pub(super) fn post(
    worker: &Worker,
    message: &ToWorker,
    frames: &[ArrayBuffer],
) -> Result<(), String> {
    let value = serde_wasm_bindgen::to_value(message).map_err(|e| e.to_string())?;
    let envelope = Object::new();
    let list: Array = frames.iter().collect();
    Reflect::set(&envelope, &protocol::site::ENVELOPE_MESSAGE.into(), &value)
        .map_err(|e| format!("{e:?}"))?;
    Reflect::set(&envelope, &protocol::site::ENVELOPE_FRAMES.into(), &list)
        .map_err(|e| format!("{e:?}"))?;
    // The frame buffers are transferred (moved), not copied.
    worker
        .post_message_with_transfer(&envelope, &list)
        .map_err(|e| format!("could not send to the worker: {e:?}"))
}

impl ModelClient {
    /// Terminates the worker: its windows in flight fail, and nothing it might still have sent
    /// reaches the model's status. Also done when the client is dropped.
    pub fn stop(&self) {
        self.shared
            .close("the classifier was restarted; the window was not classified");
    }

    /// A new request id.
    fn next_id(&self) -> u32 {
        let id = self.shared.next_id.get();
        self.shared.next_id.set(id.wrapping_add(1));
        id
    }

    /// Stops the worker if request `id` (a `what`: a window, a question) over `frames` frames is still owed
    /// after [`request_timeout_ms`] (with this model's warm-up time): a worker that never answers (hung, or a
    /// device far slower than its warm-up said) is stopped, and every request in flight settled, rather than
    /// leaving the page busy forever.
    fn watch(&self, id: u32, frames: usize, what: &'static str) {
        let warmup_ms = match self.status.get_untracked() {
            ModelStatus::Ready(ready) => ready.warmup_ms,
            _ => 0.0,
        };
        let limit = request_timeout_ms(warmup_ms, frames);
        let watched = Rc::downgrade(&self.shared);
        let status = self.status;
        gloo_timers::callback::Timeout::new(limit, move || {
            let Some(shared) = watched.upgrade() else {
                return;
            };
            let owed = shared.pending.borrow().contains_key(&id)
                || shared.others.borrow().contains_key(&id);
            if owed && !shared.closed.get() {
                shared.give_up(status, what, limit);
            }
        })
        .forget();
    }

    /// Whether a window is being classified (new camera windows are then dropped, not queued).
    pub fn busy(&self) -> bool {
        !self.shared.pending.borrow().is_empty() || !self.shared.others.borrow().is_empty()
    }

    /// Resolves once no window is in the worker (at once if none is, or if the worker stopped).
    pub async fn idle(&self) {
        while self.busy() && !self.shared.closed.get() {
            let (waiter, idle) = oneshot::channel();
            self.shared.idle.borrow_mut().push(waiter);
            // Cancelled only when the client is dropped, which settles every request first.
            let _ = idle.await;
        }
    }

    /// Sends a request that is not a window (`make` builds it from its id: an inspection, a timing,
    /// the filters) once the worker is idle, and returns the worker's answer (a `Failed` answer
    /// becomes `Err`). A worker that does not answer within [`request_timeout_ms`] for a window of the
    /// longest length offered (each such request runs the network at most once on the last window,
    /// layer by layer for a timing) is stopped, like a hung window.
    pub async fn ask(&self, make: impl FnOnce(u32) -> ToWorker) -> Result<FromWorker, String> {
        // The worker runs one request at a time: a window still in it would make this one fail.
        self.idle().await;
        if self.shared.closed.get() {
            return Err(
                "the classifier worker stopped; press “Try again” on /classify to restart it"
                    .into(),
            );
        }
        let id = self.next_id();
        let (reply, answer) = oneshot::channel();
        self.shared.others.borrow_mut().insert(id, reply);
        if let Err(e) = post(&self.shared.worker, &make(id), &[]) {
            self.shared.settle_other(id, Err(e));
        }
        let longest = protocol::WINDOW_LENGTHS.iter().copied().max().unwrap_or(64);
        self.watch(id, longest, "a question from this page");
        answer
            .await
            .map_err(|_| "the classifier worker went away".to_owned())?
    }

    /// Sends a message that has no answer (a head to apply, `ToWorker::UseHead`) now; a failure comes back as
    /// the worker's `Failed`, shown by the model panel.
    pub fn tell(&self, message: &ToWorker) -> Result<(), String> {
        if self.shared.closed.get() {
            return Err("the classifier worker stopped".into());
        }
        post(&self.shared.worker, message, &[])
    }

    /// Sends one window of RGBA frames (`width`×`height` pixels, 4 bytes each) to the worker now,
    /// moving the buffers, and returns the receiver of its answer: the worker starts at once, so the
    /// caller can prepare the next window before awaiting this one. `ask`: (the activation map, the clip
    /// feature).
    pub fn send(
        &self,
        frames: Vec<ArrayBuffer>,
        width: u32,
        height: u32,
        (cam, feature): (bool, bool),
    ) -> Result<oneshot::Receiver<Result<WindowResult, String>>, String> {
        if self.shared.closed.get() {
            return Err(
                "the classifier worker stopped; press “Try again” above to restart it".into(),
            );
        }
        let id = self.next_id();
        let (reply, answer) = oneshot::channel();
        self.shared.pending.borrow_mut().insert(id, reply);
        let message = ToWorker::Classify {
            id,
            width,
            height,
            cam,
            feature,
        };
        let count = frames.len();
        if let Err(e) = post(&self.shared.worker, &message, &frames) {
            self.shared.settle(id, Err(e.clone()));
            return Err(e);
        }
        self.watch(id, count, "a window");
        Ok(answer)
    }

    /// Classifies one window ([`Self::send`], then its answer).
    pub async fn classify(
        &self,
        frames: Vec<ArrayBuffer>,
        width: u32,
        height: u32,
        ask: (bool, bool),
    ) -> Result<WindowResult, String> {
        answer_of(self.send(frames, width, height, ask)?).await
    }
}

/// The answer a [`ModelClient::send`] receiver brings.
pub async fn answer_of(
    answer: oneshot::Receiver<Result<WindowResult, String>>,
) -> Result<WindowResult, String> {
    answer
        .await
        .map_err(|_| "the classifier worker went away".to_owned())?
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_window_may_take_twenty_times_its_expected_time_and_at_least_a_minute() {
        // 16 frames in 1 s: a 32-frame window is expected in 2 s.
        assert_eq!(request_timeout_ms(1000.0, 32), 60_000);
        // SwiftShader: 16 frames in 17 s, a 64-frame window in 68 s.
        assert_eq!(request_timeout_ms(17_000.0, 64), 1_360_000);
        // Not warmed up (no figure): a minute.
        assert_eq!(request_timeout_ms(0.0, 64), 60_000);
    }
}
