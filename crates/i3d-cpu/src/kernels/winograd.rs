//! Winograd F(2×2×2, 3×3×3): the stride-1 3×3×3 convolutions (TF `SAME`, one zero on each side)
//! with 8 multiplications per output and input channel instead of 27.
//!
//! Why: the nineteen stride-1 3×3×3 convolutions of I3D (Conv3d_2c_3x3 and the `Conv3d_0b_3x3` of
//! Inception branches 1 and 2) are 70% of its 27.8 GMAC at T = 16. Winograd's minimal filtering
//! (Lavin & Gray, "Fast Algorithms for Convolutional Neural Networks", CVPR 2016) computes a
//! 2×2×2 block of outputs from a 4×4×4 block of inputs with 4³ = 64 products per (cin, cout) pair
//! instead of 8·27 = 216: 3.4× fewer multiply-adds, paid for with additions in the input and output
//! transforms (cheap: ±1 coefficients, vectorised over channels) and a little precision (f32 error
//! stays near 1e-7 relative: F(2, 3) has only 0, ±1 and ±½ coefficients).
//!
//! Which layers: [`preferred`] (the rule, with the measurements it rests on). Layers it picks keep
//! only their transformed weights (64·cin·cout floats, 64/27 ≈ 2.4× the direct weights).
//!
//! How, per chunk of tiles (a tile: the 2×2×2 outputs at (2·tt, 2·th, 2·tw), read from the 4×4×4
//! inputs starting one position before; tiles past an odd edge read zeros and drop their extra
//! outputs):
//! 1. input transform V = Bᵀ d B along t, h and w, written as 64 matrices (tiles × cin);
//! 2. the 64 products M_i = V_i · U_i (tiles × cout) on `gemm` (`kernels::gemm::matmul`: no zero-filled
//!    result, written into recycled scratch), with U = G g Gᵀ the transformed weights (64, cin, cout),
//!    computed once at load;
//! 3. output transform Y = Aᵀ M A (tiles × 8 × cout), then the direct path's epilogue: bias, ReLU,
//!    and the channel slice of each [`Target`] (so the Inception concatenation stays free).
//!
//! Chunks are sized so that V and M stay in cache ([`CHUNK_BUDGET`]); with several threads the
//! chunks are independent tasks on rayon's pool, as in the direct path. Scratch (V, M and Y) comes
//! from the [`Workspace`].
//!
//! The 1-D matrices (F(2, 3)):
//! Bᵀ = [[1, 0, −1, 0], [0, 1, 1, 0], [0, −1, 1, 0], [0, 1, 0, −1]],
//! G = [[1, 0, 0], [½, ½, ½], [½, −½, ½], [0, 0, 1]], Aᵀ = [[1, 1, 1, 0], [0, 1, −1, −1]].

use candle_core::{bail, CpuStorage, Device, InplaceOp1, Layout, Result, Tensor};
use rayon::prelude::*;

use super::gemm::{matmul, Rows};
use super::{
    add_bias, storage_slice_mut, with_slice, FloatPool, Geometry, Target, Workspace, TASK_ROUNDS,
};
use i3d_core::arch::{ConvSpec, Shape};

/// Products per tile: 4×4×4.
const TILE: usize = 64;

/// Upper bound (bytes) of a chunk's V (tiles × 64 × cin) plus M (tiles × 64 × cout).
pub const CHUNK_BUDGET: usize = 4 << 20;

/// Chunks are not cut below this many tiles (the rows of each of the 64 GEMMs).
const MIN_TILES: usize = 16;

/// Whether the Winograd path can run a convolution: kernel 3×3×3, stride 1 (SAME pads 1 + 1).
pub fn applies(spec: &ConvSpec) -> bool {
    spec.kernel == [3, 3, 3] && spec.stride == [1, 1, 1]
}

