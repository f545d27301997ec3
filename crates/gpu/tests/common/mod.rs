//! Shared helpers of the GPU tests: the device (or a printed skip), fresh random data with a
//! printed seed, simple CPU references, and error measures.
#![allow(
    dead_code,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::too_many_arguments
)]

use std::sync::OnceLock;

use i3d::arch::{same_padding, Dims3, Shape};
use i3d_gpu::{Error, GpuContext};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

/// The shared workspace root's sibling with real data and fixtures.
pub const SHARED: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared");

/// The device, created once per test binary; `None` (after printing why) when no adapter exists.
pub fn context() -> Option<GpuContext> {
    static CTX: OnceLock<Result<GpuContext, String>> = OnceLock::new();
    let ctx = CTX.get_or_init(|| match pollster::block_on(GpuContext::new()) {
        Ok(ctx) => {
            eprintln!("adapter: {}", ctx.summary);
            Ok(ctx)
        }
        Err(e @ Error::NoAdapter(_)) => Err(e.to_string()),
        Err(e) => panic!("an adapter exists but is unusable: {e}"),
    });
    match ctx {
        Ok(ctx) => Some(ctx.clone()),
        Err(reason) => {
            eprintln!("skipping: {reason}");
            None
        }
    }
}

/// A random generator with a fresh seed, printed so a failure can be replayed
/// (set `I3D_GPU_TEST_SEED` to replay).
pub fn rng(test: &str) -> StdRng {
    let seed = std::env::var("I3D_GPU_TEST_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| rand::rng().random());
    eprintln!("{test}: seed {seed}");
    StdRng::seed_from_u64(seed)
}

/// `len` values uniform in [lo, hi).
pub fn uniform(rng: &mut StdRng, len: usize, lo: f32, hi: f32) -> Vec<f32> {
    (0..len).map(|_| rng.random_range(lo..hi)).collect()
}

/// ‖a − b‖ / ‖b‖ in f64.
pub fn rel_l2(a: &[f32], b: &[f32]) -> f64 {
    assert_eq!(a.len(), b.len(), "lengths differ");
    let (mut num, mut den) = (0.0f64, 0.0f64);
    for (&x, &y) in a.iter().zip(b) {
        num += (f64::from(x) - f64::from(y)).powi(2);
        den += f64::from(y).powi(2);
    }
    (num / den.max(f64::MIN_POSITIVE)).sqrt()
}

/// Largest |a − b|.
pub fn max_abs_diff(a: &[f32], b: &[f32]) -> f32 {
    a.iter()
        .zip(b)
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f32::max)
}

/// TF SAME output extents and padding before, per axis.
pub fn same(input: Shape, kernel: Dims3, stride: Dims3) -> ([usize; 3], [usize; 3]) {
    let mut out = [0; 3];
    let mut pad = [0; 3];
    for a in 0..3 {
        let (o, before, _) = same_padding(input.thw()[a], kernel[a], stride[a]);
        out[a] = o;
        pad[a] = before;
    }
    (out, pad)
}

