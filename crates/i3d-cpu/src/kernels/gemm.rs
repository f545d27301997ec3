//! A bounds-checked front to the `gemm` crate's matrix product with arbitrary row strides: the one
//! place in this crate that needs `unsafe`.
//!
//! Why not candle's matmul: its operands are tensors, so a matrix whose rows overlap in memory (the
//! stem's bands, [`super::stem`], where row i starts `sw·kh·cin` floats after row i − 1 and is
//! `kw·kh·cin` floats long) would have to be copied out first, which is the cost we avoid; it cannot
//! accumulate into an existing result; and it allocates and zeroes a fresh result per call. Every
//! convolution's GEMM goes through [`matmul`]: natively on `gemm` (its AVX-512/AVX2/FMA kernels, which
//! read any strided matrix and accumulate), in wasm on our own [`tiled`] kernel.
#![allow(unsafe_code)]

use candle_core::{bail, Result};

/// A row-major f32 matrix view: row `i` is `data[i·row_stride..][..cols]` (rows may overlap).
#[derive(Debug, Clone, Copy)]
pub struct Rows<'a> {
    /// The floats the rows lie in.
    pub data: &'a [f32],
    /// Rows.
    pub rows: usize,
    /// Columns (floats per row).
    pub cols: usize,
    /// Floats from the start of one row to the next (may be less than `cols`).
    pub row_stride: usize,
}

impl Rows<'_> {
    /// Floats the view reaches: (rows − 1)·row_stride + cols (0 when empty; `None` past `usize`).
    fn extent(&self) -> Option<usize> {
        if self.rows == 0 || self.cols == 0 {
            Some(0)
        } else {
            (self.rows - 1)
                .checked_mul(self.row_stride)?
                .checked_add(self.cols)
        }
    }
}

/// `dst[i·dst_stride + j] = (accumulate ? dst[i·dst_stride + j] : 0) + Σ_p lhs(i, p)·rhs[p·n + j]`,
/// for i < lhs.rows, j < n = rhs.len() / lhs.cols, on the calling thread (callers split the work
/// over threads themselves). `rhs` is a contiguous (lhs.cols × n) matrix; dst rows must not
/// overlap (dst_stride ≥ n).
pub fn matmul(
    lhs: Rows<'_>,
    rhs: &[f32],
    dst: &mut [f32],
    dst_stride: usize,
    accumulate: bool,
) -> Result<()> {
    product(lhs, rhs, dst, dst_stride, accumulate, 1)
}

/// `dst = lhs · rhs` like [`matmul`] (not accumulating), spread over `threads` threads of rayon's
/// pool (for a product that is the only task of its layer).
pub fn matmul_threads(
    lhs: Rows<'_>,
    rhs: &[f32],
    dst: &mut [f32],
    dst_stride: usize,
    threads: usize,
) -> Result<()> {
    product(lhs, rhs, dst, dst_stride, false, threads)
}

fn product(
    lhs: Rows<'_>,
    rhs: &[f32],
    dst: &mut [f32],
    dst_stride: usize,
    accumulate: bool,
    threads: usize,
) -> Result<()> {
    let (m, k) = (lhs.rows, lhs.cols);
    if k == 0 || !rhs.len().is_multiple_of(k) {
        bail!("i3d-gemm: rhs of {} floats is not {k} rows", rhs.len())
    }
    let n = rhs.len() / k;
    if m == 0 || n == 0 {
        return Ok(());
    }
    if lhs.extent().is_none_or(|end| end > lhs.data.len()) {
        bail!(
            "i3d-gemm: lhs of {m} rows × {k} (stride {}) reaches past its {} floats",
            lhs.row_stride,
            lhs.data.len()
        )
    }
    let dst_rows = Rows {
        data: dst,
        rows: m,
        cols: n,
        row_stride: dst_stride,
    };
    if dst_stride < n || dst_rows.extent().is_none_or(|end| end > dst.len()) {
        bail!(
            "i3d-gemm: dst of {} floats cannot hold {m} rows × {n} at stride {dst_stride}",
            dst.len()
        )
    }
    if cfg!(target_arch = "wasm32") {
        tiled::product(lhs, rhs, n, dst, dst_stride, accumulate, threads);
        return Ok(());
    }
    let (Ok(lhs_rs), Ok(dst_rs), Ok(rhs_rs)) = (
        isize::try_from(lhs.row_stride),
        isize::try_from(dst_stride),
        isize::try_from(n),
    ) else {
        bail!("i3d-gemm: strides out of range")
    };
    // SAFETY: every element gemm reads or writes is in bounds: lhs(i, p) at i·lhs_rs + p ≤ extent − 1
    // < lhs.data.len() (checked above), rhs(p, j) at p·n + j < k·n = rhs.len(), dst(i, j) at
    // i·dst_rs + j ≤ (m − 1)·dst_stride + n − 1 < dst.len() (checked above). dst is borrowed mutably, so
    // it aliases neither operand, and its rows do not overlap (dst_stride ≥ n), so no element is
    // written twice. With `Parallelism::Rayon`, gemm splits dst into disjoint blocks itself.
    let parallelism = if threads > 1 {
        gemm::Parallelism::Rayon(threads)
    } else {
        gemm::Parallelism::None
    };
    unsafe {
        gemm::gemm(
            m,
            n,
            k,
            dst.as_mut_ptr(),
            1,
            dst_rs,
            accumulate,
            lhs.data.as_ptr(),
            1,
            lhs_rs,
            rhs.as_ptr(),
            1,
            rhs_rs,
            1.0f32,
            1.0f32,
            false,
            false,
            false,
            parallelism,
        );
    }
    Ok(())
}

