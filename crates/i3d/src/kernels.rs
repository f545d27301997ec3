//! CPU kernels on channels-last (N×T×H×W×C) f32 slices, behind the candle layers of [`crate::layers`].
//!
//! candle has no 3-D convolution. Ours is an explicit GEMM over a *bounded* im2col: the output
//! positions are cut into chunks of rows, each chunk's patch matrix (rows × kt·kh·kw·cin, at most
//! [`IM2COL_BUDGET`] bytes) is written into a reused scratch tensor, multiplied by the (K, cout)
//! weight with candle's matmul (the `gemm` crate, multithreaded), and the fused epilogue adds the
//! bias, applies the ReLU and writes the chunk into its channel slice of the destination (so the
//! Inception concatenation costs nothing). For every (dt, dh) tap the kw·cin inputs of a patch row
//! are contiguous in NTHWC, so the im2col is a handful of `copy_from_slice` per row.
//! A 1×1×1 stride-1 convolution needs no patch matrix: the activation itself is the GEMM's lhs.

use candle_core::{bail, CpuStorage, Device, InplaceOp2, Layout, Result, Storage, Tensor};
use rayon::prelude::*;

use crate::arch::{same_padding, Dims3, Shape};

/// Upper bound (bytes) of one im2col chunk (the scratch tensor). 8 MiB keeps the patch rows
/// of a chunk in the shared L3 while the GEMM streams them.
pub const IM2COL_BUDGET: usize = 8 << 20;

/// Upper bound (bytes) of one GEMM result chunk of a 1×1×1 convolution.
const RESULT_BUDGET: usize = 2 << 20;

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

/// Contiguous f32 CPU slice of a storage and layout (in-place op operands).
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

    /// Columns of the patch matrix: kt·kh·kw·cin.
    pub fn k(&self) -> usize {
        self.kernel[0] * self.kernel[1] * self.kernel[2] * self.input.c
    }

    /// Rows of a chunk for an im2col within [`IM2COL_BUDGET`].
    pub fn chunk_rows(&self) -> usize {
        let rows = (IM2COL_BUDGET / (self.k() * 4)).max(MIN_ROWS_PER_TASK);
        rows.min(self.output.positions())
    }
}

/// In-place op writing the patch rows `[row0, row0 + rows)` of a conv's im2col into the scratch.
struct Im2col {
    geometry: Geometry,
    row0: usize,
    rows: usize,
}

impl InplaceOp2 for Im2col {
    fn name(&self) -> &'static str {
        "i3d-im2col"
    }

    fn cpu_fwd(
        &self,
        dst: &mut CpuStorage,
        dst_l: &Layout,
        src: &CpuStorage,
        src_l: &Layout,
    ) -> Result<()> {
        let x = storage_slice(src, src_l)?;
        let CpuStorage::F32(buf) = dst else {
            bail!("i3d-im2col: scratch must be f32")
        };
        let start = dst_l.start_offset();
        let k = self.geometry.k();
        let Some(buf) = buf.get_mut(start..start + self.rows * k) else {
            bail!("i3d-im2col: scratch too small")
        };
        im2col(x, &self.geometry, self.row0, buf);
        Ok(())
    }
}