/// Direct TF SAME conv3d: x N×T×H×W×cin, w (kt,kh,kw,cin,cout), bias, optional ReLU → N×To×Ho×Wo×cout.
pub fn conv3d_ref(
    x: &[f32],
    input: Shape,
    w: &[f32],
    bias: &[f32],
    kernel: Dims3,
    stride: Dims3,
    cout: usize,
    relu: bool,
) -> (Vec<f32>, Shape) {
    let (o, pad) = same(input, kernel, stride);
    let Shape { n, t, h, w: wd, c } = input;
    let out = Shape {
        n,
        t: o[0],
        h: o[1],
        w: o[2],
        c: cout,
    };
    let mut y = vec![0.0f32; out.elements()];
    for b in 0..n {
        for to in 0..o[0] {
            for ho in 0..o[1] {
                for wo in 0..o[2] {
                    let mut acc: Vec<f64> = bias.iter().map(|&v| f64::from(v)).collect();
                    for dt in 0..kernel[0] {
                        let ti = (to * stride[0] + dt) as isize - pad[0] as isize;
                        if ti < 0 || ti >= t as isize {
                            continue;
                        }
                        for dh in 0..kernel[1] {
                            let hi = (ho * stride[1] + dh) as isize - pad[1] as isize;
                            if hi < 0 || hi >= h as isize {
                                continue;
                            }
                            for dw in 0..kernel[2] {
                                let wi = (wo * stride[2] + dw) as isize - pad[2] as isize;
                                if wi < 0 || wi >= wd as isize {
                                    continue;
                                }
                                let xi = (((b * t + ti as usize) * h + hi as usize) * wd
                                    + wi as usize)
                                    * c;
                                let tap = (dt * kernel[1] + dh) * kernel[2] + dw;
                                for ci in 0..c {
                                    let xv = f64::from(x[xi + ci]);
                                    let wr = &w[(tap * c + ci) * cout..][..cout];
                                    for (a, &wv) in acc.iter_mut().zip(wr) {
                                        *a += xv * f64::from(wv);
                                    }
                                }
                            }
                        }
                    }
                    let yi = (((b * o[0] + to) * o[1] + ho) * o[2] + wo) * cout;
                    for (d, a) in y[yi..yi + cout].iter_mut().zip(acc) {
                        *d = if relu { a.max(0.0) as f32 } else { a as f32 };
                    }
                }
            }
        }
    }
    (y, out)
}

/// Direct TF SAME max-pool (−∞ padding).
pub fn maxpool_ref(x: &[f32], input: Shape, kernel: Dims3, stride: Dims3) -> (Vec<f32>, Shape) {
    let (o, pad) = same(input, kernel, stride);
    let Shape { n, t, h, w, c } = input;
    let out = Shape {
        n,
        t: o[0],
        h: o[1],
        w: o[2],
        c,
    };
    let mut y = vec![f32::NEG_INFINITY; out.elements()];
    for b in 0..n {
        for to in 0..o[0] {
            for ho in 0..o[1] {
                for wo in 0..o[2] {
                    let yi = (((b * o[0] + to) * o[1] + ho) * o[2] + wo) * c;
                    for dt in 0..kernel[0] {
                        let ti = (to * stride[0] + dt) as isize - pad[0] as isize;
                        for dh in 0..kernel[1] {
                            let hi = (ho * stride[1] + dh) as isize - pad[1] as isize;
                            for dw in 0..kernel[2] {
                                let wi = (wo * stride[2] + dw) as isize - pad[2] as isize;
                                if ti < 0
                                    || hi < 0
                                    || wi < 0
                                    || ti >= t as isize
                                    || hi >= h as isize
                                    || wi >= w as isize
                                {
                                    continue;
                                }
                                let xi = (((b * t + ti as usize) * h + hi as usize) * w
                                    + wi as usize)
                                    * c;
                                for ci in 0..c {
                                    y[yi + ci] = y[yi + ci].max(x[xi + ci]);
                                }
                            }
                        }
                    }
                }
            }
        }
    }
    (y, out)
}

/// Direct VALID stride-1 average pool.
pub fn avgpool_ref(x: &[f32], input: Shape, kernel: Dims3) -> (Vec<f32>, Shape) {
    let Shape { n, t, h, w, c } = input;
    let out = Shape {
        n,
        t: t + 1 - kernel[0],
        h: h + 1 - kernel[1],
        w: w + 1 - kernel[2],
        c,
    };
    let mut y = vec![0.0f32; out.elements()];
    let count = (kernel[0] * kernel[1] * kernel[2]) as f64;
    for b in 0..n {
        for to in 0..out.t {
            for ho in 0..out.h {
                for wo in 0..out.w {
                    let yi = (((b * out.t + to) * out.h + ho) * out.w + wo) * c;
                    for ci in 0..c {
                        let mut s = 0.0f64;
                        for dt in 0..kernel[0] {
                            for dh in 0..kernel[1] {
                                for dw in 0..kernel[2] {
                                    let xi = (((b * t + to + dt) * h + ho + dh) * w + wo + dw) * c;
                                    s += f64::from(x[xi + ci]);
                                }
                            }
                        }
                        y[yi + ci] = (s / count) as f32;
                    }
                }
            }
        }
    }
    (y, out)
}
