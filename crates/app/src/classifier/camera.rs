//! The webcam: opening it (each failure with its own message), listing cameras, and waiting for
//! video frames.

use js_sys::{Array, Object, Promise, Reflect};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{HtmlVideoElement, MediaDeviceInfo, MediaDeviceKind, MediaStream};

use crate::js::js_text;

/// Why the camera did not start, or stopped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CameraError {
    /// The page is not a secure context (https or localhost).
    Insecure,
    /// No `navigator.mediaDevices.getUserMedia`.
    Unsupported,
    /// The user or a policy refused the permission.
    Denied,
    /// There is no camera.
    NotFound,
    /// The camera exists but could not be opened (another app holds it, or a hardware error).
    Busy,
    /// The chosen camera cannot satisfy the constraints.
    Overconstrained(String),
    /// It was running and stopped on its own: unplugged, or taken back by the system.
    Ended,
    /// Anything else.
    Other(String),
}

impl CameraError {
    /// What happened and what to do, for the page.
    pub fn message(&self) -> String {
        let fallback = "Meanwhile, you can classify a video file or the sample clip.";
        match self {
            CameraError::Insecure => format!(
                "The camera needs a secure page: open Kinetiscope over https:// (or on localhost). {fallback}"
            ),
            CameraError::Unsupported => {
                format!("This browser gives web pages no camera access. {fallback}")
            }
            CameraError::Denied => format!(
                "Camera permission was denied. Allow the camera for this site (the camera icon in the address bar, or the site settings), then press “Start camera” again. {fallback}"
            ),
            CameraError::NotFound => {
                format!("No camera was found. Connect one and press “Start camera” again. {fallback}")
            }
            CameraError::Busy => format!(
                "The camera is in use by another application or tab, or the system blocked it. Close the other application and try again. {fallback}"
            ),
            CameraError::Overconstrained(what) => format!(
                "This camera cannot provide the video asked for ({what}). Pick another camera in the list. {fallback}"
            ),
            CameraError::Ended => format!(
                "The camera stopped sending pictures: it was unplugged, or the system or another application took it. Press “Start camera” to try again. {fallback}"
            ),
            CameraError::Other(what) => format!("The camera could not start: {what}. {fallback}"),
        }
    }

    /// A short stable name, for tests and logs.
    pub fn code(&self) -> &'static str {
        match self {
            CameraError::Insecure => "insecure",
            CameraError::Unsupported => "unsupported",
            CameraError::Denied => "denied",
            CameraError::NotFound => "not-found",
            CameraError::Busy => "busy",
            CameraError::Overconstrained(_) => "overconstrained",
            CameraError::Ended => "ended",
            CameraError::Other(_) => "other",
        }
    }

    fn from_js(error: &JsValue) -> Self {
        let name = Reflect::get(error, &"name".into())
            .ok()
            .and_then(|n| n.as_string())
            .unwrap_or_default();
        match name.as_str() {
            "NotAllowedError" | "SecurityError" | "PermissionDeniedError" => CameraError::Denied,
            "NotFoundError" | "DevicesNotFoundError" => CameraError::NotFound,
            "NotReadableError" | "TrackStartError" | "AbortError" => CameraError::Busy,
            "OverconstrainedError" | "ConstraintNotSatisfiedError" => {
                let constraint = Reflect::get(error, &"constraint".into())
                    .ok()
                    .and_then(|c| c.as_string())
                    .unwrap_or_else(|| "unknown constraint".into());
                CameraError::Overconstrained(constraint)
            }
            _ => CameraError::Other(js_text(error)),
        }
    }
}

fn media_devices() -> Result<web_sys::MediaDevices, CameraError> {
    let window = web_sys::window().ok_or(CameraError::Unsupported)?;
    if !window.is_secure_context() {
        return Err(CameraError::Insecure);
    }
    let navigator = window.navigator();
    let devices = Reflect::get(&navigator, &"mediaDevices".into()).unwrap_or(JsValue::UNDEFINED);
    if devices.is_undefined() {
        return Err(CameraError::Unsupported);
    }
    Ok(devices.unchecked_into())
}

