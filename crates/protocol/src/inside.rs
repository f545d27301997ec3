//! What the `/inside` page is sent, made from an executor's output: the strongest channels of a
//! layer ([`Inspection::new`]) and the first layer's filters ([`FilterTiles::new`]). Pure functions
//! of the values, so that what the page draws is tested against the executor natively.

use i3d_core::anatomy::{channel_means, channel_volume, quantize, strongest_of};
use i3d_core::arch::{Shape, INPUT_SIZE};
use i3d_core::Backend;

use crate::{ChannelView, FilterTiles, Inspection};

/// Largest side of a channel's picture as sent, cells (bigger outputs are averaged down).
pub const MAX_CHANNEL_SIDE: usize = 56;

/// Side of the input frames as sent, pixels (224 averaged over 4×4 blocks).
pub const INPUT_SIDE: usize = 56;

/// The most channels one inspection sends.
pub const MAX_CHANNELS: usize = 32;

impl Inspection {
    /// The `channels` strongest channels (at most [`MAX_CHANNELS`]) of `values` (1×T'×H'×W'×C,
    /// the output of `layer`) with the clip `input` (1×`frames`×224×224×3 in [−1, 1]) it came from.
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        layer: &str,
        backend: Backend,
        values: &[f32],
        shape: Shape,
        input: &[f32],
        frames: usize,
        channels: usize,
        ms: f64,
    ) -> Self {
        let mut volume = [shape.t, shape.h, shape.w];
        let means = channel_means(values, shape);
        let channels = strongest_of(&means, channels.min(MAX_CHANNELS))
            .into_iter()
            .map(|(index, mean)| {
                let (cells, dims) = channel_volume(values, shape, index, MAX_CHANNEL_SIDE);
                volume = dims;
                let (pixels, min, max) = quantize(&cells);
                ChannelView {
                    index,
                    mean,
                    min,
                    max,
                    pixels,
                }
            })
            .collect();
        Inspection {
            layer: layer.to_owned(),
            backend,
            frames,
            shape: [shape.t, shape.h, shape.w, shape.c],
            volume,
            channels,
            means,
            input: input_thumbnails(input, frames),
            input_side: INPUT_SIDE,
            ms,
        }
    }
}

/// The clip's frames (1×`frames`×224×224×3 in [−1, 1]) as `frames`×56×56×3 RGB bytes.
pub fn input_thumbnails(input: &[f32], frames: usize) -> Vec<u8> {
    let f = INPUT_SIZE / INPUT_SIDE;
    let mut out = Vec::with_capacity(frames * INPUT_SIDE * INPUT_SIDE * 3);
    for frame in input.chunks_exact(INPUT_SIZE * INPUT_SIZE * 3).take(frames) {
        for y in 0..INPUT_SIDE {
            for x in 0..INPUT_SIDE {
                for c in 0..3 {
                    let mut sum = 0.0;
                    for dy in 0..f {
                        for dx in 0..f {
                            sum += frame[((y * f + dy) * INPUT_SIZE + x * f + dx) * 3 + c];
                        }
                    }
                    let v = sum / (f * f) as f32;
                    out.push(((v + 1.0) * 127.5).round().clamp(0.0, 255.0) as u8);
                }
            }
        }
    }
    out
}

