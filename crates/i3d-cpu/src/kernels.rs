//! CPU kernels on channels-last (N×T×H×W×C) f32 data, behind the candle layers of [`crate::layers`].
//!
//! candle has no 3-D convolution. Ours is an explicit GEMM over a *bounded* im2col: the output
//! positions are cut into chunks of whole output lines; each chunk's patch matrix
//! (rows × kt·kh·kw·cin, at most [`IM2COL_BUDGET`] bytes, so it stays in cache) is written into
//! recycled scratch, multiplied by the (K, cout) weight through the bounds-checked `gemm::matmul`
//! (natively the `gemm` crate's AVX-512/AVX2 kernels, in wasm our own register-tiled kernel; candle's
//! matmul would allocate and zero a fresh result per chunk), and a fused epilogue adds the bias,
//! applies the ReLU and writes the chunk into its channel slice of the destination, so the Inception
//! concatenation costs nothing. For every (dt, dh) tap the kw·cin inputs of a patch row are contiguous in NTHWC, so
//! the im2col is one copy per (patch, dt, dh).
//!
//! - Output frames whose window reaches into the temporal zero padding skip those time taps: their
//!   chunks get a shorter K (fewer patch columns, a contiguous slice of the weight rows). At T = 16
//!   that removes about a tenth of the multiply-adds (they would only multiply zeros).
//! - A 1×1×1 stride-1 convolution needs no patch matrix: the activation itself is the GEMM's lhs.
//! - Inception's branch 3 (max-pool 3×3×3 then 1×1×1) builds its lhs rows by pooling, chunk by
//!   chunk, and never materialises the pooled activation.
//! - With several threads, the chunks of a convolution are independent tasks (fill, GEMM,
//!   epilogue) run in parallel, which avoids the GEMM's internal barriers; a lone chunk spreads
//!   its fill, GEMM and epilogue over the threads instead.
//!
//! - The stride-1 3×3×3 convolutions can instead run as Winograd F(2×2×2, 3×3×3) ([`winograd`]),
//!   with 3.4× fewer multiply-adds; [`winograd::preferred`] says which do.
//! - Convolutions over few input channels (the stem: 3) run on bands ([`stem`]), which need no
//!   im2col at all.
//!
//! All writes into tensors go through candle's in-place custom ops ([`InplaceOp1`], [`InplaceOp2`]);
//! the one `unsafe` call is `gemm`'s, behind `gemm::matmul`'s bounds checks. Activations and scratch
//! come from a [`Workspace`] that recycles buffers across layers and runs:
//! fresh pages cost ~2 µs each to fault in (0.5 ms per MB), as much as the arithmetic of a small layer.

use candle_core::{
    bail, CpuStorage, DType, Device, InplaceOp1, InplaceOp2, Layout, Result, Storage, Tensor,
};
use rayon::prelude::*;

use i3d_core::arch::{same_padding, Dims3, Shape};

mod gemm;
pub mod stem;

use gemm::{matmul_threads, Rows};
pub mod winograd;

/// Upper bound (bytes) of one im2col chunk (its patch rows). 4 MiB: the patch rows of a chunk
/// stay in the L2/L3 caches between the im2col writing them and the GEMM packing them.
pub const IM2COL_BUDGET: usize = 4 << 20;

/// Upper bound (bytes) of one GEMM result (or pooled lhs) chunk of a 1×1×1 convolution.
const RESULT_BUDGET: usize = 2 << 20;

/// Chunks of a parallel convolution are not cut below this many rows (GEMM efficiency).
const MIN_GEMM_ROWS: usize = 128;

/// Rounds of tasks per thread that a parallel convolution aims for (as far as its rows allow), so that a
/// thread delayed by something else on its core is made up for by the others taking its tasks. Native
/// `gemm` packs the weights again for every task, so natively 2 rounds; our wasm kernel packs nothing,
/// and a browser's threads share their cores with its other work, so 4 there: measured with
/// `cargo xtask bench-browser`, the relaxed-SIMD build's 1 → 2 thread speed-up went from 1.66× (2
/// rounds, median of 6 clips) to 1.88× (4 rounds, median of 9).
pub const TASK_ROUNDS: usize = if cfg!(target_arch = "wasm32") { 4 } else { 2 };

