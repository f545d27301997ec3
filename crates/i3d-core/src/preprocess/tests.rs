#![allow(clippy::unwrap_used, clippy::expect_used, clippy::needless_range_loop)]

use super::*;

const GIF: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../../shared/data/video/v_CricketShot_g04_c01_rgb.gif"
);

/// The first frames of the real cricket clip (224×224), RGB u8.
fn cricket_frames(n: usize) -> Vec<Vec<u8>> {
    use image::AnimationDecoder;
    let file = std::io::BufReader::new(std::fs::File::open(GIF).unwrap());
    let decoder = image::codecs::gif::GifDecoder::new(file).unwrap();
    decoder
        .into_frames()
        .take(n)
        .map(|f| {
            let rgba = f.unwrap().into_buffer();
            rgba.pixels().flat_map(|p| [p[0], p[1], p[2]]).collect()
        })
        .collect()
}

/// Independent reference: separable PIL-style bilinear (triangle filter, half-pixel centres,
/// support widened by the scale when shrinking, clamped at the edges and renormalised), in f64,
/// of the full resized image, then the centre crop.
fn reference_pil(rgb: &[u8], w: usize, h: usize) -> Vec<f32> {
    let (rw, rh) = resized_size(w, h);
    let weights = |in_size: usize, out_size: usize| -> Vec<Vec<(usize, f64)>> {
        let scale = in_size as f64 / out_size as f64;
        let support = scale.max(1.0);
        (0..out_size)
            .map(|o| {
                let centre = (o as f64 + 0.5) * scale;
                let lo = (centre - support).floor().max(0.0) as usize;
                let hi = ((centre + support).ceil() as usize).min(in_size);
                let mut ws: Vec<(usize, f64)> = (lo..hi)
                    .map(|x| {
                        let d = (x as f64 + 0.5 - centre).abs() / support;
                        (x, (1.0 - d).max(0.0))
                    })
                    .collect();
                let total: f64 = ws.iter().map(|(_, v)| v).sum();
                ws.iter_mut().for_each(|(_, v)| *v /= total);
                ws
            })
            .collect()
    };
    let wx = weights(w, rw);
    let wy = weights(h, rh);
    let (left, top) = crop_offset((rw, rh));
    let mut out = Vec::with_capacity(FRAME_LEN);
    for oy in top..top + 224 {
        for ox in left..left + 224 {
            for c in 0..3 {
                let mut acc = 0.0f64;
                for &(y, wyv) in &wy[oy] {
                    for &(x, wxv) in &wx[ox] {
                        acc +=
                            wyv * wxv * (f64::from(rgb[(y * w + x) * 3 + c]) / 255.0 * 2.0 - 1.0);
                    }
                }
                out.push(acc as f32);
            }
        }
    }
    out
}

/// Independent reference for enlarging: TensorFlow's `resize_bilinear(half_pixel_centers=True)`
/// formula (sample at (o + 0.5)·scale − 0.5, floor/ceil clamped to the image, linear weights).
fn reference_tf_enlarge(rgb: &[u8], w: usize, h: usize) -> Vec<f32> {
    let (rw, rh) = resized_size(w, h);
    let (left, top) = crop_offset((rw, rh));
    let px = |x: usize, y: usize, c: usize| f64::from(rgb[(y * w + x) * 3 + c]) / 255.0 * 2.0 - 1.0;
    let lerp = |o: usize, in_size: usize, out_size: usize| {
        let s = (o as f64 + 0.5) * in_size as f64 / out_size as f64 - 0.5;
        let f = s.floor();
        let lo = (f.max(0.0) as usize).min(in_size - 1);
        let hi = ((f + 1.0).max(0.0) as usize).min(in_size - 1);
        (lo, hi, s - f)
    };
    let mut out = Vec::with_capacity(FRAME_LEN);
    for oy in top..top + 224 {
        let (y0, y1, fy) = lerp(oy, h, rh);
        for ox in left..left + 224 {
            let (x0, x1, fx) = lerp(ox, w, rw);
            for c in 0..3 {
                let a = px(x0, y0, c) * (1.0 - fx) + px(x1, y0, c) * fx;
                let b = px(x0, y1, c) * (1.0 - fx) + px(x1, y1, c) * fx;
                out.push((a * (1.0 - fy) + b * fy) as f32);
            }
        }
    }
    out
}

