//! Shared helpers of the GPU tests: the device (or a printed skip, a failure under `cargo xtask test`),
//! random data from a fixed, printed seed, and adapters to the CPU references of `i3d_core::reference`.
#![allow(
    dead_code,
    unused_imports,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::too_many_arguments
)]

use std::sync::OnceLock;

use i3d_core::arch::{ConvSpec, Dims3, PoolSpec, Shape};
use i3d_core::reference;
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
        Err(e @ (Error::NoAdapter(_) | Error::NoWebGpu)) => Err(e.to_string()),
        Err(e) => panic!("an adapter exists but is unusable: {e}"),
    });
    match ctx {
        Ok(ctx) => Some(ctx.clone()),
        Err(reason) => {
            reference::missing(&format!("no wgpu adapter: {reason}"));
            None
        }
    }
}

/// A random generator with a fixed seed per test (a hash of its name), printed so a failure can be
/// replayed; `I3D_GPU_TEST_SEED` overrides it.
pub fn rng(test: &str) -> StdRng {
    let seed = std::env::var("I3D_GPU_TEST_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| {
            // FNV-1a: stable across runs and platforms (std's hasher is not guaranteed to be).
            test.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
                (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3)
            })
        });
    eprintln!("{test}: seed {seed}");
    StdRng::seed_from_u64(seed)
}

/// `len` values uniform in [lo, hi).
pub fn uniform(rng: &mut StdRng, len: usize, lo: f32, hi: f32) -> Vec<f32> {
    (0..len).map(|_| rng.random_range(lo..hi)).collect()
}

pub use i3d_core::reference::{max_abs_diff, rel_l2, same};

/// [`reference::conv3d`] with the conv given by its parts.
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
    let spec = ConvSpec {
        name: "test",
        kernel,
        stride,
        cin: input.c,
        cout,
        relu,
    };
    reference::conv3d(x, input, w, bias, &spec)
}

/// [`reference::max_pool3d`] with the pool given by its parts.
pub fn maxpool_ref(x: &[f32], input: Shape, kernel: Dims3, stride: Dims3) -> (Vec<f32>, Shape) {
    reference::max_pool3d(x, input, &PoolSpec { kernel, stride })
}

/// [`reference::avg_pool3d`].
pub fn avgpool_ref(x: &[f32], input: Shape, kernel: Dims3) -> (Vec<f32>, Shape) {
    reference::avg_pool3d(x, input, kernel)
}