/// Rayon work items shorter than this many rows are not split further.
const MIN_ROWS_PER_TASK: usize = 16;

/// Runs `f` on the contiguous f32 data of a CPU tensor.
pub fn with_slice<R>(t: &Tensor, f: impl FnOnce(&[f32]) -> Result<R>) -> Result<R> {
    let (storage, layout) = t.storage_and_layout();
    let Storage::Cpu(cpu) = &*storage else {
        bail!("i3d: expected a CPU tensor, got one on {:?}", t.device())
    };
    let data = cpu.as_slice::<f32>()?;
    let Some((start, end)) = layout.contiguous_offsets() else {
        bail!(
            "i3d: expected a contiguous tensor, got strides {:?}",
            layout.stride()
        )
    };
    f(&data[start..end])
}

/// Contiguous f32 CPU slice of an in-place op's source.
fn storage_slice<'a>(storage: &'a CpuStorage, layout: &Layout) -> Result<&'a [f32]> {
    let CpuStorage::F32(data) = storage else {
        bail!("i3d: expected f32 storage")
    };
    let Some((start, end)) = layout.contiguous_offsets() else {
        bail!("i3d: expected a contiguous tensor")
    };
    Ok(&data[start..end])
}

/// Geometry of a TF `SAME` 3-D convolution or pool.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Geometry {
    /// Input shape.
    pub input: Shape,
    /// Output shape (channels = cout for a conv, cin for a pool).
    pub output: Shape,
    /// Window (kt, kh, kw).
    pub kernel: Dims3,
    /// Stride (st, sh, sw).
    pub stride: Dims3,
    /// Padding before (t, h, w); the rest of the SAME padding goes after.
    pub pad: Dims3,
}

impl Geometry {
    /// TF `SAME` geometry for a window over `input`, producing `cout` channels.
    pub fn same(input: Shape, kernel: Dims3, stride: Dims3, cout: usize) -> Self {
        let mut out = [0; 3];
        let mut pad = [0; 3];
        let dims = input.thw();
        for axis in 0..3 {
            let (o, before, _) = same_padding(dims[axis], kernel[axis], stride[axis]);
            out[axis] = o;
            pad[axis] = before;
        }
        Geometry {
            input,
            output: Shape {
                n: input.n,
                t: out[0],
                h: out[1],
                w: out[2],
                c: cout,
            },
            kernel,
            stride,
            pad,
        }
    }

    /// The kernel's time taps `[lo, hi)` that fall inside the input for output frame `to`; the
    /// others read only zero padding and are skipped (their patch columns and weight rows).
    pub fn time_taps(&self, to: usize) -> (usize, usize) {
        let start = (to * self.stride[0]) as isize - self.pad[0] as isize;
        let lo = (-start).clamp(0, self.kernel[0] as isize) as usize;
        let hi =
            (self.input.t as isize - start).clamp(lo as isize, self.kernel[0] as isize) as usize;
        (lo, hi)
    }

    /// Columns of the patch matrix: kt·kh·kw·cin.
    pub fn k(&self) -> usize {
        self.kernel[0] * self.kernel[1] * self.kernel[2] * self.input.c
    }

    /// Rows of an im2col chunk: whole output lines (multiples of the output width), as many as
    /// fit in [`IM2COL_BUDGET`], at least one line.
    pub fn chunk_rows(&self) -> usize {
        let lines = (IM2COL_BUDGET / (self.output.w * self.k() * 4)).max(1);
        (lines * self.output.w).min(self.output.positions())
    }
}

