//! Taking frames off a `<video>` element (camera or file) as RGBA pixels, and the ring buffer they
//! wait in until the model is free.

use std::collections::VecDeque;

use js_sys::ArrayBuffer;
use wasm_bindgen::JsCast;
use web_sys::{CanvasRenderingContext2d, HtmlCanvasElement, HtmlVideoElement};

use i3d_core::preprocess::check_frame_size;

use crate::js::js_text;

/// Frames are captured at their own size up to this shorter side; larger sources are scaled down
/// by the browser to a shorter side of [`SCALED_SHORT_SIDE`] first (the model's preprocessing
/// resizes to 256 anyway), which keeps a 64-frame window of an HD camera near 30 MB instead of 500.
pub const MAX_NATIVE_SHORT_SIDE: u32 = 320;
/// See [`MAX_NATIVE_SHORT_SIDE`].
pub const SCALED_SHORT_SIDE: u32 = 256;

/// One captured frame.
#[derive(Clone)]
pub struct Frame {
    /// RGBA, `width`·`height`·4 bytes.
    pub pixels: ArrayBuffer,
    /// Pixels across.
    pub width: u32,
    /// Pixels down.
    pub height: u32,
}

impl Frame {
    /// A copy with its own buffer (the original stays usable after the copy is transferred).
    pub fn copy(&self) -> Frame {
        Frame {
            pixels: self.pixels.slice(0),
            width: self.width,
            height: self.height,
        }
    }
}

/// The capture size for a `width`×`height` source, or why it is refused: a capture larger than the
/// model's pre-processing accepts ([`check_frame_size`]: 4K UHD in pixels, 4096 on a side) is
/// refused before a frame is drawn, so a 320×65535 video never takes 84 MB a frame (an 8K video is
/// captured at 455×256 and passes).
pub fn capture_size(width: u32, height: u32) -> Result<(u32, u32), String> {
    let short = width.min(height);
    let size = if short <= MAX_NATIVE_SHORT_SIDE || short == 0 {
        (width, height)
    } else {
        let scale = f64::from(SCALED_SHORT_SIDE) / f64::from(short);
        (
            ((f64::from(width) * scale).round() as u32).max(1),
            ((f64::from(height) * scale).round() as u32).max(1),
        )
    };
    check_frame_size(size.0 as usize, size.1 as usize).map_err(|e| e.to_string())?;
    Ok(size)
}

/// Draws video frames into an off-screen canvas and reads their pixels.
pub struct Grabber {
    canvas: HtmlCanvasElement,
    context: CanvasRenderingContext2d,
}

impl Grabber {
    /// A grabber with its own canvas.
    pub fn new() -> Result<Self, String> {
        let document = web_sys::window()
            .and_then(|w| w.document())
            .ok_or("no document")?;
        let canvas: HtmlCanvasElement = document
            .create_element("canvas")
            .map_err(|e| js_text(&e))?
            .unchecked_into();
        let options = js_sys::Object::new();
        // Many reads back: ask for a CPU-side canvas.
        let _ = js_sys::Reflect::set(&options, &"willReadFrequently".into(), &true.into());
        let context: CanvasRenderingContext2d = canvas
            .get_context_with_context_options("2d", &options)
            .map_err(|e| js_text(&e))?
            .ok_or("this browser has no 2D canvas")?
            .unchecked_into();
        Ok(Self { canvas, context })
    }

    /// A frame of any canvas image source (`VideoFrame`, image, …) of `width`×`height` pixels.
    pub fn grab_source(
        &self,
        source: &wasm_bindgen::JsValue,
        width: u32,
        height: u32,
    ) -> Result<Frame, String> {
        let (width, height) = capture_size(width, height)?;
        self.canvas.set_width(width);
        self.canvas.set_height(height);
        // Through reflection: web-sys's `drawImage(VideoFrame, …)` binding is behind its unstable APIs.
        let draw: js_sys::Function = js_sys::Reflect::get(&self.context, &"drawImage".into())
            .map_err(|e| js_text(&e))?
            .unchecked_into();
        let args = js_sys::Array::of5(
            source,
            &0.0.into(),
            &0.0.into(),
            &f64::from(width).into(),
            &f64::from(height).into(),
        );
        draw.apply(&self.context, &args).map_err(|e| js_text(&e))?;
        self.read(width, height)
    }