impl FilterTiles {
    /// The tiles of weights `values` of shape (kt, kh, kw, cin, cout), cin = 3 (RGB).
    pub fn new(values: &[f32], shape: [usize; 5]) -> Self {
        let [kt, kh, kw, cin, cout] = shape;
        let taps = kt * kh * kw * cin;
        let at = |tap: usize, o: usize| values[tap * cout + o];
        let mut rgb = Vec::with_capacity(taps * cout);
        let mut temporal = Vec::with_capacity(cout);
        for o in 0..cout {
            let peak = (0..taps).map(|i| at(i, o).abs()).fold(0.0f32, f32::max);
            let scale = if peak > 0.0 { 127.0 / peak } else { 0.0 };
            rgb.extend(
                (0..taps).map(|i| (128.0 + at(i, o) * scale).round().clamp(0.0, 255.0) as u8),
            );
            // The filter's mean over time is its 2D part; what differs from it, frame to frame,
            // is temporal.
            let plane = kh * kw * cin;
            let (mut total, mut moving) = (0.0f64, 0.0f64);
            for p in 0..plane {
                let mean = (0..kt)
                    .map(|t| f64::from(at(t * plane + p, o)))
                    .sum::<f64>()
                    / kt as f64;
                for t in 0..kt {
                    let v = f64::from(at(t * plane + p, o));
                    total += v * v;
                    moving += (v - mean) * (v - mean);
                }
            }
            temporal.push(if total > 0.0 {
                (moving / total) as f32
            } else {
                0.0
            });
        }
        FilterTiles {
            shape,
            rgb,
            temporal,
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn an_inspection_sends_the_strongest_channels_as_the_executor_computed_them() {
        // 1×2×3×3×4: channel c is c + 0.1·(t·9 + y·3 + x): channel 3 strongest.
        let shape = Shape {
            n: 1,
            t: 2,
            h: 3,
            w: 3,
            c: 4,
        };
        let mut values = Vec::new();
        for p in 0..18 {
            for c in 0..4 {
                values.push(c as f32 + 0.1 * p as f32);
            }
        }
        let input = vec![0.0f32; 9 * 224 * 224 * 3];
        let sent = Inspection::new("Mixed_3b", Backend::Cpu, &values, shape, &input, 9, 2, 12.5);
        assert_eq!(sent.shape, [2, 3, 3, 4]);
        assert_eq!(sent.volume, [2, 3, 3]);
        let indices: Vec<usize> = sent.channels.iter().map(|c| c.index).collect();
        assert_eq!(indices, [3, 2]);
        // Every channel's mean, in channel order: c + 0.1 · 8.5.
        assert_eq!(sent.means.len(), 4);
        for (c, mean) in sent.means.iter().enumerate() {
            assert!((mean - (c as f32 + 0.85)).abs() < 1e-5, "{c}: {mean}");
        }
        let strongest = &sent.channels[0];
        assert_eq!((strongest.min, strongest.max), (3.0, 3.0 + 0.1 * 17.0));
        assert_eq!(strongest.pixels.first(), Some(&0));
        assert_eq!(strongest.pixels.last(), Some(&255));
        assert_eq!(strongest.pixels.len(), 18);
        // The input: 9 frames of 56×56 RGB, 0 → mid grey.
        assert_eq!(sent.input.len(), 9 * 56 * 56 * 3);
        assert!(sent.input.iter().all(|&b| b == 128));
    }

    #[test]
    fn an_inflated_filter_has_no_temporal_share_and_a_trained_one_does() {
        // (kt, kh, kw, cin, cout) = (3, 1, 1, 3, 2): filter 0 the same in every frame (inflated),
        // filter 1 changes sign over time.
        let shape = [3, 1, 1, 3, 2];
        let mut values = vec![0.0f32; 3 * 3 * 2];
        for t in 0..3 {
            for c in 0..3 {
                values[(t * 3 + c) * 2] = 0.5;
                values[(t * 3 + c) * 2 + 1] = if t == 1 { -1.0 } else { 1.0 };
            }
        }
        let tiles = FilterTiles::new(&values, shape);
        assert_eq!(tiles.rgb.len(), 2 * 9);
        assert_eq!(tiles.temporal[0], 0.0);
        assert!(tiles.temporal[1] > 0.5, "{}", tiles.temporal[1]);
        // Filter 0 is its own peak everywhere: 128 + 127.
        assert!(tiles.rgb[..9].iter().all(|&b| b == 255));
        assert_eq!(tiles.rgb[9 + 3], 1, "filter 1, frame 1: −peak");
    }
}