/// I3D's convolutions that the Winograd path can run ([`applies`]), each with its input (N×T×H×W×cin) for a
/// clip of `frames` frames at 224×224, in the layer table's order: for the tests and the per-convolution
/// benchmark.
pub fn network_convs(
    frames: usize,
) -> std::result::Result<Vec<(ConvSpec, Shape)>, i3d_core::Error> {
    use i3d_core::arch::{Op, I3D_LAYERS};
    let mut shape = Shape::clip(frames);
    let mut found = Vec::new();
    for layer in I3D_LAYERS {
        let convs = match layer.op {
            Op::Conv(spec) => vec![(spec, shape)],
            // Branches 1 and 2 end in a 3×3×3 conv over their 1×1×1 conv's output.
            Op::Inception(block) => vec![
                (
                    block.b1b,
                    Shape {
                        c: block.b1a.cout,
                        ..shape
                    },
                ),
                (
                    block.b2b,
                    Shape {
                        c: block.b2a.cout,
                        ..shape
                    },
                ),
            ],
            _ => Vec::new(),
        };
        found.extend(convs.into_iter().filter(|(spec, _)| applies(spec)));
        shape = layer.output_shape(shape)?;
    }
    Ok(found)
}

/// Input channels from which Winograd beats the direct path (see [`preferred`]).
pub const MIN_CIN: usize = 24;

/// Smallest input plane (H·W) on which Winograd is used (see [`preferred`]): where its gain is worth its
/// memory. In the browser (wasm32) 28×28, natively 14×14.
pub const MIN_PLANE: usize = if cfg!(target_arch = "wasm32") {
    28 * 28
} else {
    14 * 14
};

/// Whether a convolution runs with Winograd rather than the direct im2col GEMM: the rule, applied
/// at load; `plane` is the (H, W) of the layer's input (fixed by the network's 224×224 input).
///
/// Stride-1 3×3×3 convolutions with at least [`MIN_CIN`] input channels on planes of at least
/// [`MIN_PLANE`] positions. In the browser: 4 of I3D's 19 (Conv3d_2c, Mixed_3b b1b, Mixed_3c b1b and
/// b2b), which hold 86% of what Winograd saves in the network (at 1 thread, T = 16: 98 of 114 ms).
/// Natively: those and the 9 on the 14×14 planes (Mixed_4b–4f), 13 in all.
///
/// Memory decides the plane: transformed weights take 64/27 of the direct ones. On the 14×14 planes
/// (Mixed_4b–4f) Winograd is faster too (together 70 → 52 ms at 1 thread), but their weights are
/// large (up to 160 → 320 channels): with them the model's weights grew from 48.4 to 81.2 MiB; with
/// these four only, by 7.7 MB, which the browser's renderer (and a phone) must hold: there the peak
/// while the sample clip is analysed must not grow. Natively the 9 more take the whole network from
/// 335 to 306 ms at 1 thread (`kinetiscope bench`, T = 16, alternated) for 22 MB more peak memory
/// (VmHWM 188 → 210 MB; onnxruntime's CPU provider peaks at 215 MB on the same clip).
///
/// Winograd's 64 GEMMs have K = cin, so with few input channels (Mixed_3b and 4b
/// b2b: 16) the transforms and the 8× larger GEMM result outweigh the saved multiplications. On a
/// 7×7 plane (Mixed_5) a clip of 16 frames has 16 tiles: each of the 64 GEMMs gets 16 rows
/// (8 per thread with 2) while its weight, 2.4× the direct one in all, is packed again, so
/// the direct path's one large GEMM wins.
///
/// Measured per convolution with `examples/conv3x3_bench.rs` (real shapes at T = 16, random
/// weights, release build, 2-core Xeon with AVX-512, shared and noisy; direct ms / Winograd ms):
///
/// | convolution (input → cout) | 1 thread | 2 threads |
/// | --- | --- | --- |
/// | Conv3d_2c (8×56×56×64 → 192) | 123 / 67 | 124 / 99 |
/// | Mixed_3c b1b (8×28×28×128 → 192) | 63 / 33 | 53 / 15 |
/// | Mixed_4f b1b (4×14×14×160 → 320) | 13.5 / 8.0 | 6.8 / 4.5 |
/// | Mixed_4c b2b (4×14×14×24 → 64) | 0.48 / 0.39 | 0.32 / 0.30 |
/// | Mixed_3b b2b (8×28×28×16 → 32), two runs | 2.0 / 2.3, 2.4 / 2.3 | 1.8 / 1.2, 2.2 / 2.0 |
/// | Mixed_4b b2b (4×14×14×16 → 48), two runs | 0.27 / 0.31, 0.29 / 0.25 | 0.27 / 0.35, 0.20 / 0.20 |
/// | Mixed_5c b1b (2×7×7×192 → 384), two runs | 2.3 / 2.0, 2.4 / 2.5 | 2.0 / 2.8, 1.5 / 2.0 |
///
/// and in the whole network (`kinetiscope bench --layers`, all convs of the block), Mixed_5b and
/// 5c took 3.9 and 5.0 ms direct, 4.1 and 5.4 ms with Winograd at 1 thread, 1.9 and 2.6 ms against
/// 2.6 and 3.7 ms at 2.
pub fn preferred(spec: &ConvSpec, plane: (usize, usize)) -> bool {
    applies(spec) && spec.cin >= MIN_CIN && plane.0 * plane.1 >= MIN_PLANE
}