    fn read(&self, width: u32, height: u32) -> Result<Frame, String> {
        let image = self
            .context
            .get_image_data(0.0, 0.0, f64::from(width), f64::from(height))
            .map_err(|e| js_text(&e))?;
        let pixels: js_sys::Uint8ClampedArray = js_sys::Reflect::get(&image, &"data".into())
            .map_err(|e| js_text(&e))?
            .unchecked_into();
        Ok(Frame {
            pixels: pixels.buffer(),
            width,
            height,
        })
    }

    /// The video's current frame, or `None` while it has no picture yet.
    pub fn grab(&self, video: &HtmlVideoElement) -> Result<Option<Frame>, String> {
        let (vw, vh) = (video.video_width(), video.video_height());
        if vw == 0 || vh == 0 {
            return Ok(None);
        }
        let (width, height) = capture_size(vw, vh)?;
        if self.canvas.width() != width || self.canvas.height() != height {
            self.canvas.set_width(width);
            self.canvas.set_height(height);
        }
        self.context
            .draw_image_with_html_video_element_and_dw_and_dh(
                video,
                0.0,
                0.0,
                f64::from(width),
                f64::from(height),
            )
            .map_err(|e| js_text(&e))?;
        self.read(width, height).map(Some)
    }
}

/// The last `capacity` frames.
#[derive(Default)]
pub struct FrameRing {
    frames: VecDeque<Frame>,
    capacity: usize,
}

impl FrameRing {
    /// An empty ring holding up to `capacity` frames.
    pub fn new(capacity: usize) -> Self {
        Self {
            frames: VecDeque::with_capacity(capacity),
            capacity,
        }
    }

    /// Adds a frame, dropping the oldest when full or when the size changed (camera switch).
    pub fn push(&mut self, frame: Frame) {
        if let Some(first) = self.frames.front() {
            if (first.width, first.height) != (frame.width, frame.height) {
                self.frames.clear();
            }
        }
        if self.frames.len() == self.capacity {
            self.frames.pop_front();
        }
        self.frames.push_back(frame);
    }

    /// Frames held.
    pub fn len(&self) -> usize {
        self.frames.len()
    }

    /// Whether empty.
    pub fn is_empty(&self) -> bool {
        self.frames.is_empty()
    }

    /// Whether a whole window is there.
    pub fn is_full(&self) -> bool {
        self.frames.len() >= self.capacity && self.capacity > 0
    }

    /// Takes every frame out (their buffers are about to be transferred to the worker).
    pub fn take(&mut self) -> Vec<Frame> {
        self.frames.drain(..).collect()
    }

    /// Copies of the newest `n` frames (at most as many as held), oldest first: the ring keeps its
    /// own, so that overlapping windows share frames (the copies' buffers go to the worker).
    pub fn latest(&self, n: usize) -> Vec<Frame> {
        let skip = self.frames.len().saturating_sub(n);
        self.frames.iter().skip(skip).map(Frame::copy).collect()
    }

    /// Changes the window length (keeps the newest frames).
    pub fn resize(&mut self, capacity: usize) {
        self.capacity = capacity;
        while self.frames.len() > capacity {
            self.frames.pop_front();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn small_sources_keep_their_size_large_ones_shrink_to_256() {
        assert_eq!(capture_size(320, 240), Ok((320, 240)));
        assert_eq!(capture_size(224, 224), Ok((224, 224)));
        assert_eq!(capture_size(1280, 720), Ok((455, 256)));
        assert_eq!(capture_size(720, 1280), Ok((256, 455)));
        assert_eq!(capture_size(3840, 2160), Ok((455, 256)));
    }

    #[test]
    fn sources_larger_than_pre_processing_takes_are_refused_before_capture() {
        let strip = capture_size(320, 65_535);
        assert!(
            strip.as_ref().is_err_and(|e| e.contains("320×65535")),
            "{strip:?}"
        );
        assert!(
            capture_size(300, 5000).is_err(),
            "captured as is, 5000 pixels down"
        );
        // Large but ordinary videos are scaled down first and pass.
        assert_eq!(capture_size(7680, 4320), Ok((455, 256)));
        assert_eq!(capture_size(4096, 4096), Ok((256, 256)));
    }
}