/// Opens a camera: `device_id` when given, else the user-facing one. 640×480 is asked for
/// (ideal, not exact), which every camera can approach.
pub async fn open(device_id: Option<&str>) -> Result<MediaStream, CameraError> {
    let devices = media_devices()?;
    let video = Object::new();
    let set = |target: &Object, key: &str, value: &JsValue| {
        let _ = Reflect::set(target, &key.into(), value);
    };
    let ideal = |v: f64| {
        let o = Object::new();
        set(&o, "ideal", &v.into());
        o
    };
    set(&video, "width", &ideal(640.0));
    set(&video, "height", &ideal(480.0));
    match device_id {
        Some(id) => {
            let exact = Object::new();
            set(&exact, "exact", &id.into());
            set(&video, "deviceId", &exact);
        }
        None => set(&video, "facingMode", &"user".into()),
    }
    let constraints = web_sys::MediaStreamConstraints::new();
    constraints.set_video(&video);
    constraints.set_audio(&false.into());
    let promise = devices
        .get_user_media_with_constraints(&constraints)
        .map_err(|e| CameraError::from_js(&e))?;
    let stream = JsFuture::from(promise)
        .await
        .map_err(|e| CameraError::from_js(&e))?;
    Ok(stream.unchecked_into())
}

/// Stops every track of a stream (the camera light goes off).
pub fn stop(stream: &MediaStream) {
    for track in stream.get_tracks().iter() {
        if let Ok(track) = track.dyn_into::<web_sys::MediaStreamTrack>() {
            track.stop();
        }
    }
}

/// Calls `ended` once if the stream's video track ends on its own (unplugged, revoked). Not called after [`stop`]:
/// a track stopped by the page fires no `ended` event.
pub fn on_ended(stream: &MediaStream, ended: impl FnOnce() + 'static) {
    if let Ok(track) = stream
        .get_video_tracks()
        .get(0)
        .dyn_into::<web_sys::MediaStreamTrack>()
    {
        let callback = wasm_bindgen::closure::Closure::once_into_js(ended);
        track.set_onended(Some(callback.unchecked_ref()));
    }
}

/// The cameras (device id, label); labels are only known once permission was given.
pub async fn cameras() -> Vec<(String, String)> {
    let Ok(devices) = media_devices() else {
        return Vec::new();
    };
    let Ok(promise) = devices.enumerate_devices() else {
        return Vec::new();
    };
    let Ok(list) = JsFuture::from(promise).await else {
        return Vec::new();
    };
    Array::from(&list)
        .iter()
        .filter_map(|d| d.dyn_into::<MediaDeviceInfo>().ok())
        .filter(|d| d.kind() == MediaDeviceKind::Videoinput)
        .enumerate()
        .map(|(i, d)| {
            let label = d.label();
            let label = if label.is_empty() {
                format!("Camera {}", i + 1)
            } else {
                label
            };
            (d.device_id(), label)
        })
        .collect()
}

/// Resolves at the video's next frame: `requestVideoFrameCallback` where the browser has it,
/// else after 1/50 s.
pub async fn next_frame(video: &HtmlVideoElement) {
    match frame_presented(video) {
        Some(presented) => {
            let _ = JsFuture::from(presented).await;
        }
        None => gloo_timers::future::TimeoutFuture::new(20).await,
    }
}

/// A promise of the video's next presented frame, asked for now (`requestVideoFrameCallback`); `None` where the
/// browser has no such callback.
pub fn frame_presented(video: &HtmlVideoElement) -> Option<Promise> {
    let request = Reflect::get(video, &"requestVideoFrameCallback".into())
        .ok()
        .and_then(|f| f.dyn_into::<js_sys::Function>().ok())?;
    Some(Promise::new(&mut |resolve, _| {
        let _ = request.call1(video, &resolve);
    }))
}