/// Writes patch rows `row0..row0 + buf.len() / K` of the im2col of `x` into `buf` (rows × K).
///
/// Column order is (dt, dh, dw, ci), matching a (kt, kh, kw, cin, cout) weight seen as (K, cout).
/// Zero padding is TF `SAME`.
pub fn im2col(x: &[f32], g: &Geometry, row0: usize, buf: &mut [f32]) {
    let Shape { t, h, w, c, .. } = g.input;
    let out = g.output;
    let [kt, kh, kw] = g.kernel;
    let [st, sh, sw] = g.stride;
    let [pt, ph, pw] = g.pad;
    let seg = kw * c;
    let k = kt * kh * seg;
    buf.par_chunks_mut(k)
        .with_min_len(MIN_ROWS_PER_TASK)
        .enumerate()
        .for_each(|(i, row)| {
            let r = row0 + i;
            let wo = r % out.w;
            let ho = (r / out.w) % out.h;
            let to = (r / (out.w * out.h)) % out.t;
            let n = r / (out.w * out.h * out.t);
            // Input column of tap dw is wo·sw + dw − pw; taps [lo, hi) are inside the image.
            let w0 = (wo * sw) as isize - pw as isize;
            let lo = (-w0).clamp(0, kw as isize) as usize;
            let hi = (w as isize - w0).clamp(lo as isize, kw as isize) as usize;
            for dt in 0..kt {
                let ti = (to * st + dt) as isize - pt as isize;
                for dh in 0..kh {
                    let hi_ = (ho * sh + dh) as isize - ph as isize;
                    let dst = &mut row[(dt * kh + dh) * seg..][..seg];
                    if ti < 0 || ti >= t as isize || hi_ < 0 || hi_ >= h as isize || lo == hi {
                        dst.fill(0.0);
                        continue;
                    }
                    let base = (((n * t + ti as usize) * h + hi_ as usize) * w
                        + (w0 + lo as isize) as usize)
                        * c;
                    dst[..lo * c].fill(0.0);
                    dst[lo * c..hi * c].copy_from_slice(&x[base..base + (hi - lo) * c]);
                    dst[hi * c..].fill(0.0);
                }
            }
        });
}

/// Where a GEMM result's columns go: columns `cols` of each result row, plus `bias`, optionally
/// ReLU'd, are written to `dst[row * stride + offset ..][..cols.len()]`.
pub struct Target<'a> {
    /// Destination rows (all rows of the conv output, `stride` floats each).
    pub dst: &'a mut [f32],
    /// Floats per destination row (the channels of the concatenated output).
    pub stride: usize,
    /// First destination channel.
    pub offset: usize,
    /// Result columns taken.
    pub cols: std::ops::Range<usize>,
}

