//! A bounds-checked front to the `gemm` crate's matrix product with arbitrary row strides: the one
//! place in this crate that needs `unsafe`.
//!
//! Why not candle's matmul: its operands are tensors, so a matrix whose rows overlap in memory (the
//! stem's bands, [`super::stem`], where row i starts `sw·kh·cin` floats after row i − 1 and is
//! `kw·kh·cin` floats long) would have to be copied out first, which is the cost we avoid; and it
//! cannot accumulate into an existing result. `gemm` reads any strided matrix and accumulates; its
//! kernels are the same ones candle's matmul runs (AVX-512/AVX2/FMA natively, simd128 in wasm).
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
    /// Floats the view reaches: (rows − 1)·row_stride + cols (0 when empty).
    fn extent(&self) -> usize {
        if self.rows == 0 || self.cols == 0 {
            0
        } else {
            (self.rows - 1) * self.row_stride + self.cols
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
    if lhs.extent() > lhs.data.len() {
        bail!(
            "i3d-gemm: lhs of {m} rows × {k} (stride {}) reaches {} floats, has {}",
            lhs.row_stride,
            lhs.extent(),
            lhs.data.len()
        )
    }
    if dst_stride < n || (m - 1) * dst_stride + n > dst.len() {
        bail!(
            "i3d-gemm: dst of {} floats cannot hold {m} rows × {n} at stride {dst_stride}",
            dst.len()
        )
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
        let (m, k, n, stride, dst_stride) = (37, 21, 10, 6, 13);
        let data: Vec<f32> = (0..(m - 1) * stride + k).map(|_| next()).collect();
        let rhs: Vec<f32> = (0..k * n).map(|_| next()).collect();
        let start: Vec<f32> = (0..(m - 1) * dst_stride + n).map(|_| next()).collect();
        for accumulate in [false, true] {
            let mut dst = start.clone();
            let lhs = Rows {
                data: &data,
                rows: m,
                cols: k,
                row_stride: stride,
            };
            matmul(lhs, &rhs, &mut dst, dst_stride, accumulate).unwrap();
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
                    assert!((got - want).abs() < 1e-5, "({i}, {j}): {got} vs {want}");
                }
                // Floats between rows are left alone.
                for j in n..dst_stride.min(dst.len() - i * dst_stride) {
                    assert_eq!(dst[i * dst_stride + j], start[i * dst_stride + j]);
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
    }
}
