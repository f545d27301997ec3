//! Examples for `/train`: a camera recording (after a countdown), video files and GIFs, or the sample clip, cut
//! into windows of [`heads::WINDOW_FRAMES`] frames every [`heads::WINDOW_STRIDE`] (as `kinetiscope train` cuts
//! them), each window's clip feature asked of the worker. Only the features are kept, with a thumbnail.

use std::collections::VecDeque;
use std::sync::Arc;

use leptos::prelude::*;
use leptos::task::spawn_local;
use wasm_bindgen::{Clamped, JsCast};
use web_sys::{HtmlCanvasElement, HtmlVideoElement};

use super::state::{Example, Trainer};
use crate::classifier::client::ModelClient;
use crate::classifier::frames::{Frame, Grabber};
use crate::classifier::session::CancelToken;
use crate::classifier::{camera, gif, video, Model, Session};
use crate::js::js_text;

/// Seconds counted down before a recording starts.
const COUNTDOWN_S: u32 = 3;
/// Width of an example's thumbnail, pixels.
const THUMBNAIL_WIDTH: u32 = 96;

/// Where an example's frames come from.
pub enum Source {
    /// The camera, for the trainer's recording length.
    Camera,
    /// A file the visitor picked or dropped (a GIF, or anything the `<video>` plays).
    File(web_sys::File),
    /// The bundled sample clip.
    Sample,
}

/// Stops what runs on the stage and adds an example from `source` to class `class`, reporting progress in
/// `trainer.busy` and failures in `trainer.error`. Files are taken one after another.
pub fn add(trainer: Trainer, session: Session, model: Model, class: u32, sources: Vec<Source>) {
    let token = session.begin();
    trainer.error.set(None);
    let task = trainer.begin("Starting…");
    spawn_local(async move {
        for source in sources {
            let name = match &source {
                Source::Camera => "camera".to_owned(),
                Source::File(file) => file.name(),
                Source::Sample => "sample clip".to_owned(),
            };
            let result = example(trainer, task, session, model, &source, &name, &token).await;
            if token.is_cancelled() {
                break;
            }
            match result {
                Ok(example) => trainer.add_example(class, example),
                Err(e) => {
                    trainer.error.set(Some(format!("{name}: {e}")));
                    break;
                }
            }
        }
        trainer.end(task);
        if !token.is_cancelled() {
            session.stop();
        }
    });
}

/// The frames of `source` at 25 fps, then their windows' features.
async fn example(
    trainer: Trainer,
    task: u32,
    session: Session,
    model: Model,
    source: &Source,
    name: &str,
    token: &CancelToken,
) -> Result<Example, String> {
    let grabber = Grabber::new()?;
    let video: HtmlVideoElement = session
        .video_ref
        .get_untracked()
        .ok_or("no video element")?;
    // The model first: a recording made before it could be read would have to wait anyway.
    trainer.say(task, "Loading the model…".into());
    let client = token
        .until_cancelled(model.ready())
        .await
        .ok_or("stopped")??;
    let frames = match source {
        Source::Camera => record(trainer, task, session, &video, &grabber, token).await?,
        Source::Sample => {
            let src = crate::classifier::analysis::SAMPLE_URL;
            read_video(trainer, task, &video, &grabber, src, name, token).await?
        }
        Source::File(file) if file.type_() == "image/gif" => {
            trainer.say(task, format!("Reading {name}…"));
            gif::decode(file, &grabber).await?.frames
        }
        Source::File(file) => {
            let src = web_sys::Url::create_object_url_with_blob(file).map_err(|e| js_text(&e))?;
            let frames = read_video(trainer, task, &video, &grabber, &src, name, token).await;
            let _ = web_sys::Url::revoke_object_url(&src);
            frames?
        }
    };
    if token.is_cancelled() {
        return Err("stopped".into());
    }
    let starts = heads::window_starts(frames.len().min(heads::MAX_EXAMPLE_FRAMES));
    if starts.is_empty() {
        return Err(format!(
            "{:.1} s is too short: an example needs at least {:.2} s ({} frames at 25 fps)",
            frames.len() as f64 / video::FPS,
            heads::WINDOW_FRAMES as f64 / video::FPS,
            heads::WINDOW_FRAMES
        ));
    }
    let thumbnail = frames.get(frames.len() / 2).and_then(|f| thumbnail(f).ok());
    let features = features(trainer, task, &client, &frames, &starts, name, token).await?;
    Ok(Example {
        id: trainer.id(),
        source: name.to_owned(),
        seconds: frames.len() as f64 / video::FPS,
        thumbnail,
        features: Arc::new(features),
    })
}

