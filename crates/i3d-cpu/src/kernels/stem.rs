//! Convolutions over few input channels, such as I3D's stem (Conv3d_1a_7x7: 7×7×7, stride 2, 3 → 64
//! channels), without an im2col matrix.
//!
//! Why: the direct path's patch rows are kt·kh·kw·cin floats wide (1029 for the stem), so at T = 16 its
//! im2col writes 100,352 × ~900 floats (~360 MB) for a GEMM with only 64 columns, and the GEMM packs them
//! once more: the stem ran at 65 GFLOP/s against 110–190 for the rest of the network, 40% of the
//! network's time at 1 thread.
//!
//! How: *bands*. For output row `ho` and input frame `t`, the kh input rows `ho·sh − ph + dh` (dh < kh) are
//! copied interleaved, as `band[slot][dh][c]` (slot = padded column: input column slot − pw, zeros
//! outside the image). The taps of output `wo`, ordered (dw, dh, c), are then the kw·kh·cin consecutive
//! floats from slot wo·sw: every output of the row is a row of one matrix with row stride sw·kh·cin, its
//! rows overlapping, read in place by `kernels::gemm::matmul`. The bands of consecutive output rows lie
//! back to back with a slot count that is a multiple of sw, so a block of B output rows is a single
//! matrix of B·slots/sw rows (the few rows per band past the last output are computed and dropped).
//! Each output frame is Σ over its time taps dt (those inside the clip) of (the bands of input frame
//! to·st − pt + dt) × W_dt, W_dt the (kw·kh·cin, cout) weight of tap dt: kt GEMMs with K = kw·kh·cin
//! (147 for the stem), accumulated in a small result, then bias and ReLU into the output.
//!
//! The bands copy each input float kh times (7 for the stem; the im2col copied it about 49·kt/st³
//! times). A task (a block of output rows of one clip, for every output frame) builds its bands for
//! all input frames once: T·B·slots·kh·cin floats (2.5 MB for the stem at T = 16, B = 8).

use candle_core::{bail, CpuStorage, InplaceOp2, Layout, Result, Tensor};
use rayon::prelude::*;

use super::gemm::{matmul, Rows};
use super::{add_bias, storage_slice, storage_slice_mut, FloatPool, Geometry, Target, Workspace};
use i3d_core::arch::ConvSpec;

/// Most input channels for which the bands are used (RGB, or RGB plus one).
pub const MAX_CIN: usize = 4;

/// Output rows per task (fewer when the clip has too few rows to give each thread TASK_ROUNDS tasks).
const BLOCK_ROWS: usize = 8;

/// Whether a convolution runs on bands rather than the direct im2col GEMM: a spatial kernel over
/// at most [`MAX_CIN`] input channels, i.e. I3D's stem (measured: 188 → 90 ms natively, 565 → 511 ms
/// in wasm, one thread, T = 16). Layers with more channels have K in the hundreds per (dt, dh) tap
/// already, where the im2col costs little next to the GEMM; the 3×3×3 ones over 16 or 24 channels
/// were not measured on bands, so they stay on the direct path.
pub fn preferred(spec: &ConvSpec) -> bool {
    let [_, kh, kw] = spec.kernel;
    kh * kw > 1 && spec.cin <= MAX_CIN
}

/// A banded convolution's weight: for each time tap dt, a contiguous (kw·kh·cin, cout) matrix with rows
/// ordered (dw, dh, ci), as the bands order their taps.
#[derive(Debug, Clone)]
pub struct StemWeight {
    /// kt × (kw·kh·cin) × cout floats.
    pub w: Vec<f32>,
    /// (kt, kh, kw).
    kernel: [usize; 3],
    cin: usize,
    cout: usize,
}

impl StemWeight {
    /// From a direct weight (kt·kh·kw·cin, cout), rows ordered (dt, dh, dw, ci).
    pub fn from_direct(
        weight: &Tensor,
        kernel: [usize; 3],
        cin: usize,
        cout: usize,
    ) -> Result<Self> {
        let direct = weight.flatten_all()?.to_vec1::<f32>()?;
        let [kt, kh, kw] = kernel;
        if direct.len() != kt * kh * kw * cin * cout {
            bail!(
                "i3d: a {kernel:?} weight over {cin} → {cout} channels needs {} values, got {}",
                kt * kh * kw * cin * cout,
                direct.len()
            )
        }
        let mut w = vec![0.0f32; direct.len()];
        for dt in 0..kt {
            for dh in 0..kh {
                for dw in 0..kw {
                    let from = (((dt * kh + dh) * kw + dw) * cin) * cout;
                    let to = (((dt * kw + dw) * kh + dh) * cin) * cout;
                    w[to..to + cin * cout].copy_from_slice(&direct[from..from + cin * cout]);
                }
            }
        }
        Ok(StemWeight {
            w,
            kernel,
            cin,
            cout,
        })
    }