/// Contiguous mutable f32 CPU slice of an in-place op's destination.
fn storage_slice_mut<'a>(storage: &'a mut CpuStorage, layout: &Layout) -> Result<&'a mut [f32]> {
    let CpuStorage::F32(data) = storage else {
        bail!("i3d: expected f32 storage")
    };
    let Some((start, end)) = layout.contiguous_offsets() else {
        bail!("i3d: expected a contiguous tensor")
    };
    Ok(&mut data[start..end])
}

/// An activation buffer of a [`Workspace`]: `view` (contiguous, N×T×H×W×C) over the flat `base`.
#[derive(Debug, Clone)]
pub struct Buffer {
    /// The flat storage; `None` for a buffer outside any workspace, which is never recycled.
    base: Option<Tensor>,
    /// The activation.
    pub view: Tensor,
}

impl Buffer {
    /// A buffer outside any workspace, holding `view`; [`Workspace::give`] drops it.
    pub fn detached(view: Tensor) -> Self {
        Buffer { base: None, view }
    }
}

/// Buffers reused across the layers (and runs) of a network: activations and the convolutions' scratch.
///
/// A tensor handed out by [`Workspace::take`] is overwritten once it is given back; keep a copy
/// (`Tensor::copy`) of anything that must outlive that.
#[derive(Debug, Default)]
pub struct Workspace {
    free: Vec<Tensor>,
    /// Scratch of the convolutions: patch rows, GEMM results, Winograd's transforms, bands.
    floats: Vec<Vec<f32>>,
}

impl Workspace {
    /// A buffer shaped `shape` (contents unspecified): the smallest free one that fits, else a new one.
    pub fn take(&mut self, shape: Shape) -> Result<Buffer> {
        let len = shape.elements();
        let best = self
            .free
            .iter()
            .enumerate()
            .filter(|(_, t)| t.elem_count() >= len)
            .min_by_key(|(_, t)| t.elem_count())
            .map(|(i, _)| i);
        let base = match best {
            Some(i) => self.free.swap_remove(i),
            None => Tensor::zeros(len, DType::F32, &Device::Cpu)?,
        };
        let view = base.narrow(0, 0, len)?.reshape(shape.dims().to_vec())?;
        Ok(Buffer {
            base: Some(base),
            view,
        })
    }

    /// Returns a buffer for reuse (a detached one is just dropped).
    pub fn give(&mut self, buffer: Buffer) {
        if let Some(base) = buffer.base {
            self.free.push(base);
        }
    }

    /// Bytes held (free buffers and scratch).
    pub fn bytes(&self) -> usize {
        4 * self
            .free
            .iter()
            .map(Tensor::elem_count)
            .chain(self.floats.iter().map(Vec::capacity))
            .sum::<usize>()
    }
}

/// Plain f32 scratch vectors of one convolution, taken from and given back to a [`Workspace`]
/// (shared by the tasks of a convolution; each vector is used by one task at a time).
struct FloatPool {
    free: std::sync::Mutex<Vec<Vec<f32>>>,
}

impl FloatPool {
    fn new(workspace: &mut Workspace) -> Self {
        FloatPool {
            free: std::sync::Mutex::new(std::mem::take(&mut workspace.floats)),
        }
    }

    /// A vector of `len` floats (contents unspecified): the smallest free one that fits, else the
    /// largest free one, grown (so the pool holds no more vectors than were ever in use at once),
    /// else a new one.
    fn take(&self, len: usize) -> Result<Vec<f32>> {
        let found = {
            let Ok(mut free) = self.free.lock() else {
                bail!("i3d: scratch pool poisoned")
            };
            let fits = free
                .iter()
                .enumerate()
                .filter(|(_, v)| v.capacity() >= len)
                .min_by_key(|(_, v)| v.capacity())
                .map(|(i, _)| i);
            let largest = || {
                free.iter()
                    .enumerate()
                    .max_by_key(|(_, v)| v.capacity())
                    .map(|(i, _)| i)
            };
            fits.or_else(largest).map(|i| free.swap_remove(i))
        };
        let mut v = found.unwrap_or_default();
        v.resize(len, 0.0);
        Ok(v)
    }