/// The register-tiled product of wasm32 builds, in plain safe Rust that LLVM vectorises (simd128 there,
/// SSE natively, where the tests run it).
///
/// Why not `gemm` in wasm: its simd128 kernel (12 × 4 tile, 12 accumulators plus operands) measured
/// 24–25 GFLOP/s in Chromium on every direct layer of I3D, about half of what separate multiplies and
/// adds allow on a core with two of each per cycle; V8 has 16 vector registers on x86-64, which such a
/// tile fills. This one keeps a 4 × 8 tile of dst in 8 vector registers and streams the operands in
/// place: the rows of lhs (4 scalars broadcast per step, any row stride) and rows of rhs (8 floats per
/// step), with K cut in blocks so that the rhs block stays in L1 while the rows of lhs pass.
pub(crate) mod tiled {
    use rayon::prelude::*;

    use super::Rows;

    /// Columns per tile (two 4-lane vectors).
    const NR: usize = 8;
    /// Rows per tile.
    const MR: usize = 4;
    /// K per block: NR·KC floats of rhs (8 KiB) stay in L1.
    const KC: usize = 256;

    /// `dst (+)= lhs · rhs` (see [`super::matmul`]; bounds checked by the caller), rows split over
    /// `threads` rayon tasks when more than one.
    pub(crate) fn product(
        lhs: Rows<'_>,
        rhs: &[f32],
        n: usize,
        dst: &mut [f32],
        dst_stride: usize,
        accumulate: bool,
        threads: usize,
    ) {
        let m = lhs.rows;
        if threads <= 1 || m < 2 * MR {
            rows(lhs, 0, m, rhs, n, dst, dst_stride, accumulate);
            return;
        }
        // Contiguous row ranges, a multiple of MR each; dst split to match.
        let per = m.div_ceil(threads).next_multiple_of(MR);
        let mut parts = Vec::with_capacity(threads);
        let mut rest = dst;
        let mut row = 0;
        while row < m {
            let count = per.min(m - row);
            // The last part keeps the rest (its last row may be shorter than the stride).
            let len = if row + count < m {
                (count * dst_stride).min(rest.len())
            } else {
                rest.len()
            };
            let (part, tail) = std::mem::take(&mut rest).split_at_mut(len);
            parts.push((row, count, part));
            rest = tail;
            row += count;
        }
        parts.into_par_iter().for_each(|(row, count, part)| {
            rows(lhs, row, count, rhs, n, part, dst_stride, accumulate)
        });
    }