    /// Floats held.
    pub fn len(&self) -> usize {
        self.w.len()
    }

    /// Whether the weight holds no floats.
    pub fn is_empty(&self) -> bool {
        self.w.is_empty()
    }

    /// The (kw·kh·cin, cout) matrix of time tap `dt`.
    fn tap(&self, dt: usize) -> &[f32] {
        let k = self.kernel[1] * self.kernel[2] * self.cin;
        &self.w[dt * k * self.cout..(dt + 1) * k * self.cout]
    }
}

/// How a clip's output rows are cut into tasks and how its bands are laid out.
#[derive(Debug, Clone, Copy)]
struct Bands {
    g: Geometry,
    /// Output rows per task.
    block: usize,
    /// Slots per band: ≥ (Wo − 1)·sw + kw, a multiple of sw.
    slots: usize,
}

impl Bands {
    fn new(g: Geometry, threads: usize) -> Self {
        let [_, _, kw] = g.kernel;
        let sw = g.stride[2];
        let slots = ((g.output.w - 1) * sw + kw).next_multiple_of(sw);
        let clips = g.output.n;
        // Blocks of at most BLOCK_ROWS rows, at least TASK_ROUNDS tasks per thread where the rows allow.
        let wanted = (super::TASK_ROUNDS * threads).div_ceil(clips).max(1);
        let block = g.output.h.div_ceil(wanted).clamp(1, BLOCK_ROWS);
        Bands { g, block, slots }
    }

    /// Floats of one band: slots · kh · cin.
    fn band(&self) -> usize {
        self.slots * self.g.kernel[1] * self.g.input.c
    }

    /// Floats of a task's bands (all input frames).
    fn task_floats(&self) -> usize {
        self.g.input.t * self.block * self.band()
    }

    /// Virtual matrix rows per band: slots / sw.
    fn rows_per_band(&self) -> usize {
        self.slots / self.g.stride[2]
    }

    /// Writes the bands of output rows `ho0..ho0 + rows` of clip `n`, for every input frame, into `buf`
    /// ([t][row][slot][dh][c]; `block` rows per frame).
    fn fill(&self, x: &[f32], n: usize, ho0: usize, rows: usize, buf: &mut [f32]) {
        let g = &self.g;
        let (t, h, w, c) = (g.input.t, g.input.h, g.input.w, g.input.c);
        let kh = g.kernel[1];
        let (sh, ph, pw) = (g.stride[1], g.pad[1], g.pad[2]);
        let band = self.band();
        for ti in 0..t {
            for r in 0..rows {
                let out = &mut buf[(ti * self.block + r) * band..][..band];
                for dh in 0..kh {
                    let hi = ((ho0 + r) * sh + dh) as isize - ph as isize;
                    if hi < 0 || hi >= h as isize {
                        for slot in out.chunks_exact_mut(kh * c) {
                            slot[dh * c..(dh + 1) * c].fill(0.0);
                        }
                        continue;
                    }
                    let line = &x[((n * t + ti) * h + hi as usize) * w * c..][..w * c];
                    for (s, slot) in out.chunks_exact_mut(kh * c).enumerate() {
                        let d = &mut slot[dh * c..(dh + 1) * c];
                        match s.checked_sub(pw) {
                            Some(wi) if wi < w => d.copy_from_slice(&line[wi * c..(wi + 1) * c]),
                            _ => d.fill(0.0),
                        }
                    }
                }
            }
        }
    }
}

/// In-place op: the banded convolution of the input (src) into the channels `offset..` of the
/// destination activation (dst).
struct BandedConv<'a> {
    bands: Bands,
    weight: &'a StemWeight,
    bias: &'a [f32],
    relu: bool,
    offset: usize,
    cols: std::ops::Range<usize>,
    pool: &'a FloatPool,
}