    fn give(&self, v: Vec<f32>) {
        if let Ok(mut free) = self.free.lock() {
            free.push(v);
        }
    }

    fn finish(self, workspace: &mut Workspace) {
        if let Ok(free) = self.free.into_inner() {
            workspace.floats = free;
        }
    }
}

/// How the lhs rows of a convolution's GEMM are made.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Lhs {
    /// A 1×1×1 stride-1 conv: the activation itself, (M, cin).
    Direct,
    /// Patch rows (im2col), written chunk by chunk into the scratch.
    Im2col,
    /// Max-pooled rows (this pool geometry over the input), for a 1×1×1 conv after the pool.
    Pooled(Geometry),
}

/// Where a GEMM result's columns go: columns `cols` of each result row, plus their bias,
/// optionally ReLU'd, are written to channels `offset..` of the destination activation `dst`
/// (rows of `dst.dim(4)` floats, one per output position).
pub struct Target<'a> {
    /// The destination activation (N×T×H×W×C, contiguous).
    pub dst: &'a Tensor,
    /// First destination channel.
    pub offset: usize,
    /// Result columns taken.
    pub cols: std::ops::Range<usize>,
}

/// `dst = result + bias`, then ReLU when `relu`: one output row of a convolution, elementwise (the
/// epilogue of every convolution kernel: direct, Winograd and banded).
#[inline]
fn add_bias(dst: &mut [f32], result: &[f32], bias: &[f32], relu: bool) {
    if relu {
        for ((d, r), b) in dst.iter_mut().zip(result).zip(bias) {
            *d = (r + b).max(0.0);
        }
    } else {
        for ((d, r), b) in dst.iter_mut().zip(result).zip(bias) {
            *d = r + b;
        }
    }
}

/// The fused epilogue, as an in-place op on the destination: bias, ReLU and channel slice of the
/// GEMM result chunk `res` (rows × n).
struct Epilogue<'a> {
    res: &'a [f32],
    n: usize,
    bias: &'a [f32],
    relu: bool,
    row0: usize,
    stride: usize,
    offset: usize,
    cols: std::ops::Range<usize>,
    /// Split the work over the rayon pool (false when chunks already run in parallel).
    parallel: bool,
}

impl InplaceOp1 for Epilogue<'_> {
    fn name(&self) -> &'static str {
        "i3d-epilogue"
    }

    fn cpu_fwd(&self, dst: &mut CpuStorage, dst_l: &Layout) -> Result<()> {
        let (res, n) = (self.res, self.n);
        let dst = storage_slice_mut(dst, dst_l)?;
        let rows = res.len() / n;
        let (stride, offset, cols) = (self.stride, self.offset, self.cols.clone());
        let Some(dst) = dst.get_mut(self.row0 * stride..(self.row0 + rows) * stride) else {
            bail!("i3d-epilogue: destination too small")
        };
        let bias = &self.bias[cols.clone()];
        let relu = self.relu;
        let row = |(d, r): (&mut [f32], &[f32])| {
            add_bias(
                &mut d[offset..offset + cols.len()],
                &r[cols.clone()],
                bias,
                relu,
            );
        };
        if self.parallel {
            dst.par_chunks_mut(stride)
                .zip(res.par_chunks(n))
                .with_min_len(MIN_ROWS_PER_TASK)
                .for_each(row);
        } else {
            dst.chunks_mut(stride).zip(res.chunks(n)).for_each(row);
        }
        Ok(())
    }
}