fn max_abs_diff(a: &[f32], b: &[f32]) -> f32 {
    assert_eq!(a.len(), b.len());
    a.iter()
        .zip(b)
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f32::max)
}

fn run(rgb: &[u8], w: usize, h: usize, channels: usize) -> Vec<f32> {
    let mut out = vec![0.0; FRAME_LEN];
    Preprocessor::new()
        .frame_into(
            FrameRef {
                width: w,
                height: h,
                channels,
                data: rgb,
            },
            &mut out,
        )
        .unwrap();
    out
}

#[test]
fn enlarging_matches_tensorflow_and_pil_bilinear() {
    // The cricket GIF is 224×224: 256×256, then the centre crop at (16, 16).
    let frame = &cricket_frames(1)[0];
    assert_eq!(resized_size(224, 224), (256, 256));
    assert_eq!(crop_offset((256, 256)), (16, 16));
    let ours = run(frame, 224, 224, 3);
    let tf = reference_tf_enlarge(frame, 224, 224);
    let pil = reference_pil(frame, 224, 224);
    assert!(
        max_abs_diff(&ours, &tf) < 2e-6,
        "vs TF: {}",
        max_abs_diff(&ours, &tf)
    );
    assert!(
        max_abs_diff(&ours, &pil) < 2e-6,
        "vs PIL: {}",
        max_abs_diff(&ours, &pil)
    );
    assert!(ours.iter().all(|v| (-1.0..=1.0).contains(v)));
}

#[test]
fn non_square_enlarging() {
    // A 224×150 landscape crop of the real frame: shorter side 150 → 256, width 382.
    let frame = &cricket_frames(1)[0];
    let (w, h) = (224, 150);
    let sub: Vec<u8> = (0..h)
        .flat_map(|y| frame[(y + 40) * 224 * 3..(y + 40) * 224 * 3 + w * 3].to_vec())
        .collect();
    assert_eq!(resized_size(w, h), (382, 256));
    let ours = run(&sub, w, h, 3);
    assert!(max_abs_diff(&ours, &reference_tf_enlarge(&sub, w, h)) < 2e-6);
    assert!(max_abs_diff(&ours, &reference_pil(&sub, w, h)) < 2e-6);
}

#[test]
fn shrinking_is_antialiased_bilinear() {
    // 448×336 (the real frame enlarged ×2 by pixel repetition, then 336 rows kept) → 341×256.
    let frame = &cricket_frames(1)[0];
    let (w, h) = (448, 336);
    let mut big = Vec::with_capacity(w * h * 3);
    for y in 0..h {
        for x in 0..w {
            let s = ((y / 2 + 28) * 224 + x / 2) * 3;
            big.extend_from_slice(&frame[s..s + 3]);
        }
    }
    assert_eq!(resized_size(w, h), (341, 256));
    assert_eq!(crop_offset((341, 256)), (58, 16));
    let ours = run(&big, w, h, 3);
    let pil = reference_pil(&big, w, h);
    assert!(
        max_abs_diff(&ours, &pil) < 2e-6,
        "vs PIL: {}",
        max_abs_diff(&ours, &pil)
    );
}

#[test]
fn rgba_ignores_alpha() {
    let frame = &cricket_frames(1)[0];
    let rgba: Vec<u8> = frame
        .chunks_exact(3)
        .enumerate()
        .flat_map(|(i, p)| [p[0], p[1], p[2], (i % 251) as u8])
        .collect();
    assert_eq!(run(&rgba, 224, 224, 4), run(frame, 224, 224, 3));
}

#[test]
fn clip_layout_is_nthwc() {
    let frames = cricket_frames(3);
    let refs: Vec<FrameRef> = frames
        .iter()
        .map(|f| FrameRef {
            width: 224,
            height: 224,
            channels: 3,
            data: f,
        })
        .collect();
    let flat = Preprocessor::new().clip(&refs).unwrap();
    assert_eq!(flat.len(), 3 * FRAME_LEN);
    assert_eq!(&flat[2 * FRAME_LEN..], &run(&frames[2], 224, 224, 3)[..]);
}