/// Transformed weights U = G g Gᵀ (per axis) of a 3×3×3 convolution: 64 matrices (cin, cout),
/// as one contiguous (64, cin, cout) f32 tensor; matrix i = 16·a + 4·b + c for the (t, h, w)
/// frequencies (a, b, c).
#[derive(Debug, Clone)]
pub struct WinogradWeight {
    /// (64, cin, cout).
    pub u: Tensor,
}

impl WinogradWeight {
    /// From a direct weight (27·cin, cout), rows ordered (dt, dh, dw, ci) (computed in f64).
    pub fn from_direct(weight: &Tensor, cin: usize, cout: usize) -> Result<Self> {
        let w = weight.flatten_all()?.to_vec1::<f32>()?;
        if w.len() != 27 * cin * cout {
            bail!(
                "i3d: a Winograd 3×3×3 weight needs 27·{cin}·{cout} values, got {}",
                w.len()
            )
        }
        // G (4×3) applied to 3 values.
        let g = |x: [f64; 3]| {
            [
                x[0],
                0.5 * (x[0] + x[1] + x[2]),
                0.5 * (x[0] - x[1] + x[2]),
                x[2],
            ]
        };
        let mut u = vec![0.0f32; TILE * cin * cout];
        for ci in 0..cin {
            for co in 0..cout {
                let tap = |dt: usize, dh: usize, dw: usize| {
                    f64::from(w[(((dt * 3 + dh) * 3 + dw) * cin + ci) * cout + co])
                };
                // Along w: [dt][dh][c], then h: [dt][b][c], then t: [a][b][c].
                let mut tw = [[[0.0f64; 4]; 3]; 3];
                for (dt, plane) in tw.iter_mut().enumerate() {
                    for (dh, line) in plane.iter_mut().enumerate() {
                        *line = g([tap(dt, dh, 0), tap(dt, dh, 1), tap(dt, dh, 2)]);
                    }
                }
                let mut th = [[[0.0f64; 4]; 4]; 3];
                for dt in 0..3 {
                    for c in 0..4 {
                        let col = g([tw[dt][0][c], tw[dt][1][c], tw[dt][2][c]]);
                        for b in 0..4 {
                            th[dt][b][c] = col[b];
                        }
                    }
                }
                for b in 0..4 {
                    for c in 0..4 {
                        let col = g([th[0][b][c], th[1][b][c], th[2][b][c]]);
                        for (a, v) in col.iter().enumerate() {
                            u[((a * 16 + b * 4 + c) * cin + ci) * cout + co] = *v as f32;
                        }
                    }
                }
            }
        }
        Ok(WinogradWeight {
            u: Tensor::from_vec(u, (TILE, cin, cout), &Device::Cpu)?,
        })
    }

    /// (cin, cout).
    fn channels(&self) -> Result<(usize, usize)> {
        let (_, cin, cout) = self.u.dims3()?;
        Ok((cin, cout))
    }
}

/// The tile grid of an input: ⌈T/2⌉ × ⌈H/2⌉ × ⌈W/2⌉ tiles per clip.
#[derive(Debug, Clone, Copy)]
struct Tiles {
    input: Shape,
    t: usize,
    h: usize,
    w: usize,
}

impl Tiles {
    fn new(input: Shape) -> Self {
        Tiles {
            input,
            t: input.t.div_ceil(2),
            h: input.h.div_ceil(2),
            w: input.w.div_ceil(2),
        }
    }

    fn count(&self) -> usize {
        self.input.n * self.t * self.h * self.w
    }

    /// (n, tt, th, tw) of tile `g`.
    fn coords(&self, g: usize) -> (usize, usize, usize, usize) {
        let tw = g % self.w;
        let th = (g / self.w) % self.h;
        let tt = (g / (self.w * self.h)) % self.t;
        (g / (self.w * self.h * self.t), tt, th, tw)
    }
}