    /// Rows `first..first + count` of the product into `dst` (whose row 0 is row `first`).
    #[allow(clippy::too_many_arguments)]
    fn rows(
        lhs: Rows<'_>,
        first: usize,
        count: usize,
        rhs: &[f32],
        n: usize,
        dst: &mut [f32],
        dst_stride: usize,
        accumulate: bool,
    ) {
        let k = lhs.cols;
        let row = |i: usize, kb: usize, kc: usize| {
            let start = (first + i) * lhs.row_stride + kb;
            &lhs.data[start..start + kc]
        };
        for kb in (0..k).step_by(KC) {
            let kc = KC.min(k - kb);
            let add = accumulate || kb > 0;
            let b = &rhs[kb * n..(kb + kc) * n];
            for j in (0..n).step_by(NR) {
                let mut i = 0;
                if j + NR <= n {
                    while i + MR <= count {
                        let a = [
                            row(i, kb, kc),
                            row(i + 1, kb, kc),
                            row(i + 2, kb, kc),
                            row(i + 3, kb, kc),
                        ];
                        tile::<MR>(a, b, n, j, &mut dst[i * dst_stride..], dst_stride, add);
                        i += MR;
                    }
                    while i < count {
                        tile::<1>(
                            [row(i, kb, kc)],
                            b,
                            n,
                            j,
                            &mut dst[i * dst_stride..],
                            dst_stride,
                            add,
                        );
                        i += 1;
                    }
                } else {
                    // The last columns (n not a multiple of NR), plainly.
                    for i in 0..count {
                        let a = row(i, kb, kc);
                        for c in j..n {
                            let mut sum = 0.0f32;
                            for (p, &a) in a.iter().enumerate() {
                                sum += a * b[p * n + c];
                            }
                            let d = &mut dst[i * dst_stride + c];
                            *d = if add { *d + sum } else { sum };
                        }
                    }
                }
            }
        }
    }

    /// One R × NR tile of dst at column `j`: Σ_p a[r][p] · b[p·n + j + c], over the block's K.
    #[cfg(not(all(target_arch = "wasm32", target_feature = "relaxed-simd")))]
    #[inline(always)]
    fn tile<const R: usize>(
        a: [&[f32]; R],
        b: &[f32],
        n: usize,
        j: usize,
        dst: &mut [f32],
        dst_stride: usize,
        add: bool,
    ) {
        let kc = a[0].len();
        let mut acc = [[0.0f32; NR]; R];
        for (p, b) in b.chunks_exact(n).take(kc).enumerate() {
            let mut bv = [0.0f32; NR];
            bv.copy_from_slice(&b[j..j + NR]);
            for r in 0..R {
                let x = a[r][p];
                for c in 0..NR {
                    acc[r][c] += x * bv[c];
                }
            }
        }
        for (r, acc) in acc.iter().enumerate() {
            let d = &mut dst[r * dst_stride + j..][..NR];
            if add {
                for (d, a) in d.iter_mut().zip(acc) {
                    *d += a;
                }
            } else {
                d.copy_from_slice(acc);
            }
        }
    }