/// The fused epilogue: `dst[r] = act(res[r] + bias)` for result rows `row0..row0 + rows`.
fn epilogue(
    res: &Tensor,
    bias: &[f32],
    relu: bool,
    row0: usize,
    targets: &mut [Target<'_>],
) -> Result<()> {
    let n = res.dim(1)?;
    with_slice(res, |res| {
        for target in targets.iter_mut() {
            let Target {
                dst,
                stride,
                offset,
                cols,
            } = target;
            let (stride, offset, cols) = (*stride, *offset, cols.clone());
            let rows = res.len() / n;
            let dst = &mut dst[row0 * stride..(row0 + rows) * stride];
            let bias = &bias[cols.clone()];
            dst.par_chunks_mut(stride)
                .zip(res.par_chunks(n))
                .with_min_len(MIN_ROWS_PER_TASK)
                .for_each(|(d, r)| {
                    let d = &mut d[offset..offset + cols.len()];
                    let r = &r[cols.clone()];
                    if relu {
                        for ((d, r), b) in d.iter_mut().zip(r).zip(bias) {
                            *d = (r + b).max(0.0);
                        }
                    } else {
                        for ((d, r), b) in d.iter_mut().zip(r).zip(bias) {
                            *d = r + b;
                        }
                    }
                });
        }
        Ok(())
    })
}

/// Reusable im2col scratch (a flat f32 CPU tensor), grown on demand.
#[derive(Debug, Default)]
pub struct Scratch {
    buf: Option<Tensor>,
}

impl Scratch {
    /// A scratch of at least `len` floats (reallocated only when too small).
    fn get(&mut self, len: usize) -> Result<Tensor> {
        match &self.buf {
            Some(t) if t.elem_count() >= len => Ok(t.clone()),
            _ => {
                let t = Tensor::zeros(len, candle_core::DType::F32, &Device::Cpu)?;
                self.buf = Some(t.clone());
                Ok(t)
            }
        }
    }
}

/// TF `SAME` 3-D convolution of `x` (N×T×H×W×cin, contiguous f32) with `weight` (K, cout), then
/// bias (+ ReLU), written to `targets`. `geometry.output.c` must be cout.
pub fn conv3d(
    x: &Tensor,
    geometry: &Geometry,
    weight: &Tensor,
    bias: &[f32],
    relu: bool,
    scratch: &mut Scratch,
    targets: &mut [Target<'_>],
) -> Result<()> {
    let m = geometry.output.positions();
    let k = geometry.k();
    let pointwise = geometry.kernel == [1, 1, 1] && geometry.stride == [1, 1, 1];
    if pointwise {
        // The activation is the lhs: (M, cin) row-major.
        let lhs = x.reshape((m, k))?;
        let cout = geometry.output.c;
        let rows = (RESULT_BUDGET / (cout * 4))
            .max(MIN_ROWS_PER_TASK)
            .min(m.max(1));
        let mut row0 = 0;
        while row0 < m {
            let len = rows.min(m - row0);
            let res = lhs.narrow(0, row0, len)?.matmul(weight)?;
            epilogue(&res, bias, relu, row0, targets)?;
            row0 += len;
        }
        return Ok(());
    }
    let rows = geometry.chunk_rows();
    let buf = scratch.get(rows * k)?;
    let mut row0 = 0;
    while row0 < m {
        let len = rows.min(m - row0);
        let lhs = buf.narrow(0, 0, len * k)?.reshape((len, k))?;
        lhs.inplace_op2(
            x,
            &Im2col {
                geometry: *geometry,
                row0,
                rows: len,
            },
        )?;
        let res = lhs.matmul(weight)?;
        epilogue(&res, bias, relu, row0, targets)?;
        row0 += len;
    }
    Ok(())
}

/// Max over a window along one axis of `x` seen as (outer, len, inner), TF `SAME` (−∞ padding):
/// returns (outer, out_len, inner).
fn max_axis(x: &[f32], outer: usize, len: usize, inner: usize, k: usize, s: usize) -> Vec<f32> {
    let (out_len, pad, _) = same_padding(len, k, s);
    let mut out = vec![0.0f32; outer * out_len * inner];
    out.par_chunks_mut(inner)
        .with_min_len((4096 / inner.max(1)).max(1))
        .enumerate()
        .for_each(|(idx, o)| {
            let (ob, oi) = (idx / out_len, idx % out_len);
            let start = (oi * s) as isize - pad as isize;
            let lo = start.max(0) as usize;
            let hi = ((start + k as isize).max(0) as usize).min(len);
            let base = ob * len * inner;
            // SAME windows always overlap the input, so lo < hi.
            o.copy_from_slice(&x[base + lo * inner..][..inner]);
            for i in lo + 1..hi {
                for (a, &b) in o.iter_mut().zip(&x[base + i * inner..][..inner]) {
                    if b > *a {
                        *a = b;
                    }
                }
            }
        });
    out
}

/// TF `SAME` 3-D max-pool of `x` (N×T×H×W×C), separably along w, h then t: returns the output data.
pub fn max_pool3d(x: &[f32], input: Shape, kernel: Dims3, stride: Dims3) -> Vec<f32> {
    let Shape { n, t, h, w, c } = input;
    let (wo, _, _) = same_padding(w, kernel[2], stride[2]);
    let (ho, _, _) = same_padding(h, kernel[1], stride[1]);
    let mut cur: Option<Vec<f32>> = None;
    if kernel[2] > 1 || stride[2] > 1 {
        cur = Some(max_axis(x, n * t * h, w, c, kernel[2], stride[2]));
    }
    if kernel[1] > 1 || stride[1] > 1 {
        let src = cur.as_deref().unwrap_or(x);
        cur = Some(max_axis(src, n * t, h, wo * c, kernel[1], stride[1]));
    }
    if kernel[0] > 1 || stride[0] > 1 {
        let src = cur.as_deref().unwrap_or(x);
        cur = Some(max_axis(src, n, t, ho * wo * c, kernel[0], stride[0]));
    }
    cur.unwrap_or_else(|| x.to_vec())
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