/// Four disjoint mutable slices of `len` floats at increasing offsets `o` of `buf`.
#[inline(always)]
fn four_mut(buf: &mut [f32], o: [usize; 4], len: usize) -> [&mut [f32]; 4] {
    let (a, rest) = buf[o[0]..].split_at_mut(o[1] - o[0]);
    let (b, rest) = rest.split_at_mut(o[2] - o[1]);
    let (c, d) = rest.split_at_mut(o[3] - o[2]);
    [&mut a[..len], &mut b[..len], &mut c[..len], &mut d[..len]]
}

/// Bᵀ on 4 vectors: y = (d0 − d2, d1 + d2, d2 − d1, d1 − d3), elementwise.
#[inline(always)]
fn bt(d: [&[f32]; 4], y: [&mut [f32]; 4]) {
    let n = y[0].len();
    let (d0, d1, d2, d3) = (&d[0][..n], &d[1][..n], &d[2][..n], &d[3][..n]);
    let [y0, y1, y2, y3] = y;
    let (y1, y2, y3) = (&mut y1[..n], &mut y2[..n], &mut y3[..n]);
    for i in 0..n {
        let (a, b, c, e) = (d0[i], d1[i], d2[i], d3[i]);
        y0[i] = a - c;
        y1[i] = b + c;
        y2[i] = c - b;
        y3[i] = b - e;
    }
}

/// Aᵀ on 4 vectors: y = (m0 + m1 + m2, m1 − m2 − m3), elementwise.
#[inline(always)]
fn at(m: [&[f32]; 4], y0: &mut [f32], y1: &mut [f32]) {
    let n = y0.len();
    let (m0, m1, m2, m3) = (&m[0][..n], &m[1][..n], &m[2][..n], &m[3][..n]);
    let y1 = &mut y1[..n];
    for i in 0..n {
        let (a, b, c, d) = (m0[i], m1[i], m2[i], m3[i]);
        y0[i] = a + b + c;
        y1[i] = b - c - d;
    }
}

/// V (64 × tiles × cin) of tiles `tile0..tile0 + tiles` of the input `x`.
fn input_transform(x: &[f32], grid: Tiles, tile0: usize, nt: usize, v: &mut [f32]) -> Result<()> {
    let Shape { t, h, w, c, .. } = grid.input;
    if v.len() != TILE * nt * c {
        bail!("i3d-winograd-input: scratch of {} floats", v.len())
    }
    let zeros = vec![0.0f32; c];
    // [t][h][w'] after the w pass, [t][h'][w'] after the h pass (64 vectors of c).
    let mut a = vec![0.0f32; TILE * c];
    let mut b = vec![0.0f32; TILE * c];
    let inside = |o: isize, len: usize| o >= 0 && (o as usize) < len;
    for j in 0..nt {
        let (n, tt, th, tw) = grid.coords(tile0 + j);
        let (t0, h0, w0) = (
            2 * tt as isize - 1,
            2 * th as isize - 1,
            2 * tw as isize - 1,
        );
        // w pass, straight from the input.
        for i in 0..4 {
            for k in 0..4 {
                let out = &mut a[(i * 16 + k * 4) * c..(i * 16 + k * 4 + 4) * c];
                let (ti, hi) = (t0 + i as isize, h0 + k as isize);
                if !inside(ti, t) || !inside(hi, h) {
                    out.fill(0.0);
                    continue;
                }
                let line = ((n * t + ti as usize) * h + hi as usize) * w * c;
                let d = |l: isize| {
                    let wi = w0 + l;
                    if inside(wi, w) {
                        &x[line + wi as usize * c..][..c]
                    } else {
                        &zeros[..]
                    }
                };
                let [y0, y1, y2, y3] = four_mut(out, [0, c, 2 * c, 3 * c], c);
                bt([d(0), d(1), d(2), d(3)], [y0, y1, y2, y3]);
            }
        }
        // h pass.
        for i in 0..4 {
            for l in 0..4 {
                let o = |k: usize| (i * 16 + k * 4 + l) * c;
                let d = [
                    &a[o(0)..o(0) + c],
                    &a[o(1)..o(1) + c],
                    &a[o(2)..o(2) + c],
                    &a[o(3)..o(3) + c],
                ];
                bt(d, four_mut(&mut b, [o(0), o(1), o(2), o(3)], c));
            }
        }
        // t pass, into V: matrix (16·a + 4·b + c), row j.
        for k in 0..4 {
            for l in 0..4 {
                let o = |i: usize| (i * 16 + k * 4 + l) * c;
                let d = [
                    &b[o(0)..o(0) + c],
                    &b[o(1)..o(1) + c],
                    &b[o(2)..o(2) + c],
                    &b[o(3)..o(3) + c],
                ];
                let vo = |i: usize| ((i * 16 + k * 4 + l) * nt + j) * c;
                bt(d, four_mut(v, [vo(0), vo(1), vo(2), vo(3)], c));
            }
        }
    }
    Ok(())
}