/// Opens the camera on the stage, counts down, records the trainer's length at 25 fps, closes the camera.
async fn record(
    trainer: Trainer,
    task: u32,
    session: Session,
    video: &HtmlVideoElement,
    grabber: &Grabber,
    token: &CancelToken,
) -> Result<Vec<Frame>, String> {
    trainer.say(task, "Opening the camera…".into());
    let media = camera::open(None).await.map_err(|e| e.message())?;
    if token.is_cancelled() {
        camera::stop(&media);
        return Err("stopped".into());
    }
    video.set_src_object(Some(&media));
    video.set_muted(true);
    let _ = video.play();
    session.stream.set_value(Some(media.clone()));
    session
        .source
        .set(crate::classifier::session::Source::Camera);
    let ended = std::rc::Rc::new(std::cell::Cell::new(false));
    {
        let ended = ended.clone();
        camera::on_ended(&media, move || ended.set(true));
    }
    for left in (1..=COUNTDOWN_S).rev() {
        trainer.say(task, format!("Get ready: recording in {left}…"));
        gloo_timers::future::TimeoutFuture::new(1000).await;
        if token.is_cancelled() {
            return Err("stopped".into());
        }
    }
    let seconds = trainer.seconds.get_untracked();
    let wanted = (f64::from(seconds) * video::FPS) as usize;
    let mut frames = Vec::with_capacity(wanted);
    let mut next_sample = f64::NEG_INFINITY;
    while frames.len() < wanted {
        if ended.get() {
            // Permission withdrawn or the camera unplugged: what was recorded so far is kept when it is enough.
            let ended = camera::CameraError::Ended.message();
            if frames.len() < heads::WINDOW_FRAMES {
                camera::stop(&media);
                return Err(ended);
            }
            trainer.error.set(Some(ended));
            break;
        }
        if token
            .until_cancelled(camera::next_frame(video))
            .await
            .is_none()
        {
            camera::stop(&media);
            return Err("stopped".into());
        }
        let t = video.current_time();
        if t < next_sample {
            continue;
        }
        next_sample = if t - next_sample > 0.2 {
            t + 1.0 / video::FPS
        } else {
            next_sample + 1.0 / video::FPS
        };
        if let Some(frame) = grabber.grab(video)? {
            frames.push(frame);
            trainer.say(
                task,
                format!(
                    "Recording: {:.1} s of {seconds} s",
                    frames.len() as f64 / video::FPS
                ),
            );
        }
    }
    camera::stop(&media);
    session.stream.set_value(None);
    video.set_src_object(None);
    Ok(frames)
}

/// Reads the first [`heads::MAX_EXAMPLE_FRAMES`] frames of the video at `src` on the stage, frame by frame at 25 fps.
async fn read_video(
    trainer: Trainer,
    task: u32,
    video: &HtmlVideoElement,
    grabber: &Grabber,
    src: &str,
    name: &str,
    token: &CancelToken,
) -> Result<Vec<Frame>, String> {
    trainer.say(task, format!("Opening {name}…"));
    let duration = video::open(video, src).await?;
    let count = video::frame_count(duration).min(heads::MAX_EXAMPLE_FRAMES);
    let mut frames = Vec::with_capacity(count);
    for k in 0..count {
        video::seek(video, video::frame_time(k, duration)).await?;
        if token.is_cancelled() {
            return Err("stopped".into());
        }
        frames.push(grabber.grab(video)?.ok_or("the video shows no picture")?);
        if k % 10 == 0 {
            trainer.say(task, format!("Reading {name}: frame {k} of {count}"));
        }
    }
    video.remove_attribute("src").ok();
    video.load();
    Ok(frames)
}