#[test]
fn bad_frames_are_refused() {
    let mut out = vec![0.0; FRAME_LEN];
    let mut p = Preprocessor::new();
    let data = vec![0u8; 10];
    for (w, h, c) in [(2, 2, 3), (0, 0, 3), (2, 2, 2)] {
        let err = p
            .frame_into(
                FrameRef {
                    width: w,
                    height: h,
                    channels: c,
                    data: &data,
                },
                &mut out,
            )
            .unwrap_err();
        assert!(matches!(err, Error::Frames(_)), "{err}");
    }
}

/// Output frame indices for input frames starting at `starts` (s) in an animation ending at `end` (s).
fn resample(starts: &[f64], end: f64, max_frames: usize) -> Vec<usize> {
    let mut resampler = Resampler::new(max_frames);
    let mut out = Vec::new();
    for (i, next) in starts.iter().skip(1).enumerate() {
        out.extend(std::iter::repeat_n(i, resampler.until(*next)));
    }
    out.extend(std::iter::repeat_n(starts.len() - 1, resampler.finish(end)));
    out
}

#[test]
fn resampling_to_25_fps_follows_frame_times() {
    let at = |fps: f64, n: usize| (0..n).map(|i| i as f64 / fps).collect::<Vec<_>>();
    // 25 fps in, 25 fps out (the cricket GIF: 79 frames, 40 ms each, 3.16 s).
    assert_eq!(
        resample(&at(25.0, 79), 3.16, 750),
        (0..79).collect::<Vec<_>>()
    );
    // 50 fps: every other frame.
    assert_eq!(resample(&at(50.0, 10), 0.2, 750), vec![0, 2, 4, 6, 8]);
    // 10 fps: each frame shown for 2 or 3 output frames, the last one for its whole 0.1 s.
    assert_eq!(
        resample(&at(10.0, 5), 0.5, 750),
        vec![0, 0, 0, 1, 1, 2, 2, 2, 3, 3, 4, 4]
    );
    // 30 fps, 1 s: 25 frames, the frame shown at k/25.
    let picked = resample(&at(30.0, 30), 1.0, 750);
    assert_eq!(picked.len(), 25);
    assert_eq!(&picked[..6], &[0, 1, 2, 3, 4, 6]);
    // Irregular delays.
    assert_eq!(
        resample(&[0.0, 0.05, 0.06, 0.2], 0.24, 750),
        vec![0, 0, 2, 2, 2, 3]
    );
    // A single still frame lasting 1000 s: capped; an instant one: one frame.
    assert_eq!(resample(&[0.0], 1000.0, 750).len(), 750);
    assert_eq!(resample(&[0.0], 0.0, 750), vec![0]);
    // The cap holds mid-stream too, and says so.
    let mut capped = Resampler::new(3);
    assert_eq!(capped.until(1.0), 3);
    assert!(capped.is_full());
    assert_eq!(capped.until(2.0) + capped.finish(3.0), 0);
}

#[test]
fn oversized_frames_are_refused_before_any_allocation() {
    let mut out = vec![0.0; FRAME_LEN];
    let mut p = Preprocessor::new();
    // A 320×65535 strip (84 MB as RGBA) and a size whose byte count overflows 32 bits: refused by
    // their size alone, with the size in the message.
    for (w, h) in [(320, 65_535), (65_536, 65_536), (usize::MAX, 2)] {
        let err = p
            .frame_into(
                FrameRef {
                    width: w,
                    height: h,
                    channels: 4,
                    data: &[],
                },
                &mut out,
            )
            .unwrap_err()
            .to_string();
        assert!(err.contains(&format!("{w}×{h}")), "{err}");
        assert!(err.contains("are refused"), "{err}");
    }
    assert_eq!(check_frame_size(3840, 2160).unwrap(), 3840 * 2160);
    assert_eq!(check_frame_size(2160, 3840).unwrap(), 3840 * 2160);
    assert!(check_frame_size(4097, 100).is_err());
}