/// Y (tiles × 8 × cout, outputs ordered (p, q, r) for (t, h, w)) from M (64 × tiles × cout).
fn output_transform(m: &[f32], nt: usize, c: usize, y: &mut [f32]) -> Result<()> {
    if m.len() != TILE * nt * c || y.len() != nt * 8 * c {
        bail!(
            "i3d-winograd-output: M of {} and Y of {} floats for {nt} tiles × {c}",
            m.len(),
            y.len()
        )
    }
    // [p][b][c] after the t pass, [p][q][c] after the h pass.
    let mut s1 = vec![0.0f32; 32 * c];
    let mut s2 = vec![0.0f32; 16 * c];
    for (j, yj) in y.chunks_exact_mut(8 * c).enumerate() {
        for k in 0..16 {
            let mo = |a: usize| ((a * 16 + k) * nt + j) * c;
            let d = [
                &m[mo(0)..mo(0) + c],
                &m[mo(1)..mo(1) + c],
                &m[mo(2)..mo(2) + c],
                &m[mo(3)..mo(3) + c],
            ];
            let (lo, hi) = s1.split_at_mut(16 * c);
            at(d, &mut lo[k * c..(k + 1) * c], &mut hi[k * c..(k + 1) * c]);
        }
        for p in 0..2 {
            for l in 0..4 {
                let o = |k: usize| (p * 16 + k * 4 + l) * c;
                let d = [
                    &s1[o(0)..o(0) + c],
                    &s1[o(1)..o(1) + c],
                    &s1[o(2)..o(2) + c],
                    &s1[o(3)..o(3) + c],
                ];
                let (lo, hi) = s2[p * 8 * c..(p + 1) * 8 * c].split_at_mut(4 * c);
                at(d, &mut lo[l * c..(l + 1) * c], &mut hi[l * c..(l + 1) * c]);
            }
        }
        for pq in 0..4 {
            let s = &s2[pq * 4 * c..(pq + 1) * 4 * c];
            let d = [&s[..c], &s[c..2 * c], &s[2 * c..3 * c], &s[3 * c..]];
            let (y0, y1) = yj[pq * 2 * c..(pq + 1) * 2 * c].split_at_mut(c);
            at(d, y0, y1);
        }
    }
    Ok(())
}

/// The epilogue, as an in-place op on a target's destination: bias, ReLU, and the outputs of `y`
/// (Y of a chunk of tiles: tiles × 8 × cout) inside the clip written at their positions.
struct Scatter<'a> {
    y: &'a [f32],
    cout: usize,
    grid: Tiles,
    tile0: usize,
    bias: &'a [f32],
    relu: bool,
    offset: usize,
    cols: std::ops::Range<usize>,
}

impl InplaceOp1 for Scatter<'_> {
    fn name(&self) -> &'static str {
        "i3d-winograd-epilogue"
    }

    fn cpu_fwd(&self, dst: &mut CpuStorage, dst_l: &Layout) -> Result<()> {
        let (y, cout) = (self.y, self.cout);
        let dst = storage_slice_mut(dst, dst_l)?;
        let Shape { t, h, w, .. } = self.grid.input;
        let &[.., stride] = dst_l.dims() else {
            bail!("i3d-winograd-epilogue: no destination channels")
        };
        let tiles = y.len() / (8 * cout);
        let (offset, cols) = (self.offset, self.cols.clone());
        if cols.end > cout || offset + cols.len() > stride {
            bail!("i3d-winograd-epilogue: channels out of range")
        }
        let bias = &self.bias[cols.clone()];
        for j in 0..tiles {
            let (n, tt, th, tw) = self.grid.coords(self.tile0 + j);
            for (k, out) in y[j * 8 * cout..(j + 1) * 8 * cout]
                .chunks_exact(cout)
                .enumerate()
            {
                let (to, ho, wo) = (2 * tt + k / 4, 2 * th + (k / 2) % 2, 2 * tw + k % 2);
                if to >= t || ho >= h || wo >= w {
                    continue;
                }
                let row = ((n * t + to) * h + ho) * w + wo;
                let d = &mut dst[row * stride + offset..][..cols.len()];
                add_bias(d, &out[cols.clone()], bias, self.relu);
            }
        }
        Ok(())
    }
}