impl BandedConv<'_> {
    /// One task: output rows `ho0..ho0 + rows` of clip `n`, every output frame; `frames[to]` holds
    /// those rows of frame `to` (rows × Wo positions of `stride` floats).
    fn task(
        &self,
        x: &[f32],
        n: usize,
        ho0: usize,
        frames: &mut [&mut [f32]],
        stride: usize,
    ) -> Result<()> {
        let Bands { g, block, .. } = self.bands;
        let rows = frames
            .first()
            .map_or(0, |f| f.len() / (g.output.w * stride));
        let per_band = self.bands.rows_per_band();
        let wo_count = g.output.w;
        let m = (rows - 1) * per_band + wo_count;
        let cout = self.weight.cout;
        let [_, kh, kw] = g.kernel;
        let k = kw * kh * g.input.c;
        let band_frame = block * self.bands.band();
        let mut bands = self.pool.take(self.bands.task_floats())?;
        let mut res = self.pool.take(m * cout)?;
        self.bands.fill(x, n, ho0, rows, &mut bands);
        let bias = &self.bias[self.cols.clone()];
        for (to, out) in frames.iter_mut().enumerate() {
            let (lo, hi) = g.time_taps(to);
            for dt in lo..hi {
                let ti = to * g.stride[0] + dt - g.pad[0];
                let lhs = Rows {
                    data: &bands[ti * band_frame..(ti + 1) * band_frame],
                    rows: m,
                    cols: k,
                    row_stride: g.stride[2] * kh * g.input.c,
                };
                matmul(
                    lhs,
                    self.weight.tap(dt),
                    &mut res[..m * cout],
                    cout,
                    dt > lo,
                )?;
            }
            if lo == hi {
                res.fill(0.0);
            }
            for r in 0..rows {
                for wo in 0..wo_count {
                    let src = &res[(r * per_band + wo) * cout..][self.cols.clone()];
                    let d = &mut out[(r * wo_count + wo) * stride + self.offset..][..src.len()];
                    add_bias(d, src, bias, self.relu);
                }
            }
        }
        self.pool.give(bands);
        self.pool.give(res);
        Ok(())
    }
}

impl InplaceOp2 for BandedConv<'_> {
    fn name(&self) -> &'static str {
        "i3d-banded-conv"
    }

    fn cpu_fwd(
        &self,
        dst: &mut CpuStorage,
        dst_l: &Layout,
        src: &CpuStorage,
        src_l: &Layout,
    ) -> Result<()> {
        let x = storage_slice(src, src_l)?;
        let dst = storage_slice_mut(dst, dst_l)?;
        let g = self.bands.g;
        let out = g.output;
        let &[.., stride] = dst_l.dims() else {
            bail!("i3d-banded-conv: no destination channels")
        };
        if self.cols.end > self.weight.cout || self.offset + self.cols.len() > stride {
            bail!("i3d-banded-conv: channels out of range")
        }
        if dst.len() != out.positions() * stride {
            bail!(
                "i3d-banded-conv: destination of {} floats for {out:?}",
                dst.len()
            )
        }
        if x.len() != g.input.elements() {
            bail!(
                "i3d-banded-conv: input of {} floats for {:?}",
                x.len(),
                g.input
            )
        }
        if out.positions() == 0 {
            return Ok(());
        }
        // Task (n, block b) owns rows [b·block, …) of every output frame of clip n.
        let block = self.bands.block;
        let blocks = out.h.div_ceil(block);
        let mut tasks: Vec<(usize, usize, Vec<&mut [f32]>)> = Vec::new();
        for (n, clip) in dst.chunks_mut(out.t * out.h * out.w * stride).enumerate() {
            let first = tasks.len();
            tasks.extend((0..blocks).map(|b| (n, b * block, Vec::with_capacity(out.t))));
            for frame in clip.chunks_mut(out.h * out.w * stride) {
                for (b, rows) in frame.chunks_mut(block * out.w * stride).enumerate() {
                    tasks[first + b].2.push(rows);
                }
            }
        }
        let run = |(n, ho0, frames): &mut (usize, usize, Vec<&mut [f32]>)| {
            self.task(x, *n, *ho0, frames, stride)
        };
        if rayon::current_num_threads() > 1 {
            tasks.par_iter_mut().try_for_each(run)
        } else {
            tasks.iter_mut().try_for_each(run)
        }
    }
}

/// The convolution of `x` (N×T×H×W×cin, contiguous f32) on bands with `weight`, bias (+ ReLU), written
/// into `targets`, like [`super::conv3d`].
pub fn conv3d(
    x: &Tensor,
    geometry: &Geometry,
    weight: &StemWeight,
    bias: &[f32],
    relu: bool,
    workspace: &mut Workspace,
    targets: &[Target<'_>],
) -> Result<()> {
    if geometry.kernel != weight.kernel
        || geometry.input.c != weight.cin
        || geometry.output.c != weight.cout
        || bias.len() != weight.cout
    {
        bail!("i3d: a banded convolution's weight does not fit {geometry:?}")
    }
    let bands = Bands::new(*geometry, rayon::current_num_threads());
    let pool = FloatPool::new(workspace);
    let result = targets.iter().try_for_each(|target| {
        target.dst.inplace_op2(
            x,
            &BandedConv {
                bands,
                weight,
                bias,
                relu,
                offset: target.offset,
                cols: target.cols.clone(),
                pool: &pool,
            },
        )
    });
    pool.finish(workspace);
    result
}