/// TF `SAME` 3-D convolution of `x` (N×T×H×W×cin, contiguous f32) with `weight` (K, cout), bias
/// (+ ReLU), written into `targets`. `geometry.output.c` is cout.
pub fn conv3d(
    x: &Tensor,
    geometry: &Geometry,
    weight: &Tensor,
    bias: &[f32],
    relu: bool,
    workspace: &mut Workspace,
    targets: &[Target<'_>],
) -> Result<()> {
    let pointwise = geometry.kernel == [1, 1, 1] && geometry.stride == [1, 1, 1];
    let lhs = if pointwise { Lhs::Direct } else { Lhs::Im2col };
    gemm_conv(x, geometry, lhs, weight, bias, relu, workspace, targets)
}

/// Max-pool (TF `SAME`, geometry `pool` over `x`) then a 1×1×1 convolution to `weight.dim(1)`
/// channels, without materialising the pooled activation.
pub fn pool_conv1x1(
    x: &Tensor,
    pool: &Geometry,
    weight: &Tensor,
    bias: &[f32],
    relu: bool,
    workspace: &mut Workspace,
    targets: &[Target<'_>],
) -> Result<()> {
    let geometry = Geometry::same(pool.output, [1, 1, 1], [1, 1, 1], weight.dim(1)?);
    gemm_conv(
        x,
        &geometry,
        Lhs::Pooled(*pool),
        weight,
        bias,
        relu,
        workspace,
        targets,
    )
}

#[allow(clippy::too_many_arguments)]
fn gemm_conv(
    x: &Tensor,
    geometry: &Geometry,
    lhs: Lhs,
    weight: &Tensor,
    bias: &[f32],
    relu: bool,
    workspace: &mut Workspace,
    targets: &[Target<'_>],
) -> Result<()> {
    let m = geometry.output.positions();
    let k = geometry.k();
    let cout = geometry.output.c;
    // Chunks go by units of rows: whole output lines for the im2col and the pooled rows.
    let (unit, max_rows) = match lhs {
        Lhs::Im2col => (geometry.output.w, geometry.chunk_rows()),
        Lhs::Direct => (
            1,
            (RESULT_BUDGET / (cout.max(k) * 4)).max(MIN_ROWS_PER_TASK),
        ),
        Lhs::Pooled(_) => {
            let w = geometry.output.w;
            (w, (RESULT_BUDGET / (w * cout.max(k) * 4)).max(1) * w)
        }
    };
    let max_units = (max_rows / unit).max(1);
    let threads = rayon::current_num_threads();
    // Runs of lines [start, end) (in units) sharing the same time taps: output frames whose
    // window reaches into the temporal zero padding use fewer taps (a shorter K), so they never
    // share a chunk with the others. Everything else is one run.
    let mut runs: Vec<(usize, usize, (usize, usize))> = Vec::new();
    if lhs == Lhs::Im2col {
        let out = geometry.output;
        // Frame f (of n·t) is lines [f·h, (f + 1)·h).
        for frame in 0..out.n * out.t {
            let taps = geometry.time_taps(frame % out.t);
            match runs.last_mut() {
                Some(run) if run.2 == taps => run.1 += out.h,
                _ => runs.push((frame * out.h, (frame + 1) * out.h, taps)),
            }
        }
    } else {
        runs.push((0, m.div_ceil(unit), (0, geometry.kernel[0])));
    }
    let total_units: usize = runs.iter().map(|r| r.1 - r.0).sum();
    let mut n_chunks = total_units.div_ceil(max_units);
    if threads > 1 {
        // At least TASK_ROUNDS rounds of `threads` chunks, so that chunks of unequal cost (boundary frames
        // have a shorter K) balance out, as long as a chunk keeps ~128 rows for the GEMM; and a
        // whole number of rounds.
        let min_units = (MIN_GEMM_ROWS / unit).max(1);
        let most = (total_units / min_units).max(1);
        n_chunks = n_chunks
            .max((TASK_ROUNDS * threads).min(most))
            .div_ceil(threads)
            * threads;
    }
    let per_chunk = total_units.div_ceil(n_chunks.max(1)).max(1);
    let mut chunks: Vec<(usize, usize, (usize, usize))> = Vec::new();
    for &(start, end, taps) in &runs {
        let pieces = (end - start).div_ceil(per_chunk);
        let size = (end - start).div_ceil(pieces.max(1));
        let mut u = start;
        while u < end {
            let len = size.min(end - u);
            chunks.push((u * unit, (len * unit).min(m - u * unit), taps));
            u += len;
        }
    }
    // With several chunks and threads, each chunk is one task (fill, GEMM, epilogue) and the
    // tasks run in parallel; otherwise the chunks run in turn, each spread over the threads.
    let parallel_chunks = threads > 1 && chunks.len() > 1;
    let pool = FloatPool::new(workspace);
    // Weight rows per time tap: kh·kw·cin.
    let tap_rows = k / geometry.kernel[0];
    let run_chunk = |&(row0, len, taps): &(usize, usize, (usize, usize))| -> Result<()> {
        // The (contiguous) weight rows of the time taps used.
        let (first, k) = match lhs {
            Lhs::Im2col => (taps.0 * tap_rows, (taps.1 - taps.0) * tap_rows),
            Lhs::Direct | Lhs::Pooled(_) => (0, k),
        };
        let gemm_threads = if parallel_chunks { 1 } else { threads };
        let mut res = pool.take(len * cout)?;
        with_slice(weight, |w| {
            let Some(w) = w.get(first * cout..(first + k) * cout) else {
                bail!("i3d: a weight of {} floats for K = {k} × {cout}", w.len())
            };
            with_slice(x, |x| {
                if lhs == Lhs::Direct {
                    let Some(rows) = x.get(row0 * k..(row0 + len) * k) else {
                        bail!("i3d: a 1×1×1 conv's input is shorter than its output")
                    };
                    let lhs = Rows {
                        data: rows,
                        rows: len,
                        cols: k,
                        row_stride: k,
                    };
                    return matmul_threads(lhs, w, &mut res, cout, gemm_threads);
                }
                let mut buf = pool.take(len * k)?;
                match lhs {
                    Lhs::Im2col => im2col(x, geometry, row0, taps, &mut buf, !parallel_chunks),
                    Lhs::Pooled(pool) => max_pool_rows(x, &pool, row0, &mut buf, !parallel_chunks),
                    Lhs::Direct => {}
                }
                let lhs = Rows {
                    data: &buf,
                    rows: len,
                    cols: k,
                    row_stride: k,
                };
                let result = matmul_threads(lhs, w, &mut res, cout, gemm_threads);
                pool.give(buf);
                result
            })
        })?;
        for target in targets {
            target.dst.inplace_op1(&Epilogue {
                res: &res,
                n: cout,
                bias,
                relu,
                row0,
                stride: target.dst.dim(candle_core::D::Minus1)?,
                offset: target.offset,
                cols: target.cols.clone(),
                parallel: !parallel_chunks,
            })?;
        }
        pool.give(res);
        Ok(())
    };
    let result = if parallel_chunks {
        chunks.par_iter().try_for_each(run_chunk)
    } else {
        chunks.iter().try_for_each(run_chunk)
    };
    pool.finish(workspace);
    result
}

/// In-place op: a TF `SAME` max-pool of the input (src) into the destination activation.
struct MaxPoolOp {
    geometry: Geometry,
}

impl InplaceOp2 for MaxPoolOp {
    fn name(&self) -> &'static str {
        "i3d-max-pool"
    }

    fn cpu_fwd(
        &self,
        dst: &mut CpuStorage,
        dst_l: &Layout,
        src: &CpuStorage,
        src_l: &Layout,
    ) -> Result<()> {
        let x = storage_slice(src, src_l)?;
        let out = storage_slice_mut(dst, dst_l)?;
        max_pool_rows(x, &self.geometry, 0, out, true);
        Ok(())
    }
}

/// TF `SAME` max-pool of `x` (contiguous f32) into `out` (an activation shaped `geometry.output`).
pub fn max_pool3d(x: &Tensor, geometry: &Geometry, out: &Tensor) -> Result<()> {
    out.inplace_op2(
        x,
        &MaxPoolOp {
            geometry: *geometry,
        },
    )
}

/// Output rows `row0..row0 + dst.len() / C` of a TF `SAME` max-pool (−∞ padding: only taps
/// inside the input count) of `x`, written to `dst` (rows × C). `row0` and the row count must be
/// multiples of the output width.
///
/// Separable, one output line at a time: first the max over the window's (t, h) taps of whole
/// input lines (long contiguous slices), then over the w taps. A 3×3×3 window costs 9 + 3
/// vector maxima per output row instead of 27.
pub fn max_pool_rows(x: &[f32], g: &Geometry, row0: usize, dst: &mut [f32], parallel: bool) {
    let Shape { t, h, w, c, .. } = g.input;
    let out = g.output;
    let [kt, kh, kw] = g.kernel;
    let [st, sh, sw] = g.stride;
    let [pt, ph, pw] = g.pad;
    // Taps [lo, hi) of a window starting at o·s − p, inside [0, len). SAME windows always
    // overlap the input, so lo < hi.
    let range = |o: usize, s: usize, p: usize, k: usize, len: usize| {
        let start = (o * s) as isize - p as isize;
        let lo = start.max(0) as usize;
        let hi = ((start + k as isize).max(0) as usize).min(len);
        (lo, hi)
    };
    let line0 = row0 / out.w;
    let pool_line = |acc: &mut Vec<f32>, (i, o): (usize, &mut [f32])| {
        let line = line0 + i;
        let ho = line % out.h;
        let to = (line / out.h) % out.t;
        let n = line / (out.h * out.t);
        let (t0, t1) = range(to, st, pt, kt, t);
        let (h0, h1) = range(ho, sh, ph, kh, h);
        let mut first = true;
        for ti in t0..t1 {
            for hi in h0..h1 {
                let src = &x[((n * t + ti) * h + hi) * w * c..][..w * c];
                if first {
                    acc.copy_from_slice(src);
                    first = false;
                } else {
                    max_into(acc, src);
                }
            }
        }
        for (wo, o) in o.chunks_exact_mut(c).enumerate() {
            let (w0, w1) = range(wo, sw, pw, kw, w);
            o.copy_from_slice(&acc[w0 * c..(w0 + 1) * c]);
            for wi in w0 + 1..w1 {
                max_into(o, &acc[wi * c..(wi + 1) * c]);
            }
        }
    };
    if parallel {
        dst.par_chunks_mut(out.w * c)
            .enumerate()
            .for_each_init(|| vec![0.0f32; w * c], pool_line);
    } else {
        let mut acc = vec![0.0f32; w * c];
        dst.chunks_mut(out.w * c)
            .enumerate()
            .for_each(|item| pool_line(&mut acc, item));
    }
}

/// `a = max(a, b)` elementwise (a select the compiler turns into vector max instructions).
#[inline]
fn max_into(a: &mut [f32], b: &[f32]) {
    for (a, &b) in a.iter_mut().zip(b) {
        *a = if b > *a { b } else { *a };
    }
}

/// Writes patch rows `row0..row0 + buf.len() / K` of the im2col of `x` into `buf` (rows × K).
///
/// Column order is (dt, dh, dw, ci), matching a (kt, kh, kw, cin, cout) weight seen as (K, cout).
/// Zero padding is TF `SAME`. `row0` and the row count must be multiples of the output width:
/// the work goes by output lines, so that for each (dt, dh) one input line feeds every patch of
/// the output line, a copy of kw·cin contiguous floats each.
pub fn im2col(
    x: &[f32],
    g: &Geometry,
    row0: usize,
    taps: (usize, usize),
    buf: &mut [f32],
    parallel: bool,
) {
    let k = (taps.1 - taps.0) * g.kernel[1] * g.kernel[2] * g.input.c;
    let line = g.output.w * k;
    let line0 = row0 / g.output.w;
    let seg = g.kernel[2] * g.input.c;
    let fill = |(i, dst): (usize, &mut [f32])| match seg {
        // The stem: 7 taps × 3 channels; a constant length lets the copy inline.
        21 => im2col_line::<21>(x, g, line0 + i, taps, dst),
        _ => im2col_line::<0>(x, g, line0 + i, taps, dst),
    };
    if parallel {
        buf.par_chunks_mut(line).enumerate().for_each(fill);
    } else {
        buf.chunks_mut(line).enumerate().for_each(fill);
    }
}

/// One output line (all `wo` of one (n, to, ho)) of the im2col. `S` is kw·cin when known at
/// compile time, else 0.
fn im2col_line<const S: usize>(
    x: &[f32],
    g: &Geometry,
    line: usize,
    taps: (usize, usize),
    dst: &mut [f32],
) {
    let Shape { t, h, w, c, .. } = g.input;
    let out = g.output;
    let [kt, kh, kw] = g.kernel;
    let [st, sh, sw] = g.stride;
    let [pt, ph, pw] = g.pad;
    let seg = if S > 0 { S } else { kw * c };
    let k = (taps.1 - taps.0) * kh * seg;
    let ho = line % out.h;
    let to = (line / out.h) % out.t;
    let n = line / (out.h * out.t);
    debug_assert!(taps.1 <= kt);
    for dt in taps.0..taps.1 {
        let ti = (to * st + dt) as isize - pt as isize;
        for dh in 0..kh {
            let hi = (ho * sh + dh) as isize - ph as isize;
            let off = ((dt - taps.0) * kh + dh) * seg;
            if ti < 0 || ti >= t as isize || hi < 0 || hi >= h as isize {
                for patch in dst.chunks_exact_mut(k) {
                    patch[off..off + seg].fill(0.0);
                }
                continue;
            }
            let row = &x[((n * t + ti as usize) * h + hi as usize) * w * c..][..w * c];
            for (wo, patch) in dst.chunks_exact_mut(k).enumerate() {
                let d = &mut patch[off..off + seg];
                // Input column of tap dw is wo·sw + dw − pw.
                let w0 = (wo * sw) as isize - pw as isize;
                if w0 >= 0 && w0 as usize + kw <= w {
                    let s = &row[w0 as usize * c..];
                    if S > 0 {
                        d[..S].copy_from_slice(&s[..S]);
                    } else {
                        d.copy_from_slice(&s[..seg]);
                    }
                } else {
                    // Taps [lo, hi) are inside the image.
                    let lo = (-w0).clamp(0, kw as isize) as usize;
                    let hi = (w as isize - w0).clamp(lo as isize, kw as isize) as usize;
                    d[..lo * c].fill(0.0);
                    if hi > lo {
                        let s = (w0 + lo as isize) as usize * c;
                        d[lo * c..hi * c].copy_from_slice(&row[s..s + (hi - lo) * c]);
                    }
                    d[hi * c..].fill(0.0);
                }
            }
        }
    }
}

/// Mean over a VALID window, stride 1, of `x` (N×T×H×W×C): returns N×(T−kt+1)×(H−kh+1)×(W−kw+1)×C.
pub fn avg_pool3d_valid(x: &[f32], input: Shape, kernel: Dims3) -> Vec<f32> {
    let Shape { n, t, h, w, c } = input;
    let [kt, kh, kw] = kernel;
    let (to, ho, wo) = (t + 1 - kt, h + 1 - kh, w + 1 - kw);
    let scale = 1.0 / (kt * kh * kw) as f32;
    let mut out = vec![0.0f32; n * to * ho * wo * c];
    for (idx, o) in out.chunks_mut(c).enumerate() {
        let x_ = idx % wo;
        let y_ = (idx / wo) % ho;
        let z_ = (idx / (wo * ho)) % to;
        let b = idx / (wo * ho * to);
        for dt in 0..kt {
            for dh in 0..kh {
                for dw in 0..kw {
                    let base = (((b * t + z_ + dt) * h + y_ + dh) * w + x_ + dw) * c;
                    for (a, v) in o.iter_mut().zip(&x[base..base + c]) {
                        *a += v;
                    }
                }
            }
        }
        for a in o.iter_mut() {
            *a *= scale;
        }
    }
    out
}

#[cfg(test)]
mod tests;