/// The clip feature of each window starting at `starts` (of [`heads::WINDOW_FRAMES`] frames).
async fn features(
    trainer: Trainer,
    task: u32,
    client: &ModelClient,
    frames: &[Frame],
    starts: &[usize],
    name: &str,
    token: &CancelToken,
) -> Result<Vec<Vec<f32>>, String> {
    // A camera window may still be in the worker.
    client.idle().await;
    let mut out = Vec::with_capacity(starts.len());
    let mut in_flight: VecDeque<_> = VecDeque::new();
    for (i, &start) in starts.iter().enumerate() {
        trainer.say(
            task,
            format!(
                "Reading the actions in {name}: window {} of {}",
                i + 1,
                starts.len()
            ),
        );
        let window = frames
            .get(start..start + heads::WINDOW_FRAMES)
            .ok_or("a window runs past the clip")?;
        let (width, height) = window
            .first()
            .map(|f| (f.width, f.height))
            .unwrap_or((0, 0));
        // Copies: windows overlap, and each window's buffers are moved to the worker.
        let buffers = window.iter().map(|f| f.copy().pixels).collect();
        // The worker takes one window at a time: the previous answer first.
        if let Some(answer) = in_flight.pop_front() {
            out.push(feature_of(answer).await?);
        }
        if token.is_cancelled() {
            return Err("stopped".into());
        }
        in_flight.push_back(client.send(buffers, width, height, (false, true))?);
    }
    while let Some(answer) = in_flight.pop_front() {
        out.push(feature_of(answer).await?);
    }
    Ok(out)
}

async fn feature_of(
    answer: futures_channel::oneshot::Receiver<
        Result<crate::classifier::client::WindowResult, String>,
    >,
) -> Result<Vec<f32>, String> {
    crate::classifier::client::answer_of(answer)
        .await?
        .feature
        .ok_or_else(|| "the classifier answered without the clip's features".to_owned())
}

/// A [`THUMBNAIL_WIDTH`]-wide JPEG `data:` URL of `frame`.
fn thumbnail(frame: &Frame) -> Result<String, String> {
    let document = web_sys::window()
        .and_then(|w| w.document())
        .ok_or("no document")?;
    let canvas = |w: u32,
                  h: u32|
     -> Result<(HtmlCanvasElement, web_sys::CanvasRenderingContext2d), String> {
        let canvas: HtmlCanvasElement = document
            .create_element("canvas")
            .map_err(|e| js_text(&e))?
            .unchecked_into();
        canvas.set_width(w);
        canvas.set_height(h);
        let context = canvas
            .get_context("2d")
            .map_err(|e| js_text(&e))?
            .ok_or("no 2D canvas")?
            .unchecked_into();
        Ok((canvas, context))
    };
    let (full, full_context) = canvas(frame.width, frame.height)?;
    let pixels = js_sys::Uint8Array::new(&frame.pixels).to_vec();
    let image = web_sys::ImageData::new_with_u8_clamped_array_and_sh(
        Clamped(&pixels),
        frame.width,
        frame.height,
    )
    .map_err(|e| js_text(&e))?;
    full_context
        .put_image_data(&image, 0.0, 0.0)
        .map_err(|e| js_text(&e))?;
    let height = (THUMBNAIL_WIDTH * frame.height / frame.width.max(1)).max(1);
    let (small, small_context) = canvas(THUMBNAIL_WIDTH, height)?;
    small_context
        .draw_image_with_html_canvas_element_and_dw_and_dh(
            &full,
            0.0,
            0.0,
            f64::from(THUMBNAIL_WIDTH),
            f64::from(height),
        )
        .map_err(|e| js_text(&e))?;
    small
        .to_data_url_with_type("image/jpeg")
        .map_err(|e| js_text(&e))
}