/// The stride-1 3×3×3 TF `SAME` convolution of `x` (N×T×H×W×cin, contiguous f32) with the
/// transformed `weight`, bias (+ ReLU), written into `targets`, like [`super::conv3d`].
pub fn conv3d(
    x: &Tensor,
    geometry: &Geometry,
    weight: &WinogradWeight,
    bias: &[f32],
    relu: bool,
    workspace: &mut Workspace,
    targets: &[Target<'_>],
) -> Result<()> {
    let (cin, cout) = weight.channels()?;
    if geometry.kernel != [3, 3, 3]
        || geometry.stride != [1, 1, 1]
        || geometry.pad != [1, 1, 1]
        || geometry.input.c != cin
        || geometry.output.c != cout
        || bias.len() != cout
    {
        bail!("i3d: Winograd runs stride-1 3×3×3 SAME convolutions only, got {geometry:?}")
    }
    let grid = Tiles::new(geometry.input);
    let total = grid.count();
    let threads = rayon::current_num_threads();
    let budget_tiles = (CHUNK_BUDGET / (TILE * 4 * (cin + cout))).max(MIN_TILES);
    let mut n_chunks = total.div_ceil(budget_tiles);
    if threads > 1 {
        // At least TASK_ROUNDS rounds of `threads` chunks (as in the direct path), while a chunk keeps
        // MIN_TILES tiles; a whole number of rounds.
        let most = (total / MIN_TILES).max(1);
        n_chunks = n_chunks
            .max((TASK_ROUNDS * threads).min(most))
            .div_ceil(threads)
            * threads;
    }
    let per_chunk = total.div_ceil(n_chunks.max(1)).max(1);
    let chunks: Vec<(usize, usize)> = (0..total)
        .step_by(per_chunk)
        .map(|t0| (t0, per_chunk.min(total - t0)))
        .collect();
    // Scratch per chunk in flight: V (64 × tiles × cin) and M (64 × tiles × cout), then Y
    // (tiles × 8 × cout).
    let pool = FloatPool::new(workspace);
    let run_chunk = |&(tile0, tiles): &(usize, usize)| -> Result<()> {
        let mut v = pool.take(TILE * tiles * cin)?;
        with_slice(x, |x| input_transform(x, grid, tile0, tiles, &mut v))?;
        let mut m = pool.take(TILE * tiles * cout)?;
        // The 64 products M_i = V_i · U_i (tiles × cin by cin × cout).
        with_slice(&weight.u, |u| {
            for ((v, u), m) in v
                .chunks_exact(tiles * cin)
                .zip(u.chunks_exact(cin * cout))
                .zip(m.chunks_exact_mut(tiles * cout))
            {
                let lhs = Rows {
                    data: v,
                    rows: tiles,
                    cols: cin,
                    row_stride: cin,
                };
                matmul(lhs, u, m, cout, false)?;
            }
            Ok(())
        })?;
        pool.give(v);
        let mut y = pool.take(tiles * 8 * cout)?;
        output_transform(&m, tiles, cout, &mut y)?;
        pool.give(m);
        for target in targets {
            target.dst.inplace_op1(&Scatter {
                y: &y,
                cout,
                grid,
                tile0,
                bias,
                relu,
                offset: target.offset,
                cols: target.cols.clone(),
            })?;
        }
        pool.give(y);
        Ok(())
    };
    let result = if threads > 1 && chunks.len() > 1 {
        chunks.par_iter().try_for_each(run_chunk)
    } else {
        chunks.iter().try_for_each(run_chunk)
    };
    pool.finish(workspace);
    result
}