    /// [`tile`] with relaxed SIMD's fused multiply-add (`f32x4.relaxed_madd`: one instruction where the
    /// engine's CPU has FMA, else a multiply and an add), for the worker build that enables it.
    #[cfg(all(target_arch = "wasm32", target_feature = "relaxed-simd"))]
    #[inline(always)]
    fn tile<const R: usize>(
        a: [&[f32]; R],
        b: &[f32],
        n: usize,
        j: usize,
        dst: &mut [f32],
        dst_stride: usize,
        add: bool,
    ) {
        use core::arch::wasm32::{
            f32x4, f32x4_extract_lane, f32x4_relaxed_madd, f32x4_splat, v128,
        };
        let kc = a[0].len();
        let zero = f32x4_splat(0.0);
        let mut acc: [[v128; 2]; R] = [[zero; 2]; R];
        for (p, b) in b.chunks_exact(n).take(kc).enumerate() {
            let b = &b[j..j + NR];
            let b0 = f32x4(b[0], b[1], b[2], b[3]);
            let b1 = f32x4(b[4], b[5], b[6], b[7]);
            for r in 0..R {
                let x = f32x4_splat(a[r][p]);
                acc[r][0] = f32x4_relaxed_madd(x, b0, acc[r][0]);
                acc[r][1] = f32x4_relaxed_madd(x, b1, acc[r][1]);
            }
        }
        for (r, acc) in acc.iter().enumerate() {
            let lanes = [
                f32x4_extract_lane::<0>(acc[0]),
                f32x4_extract_lane::<1>(acc[0]),
                f32x4_extract_lane::<2>(acc[0]),
                f32x4_extract_lane::<3>(acc[0]),
                f32x4_extract_lane::<0>(acc[1]),
                f32x4_extract_lane::<1>(acc[1]),
                f32x4_extract_lane::<2>(acc[1]),
                f32x4_extract_lane::<3>(acc[1]),
            ];
            let d = &mut dst[r * dst_stride + j..][..NR];
            if add {
                for (d, a) in d.iter_mut().zip(lanes) {
                    *d += a;
                }
            } else {
                d.copy_from_slice(&lanes);
            }
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    /// Overlapping lhs rows, a dst wider than n, and accumulation, against a plain triple loop
    /// (seeded inputs).
    #[test]
    fn strided_overlapping_rows_match_a_plain_product() {
        let seed = 2026u64;
        println!("seed {seed}");
        let mut state = seed;
        let mut next = move || {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            ((state >> 40) as f32 / (1u64 << 24) as f32) * 2.0 - 1.0
        };
        // Overlapping rows with a column tail; then K over two blocks of the tiled kernel.
        for (m, k, n, stride, dst_stride) in [(37, 21, 10, 6, 13), (23, 600, 24, 601, 30)] {
            println!("{m} × {k} × {n}, lhs stride {stride}, dst stride {dst_stride}");
            let data: Vec<f32> = (0..(m - 1) * stride + k).map(|_| next()).collect();
            let rhs: Vec<f32> = (0..k * n).map(|_| next()).collect();
            let start: Vec<f32> = (0..(m - 1) * dst_stride + n).map(|_| next()).collect();
            for (accumulate, kernel) in [
                (false, "gemm"),
                (true, "gemm"),
                (false, "tiled"),
                (true, "tiled"),
                (true, "tiled on 3 threads"),
            ] {
                let mut dst = start.clone();
                let lhs = Rows {
                    data: &data,
                    rows: m,
                    cols: k,
                    row_stride: stride,
                };
                match kernel {
                    "gemm" => matmul(lhs, &rhs, &mut dst, dst_stride, accumulate).unwrap(),
                    "tiled" => tiled::product(lhs, &rhs, n, &mut dst, dst_stride, accumulate, 1),
                    _ => tiled::product(lhs, &rhs, n, &mut dst, dst_stride, accumulate, 3),
                }
                for i in 0..m {
                    for j in 0..n {
                        let mut want = if accumulate {
                            f64::from(start[i * dst_stride + j])
                        } else {
                            0.0
                        };
                        for p in 0..k {
                            want += f64::from(data[i * stride + p]) * f64::from(rhs[p * n + j]);
                        }
                        let got = f64::from(dst[i * dst_stride + j]);
                        assert!(
                            (got - want).abs() < 1e-4,
                            "{kernel} ({i}, {j}): {got} vs {want}"
                        );
                    }
                    // Floats between rows are left alone.
                    for j in n..dst_stride.min(dst.len() - i * dst_stride) {
                        assert_eq!(dst[i * dst_stride + j], start[i * dst_stride + j]);
                    }
                }
            }
        }
    }

    #[test]
    fn out_of_bounds_views_are_errors() {
        let data = vec![0.0f32; 100];
        let rhs = vec![0.0f32; 21 * 4];
        let mut dst = vec![0.0f32; 16 * 4];
        let lhs = Rows {
            data: &data,
            rows: 16,
            cols: 21,
            row_stride: 6,
        };
        assert!(
            matmul(lhs, &rhs, &mut dst, 4, false).is_err(),
            "lhs reaches 111 floats"
        );
        let lhs = Rows {
            data: &data,
            rows: 10,
            cols: 21,
            row_stride: 6,
        };
        assert!(
            matmul(lhs, &rhs, &mut dst, 3, false).is_err(),
            "overlapping dst rows"
        );
        assert!(
            matmul(lhs, &rhs, &mut dst[..30], 4, false).is_err(),
            "dst too small"
        );
        assert!(matmul(lhs, &rhs, &mut dst, 4, false).is_ok());
        // Strides whose extent overflows usize are refused, not wrapped around.
        let lhs = Rows {
            data: &data,
            rows: 5,
            cols: 21,
            row_stride: usize::MAX / 2,
        };
        assert!(
            matmul(lhs, &rhs, &mut dst, 4, false).is_err(),
            "lhs stride overflows"
        );
        let lhs = Rows {
            data: &data,
            rows: 3,
            cols: 21,
            row_stride: 6,
        };
        assert!(
            matmul(lhs, &rhs, &mut dst, usize::MAX / 2, false).is_err(),
            "dst stride overflows"
        );
    }
}
