//! How an Inception block is executed: the one wiring both executors follow.
//!
//! The three 1×1×1 convolutions that read the block input (b0, b1a, b2a) run as **one** GEMM against
//! their weights side by side (the "fused" operand, (cin, c0 + c1a + c2a), columns in that order).
//! Its first c0 columns are branch 0's output and go straight into the block output; the other
//! c1a + c2a columns are the two reductions and go to a scratch activation (N×T×H×W×(c1a + c2a)),
//! from which b1b reads channels 0..c1a and b2b channels c1a..c1a + c2a. Branch 3 max-pools the
//! block input (3×3×3, stride 1) and projects it (1×1×1). Each branch writes its channel slice of
//! the output: b0 at 0, b1 at c0, b2 at c0 + c1b, b3 at c0 + c1b + c2b.

use std::ops::Range;

use crate::arch::{InceptionSpec, Shape};

/// The execution plan of one Inception block (all ranges are channel/column ranges).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InceptionPlan {
    /// The block.
    pub spec: InceptionSpec,
    /// Columns of the fused operand: c0 + c1a + c2a.
    pub fused_cout: usize,
    /// Fused columns that are branch 0's output (0..c0), written to the block output at channel 0.
    pub b0_cols: Range<usize>,
    /// Fused columns of branch 1's reduction (c0..c0 + c1a).
    pub b1_reduction_cols: Range<usize>,
    /// Fused columns of branch 2's reduction (c0 + c1a..c0 + c1a + c2a).
    pub b2_reduction_cols: Range<usize>,
    /// Channels of the reduction scratch: c1a + c2a (b1a's at 0..c1a, b2a's after).
    pub reduction_channels: usize,
    /// Output channels of each branch in the block output: [b0, b1, b2, b3].
    pub outputs: [Range<usize>; 4],
}

impl InceptionPlan {
    /// The plan of `spec`.
    pub fn new(spec: InceptionSpec) -> Self {
        let (c0, c1a, c2a) = (spec.b0.cout, spec.b1a.cout, spec.b2a.cout);
        let (c1b, c2b, c3) = (spec.b1b.cout, spec.b2b.cout, spec.b3.cout);
        let b1 = c0..c0 + c1b;
        let b2 = b1.end..b1.end + c2b;
        let b3 = b2.end..b2.end + c3;
        InceptionPlan {
            spec,
            fused_cout: c0 + c1a + c2a,
            b0_cols: 0..c0,
            b1_reduction_cols: c0..c0 + c1a,
            b2_reduction_cols: c0 + c1a..c0 + c1a + c2a,
            reduction_channels: c1a + c2a,
            outputs: [0..c0, b1, b2, b3],
        }
    }

    /// The fused operand's weight (cin, c0 + c1a + c2a) row-major and bias, from the (cin, c_i)
    /// weights and biases of b0, b1a and b2a.
    pub fn fuse(&self, weights: [&[f32]; 3], biases: [&[f32]; 3]) -> (Vec<f32>, Vec<f32>) {
        let widths = [self.spec.b0.cout, self.spec.b1a.cout, self.spec.b2a.cout];
        let rows = self.spec.cin;
        let mut fused = Vec::with_capacity(rows * self.fused_cout);
        for r in 0..rows {
            for (data, cols) in weights.iter().zip(widths) {
                fused.extend_from_slice(&data[r * cols..(r + 1) * cols]);
            }
        }
        (fused, biases.concat())
    }

    /// The reduction scratch for an input of shape `input`: N×T×H×W×(c1a + c2a).
    pub fn reduction_shape(&self, input: Shape) -> Shape {
        Shape {
            c: self.reduction_channels,
            ..input
        }
    }

    /// Where b1b and b2b read their input in the reduction scratch: [0..c1a, c1a..c1a + c2a].
    pub fn reduction_inputs(&self) -> [Range<usize>; 2] {
        let c1a = self.spec.b1a.cout;
        [0..c1a, c1a..self.reduction_channels]
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::arch::{Op, I3D_LAYERS};

    #[test]
    fn every_block_is_tiled_by_its_branches() {
        for layer in I3D_LAYERS {
            let Op::Inception(spec) = layer.op else {
                continue;
            };
            let plan = InceptionPlan::new(spec);
            assert_eq!(plan.outputs[0].start, 0);
            for pair in plan.outputs.windows(2) {
                assert_eq!(pair[0].end, pair[1].start, "{}", layer.name);
            }
            assert_eq!(plan.outputs[3].end, spec.cout(), "{}", layer.name);
            assert_eq!(plan.b2_reduction_cols.end, plan.fused_cout);
            let [r1, r2] = plan.reduction_inputs();
            assert_eq!(r1.len(), spec.b1b.cin);
            assert_eq!(r2.len(), spec.b2b.cin);
        }
    }

    #[test]
    fn fused_columns_are_the_branches_side_by_side() {
        let Op::Inception(spec) = I3D_LAYERS[5].op else {
            panic!("Mixed_3b is the sixth layer");
        };
        let plan = InceptionPlan::new(spec);
        let cin = spec.cin;
        let w = |cout: usize, base: f32| -> Vec<f32> {
            (0..cin * cout).map(|i| base + i as f32).collect()
        };
        let (w0, w1, w2) = (w(64, 0.0), w(96, 1e5), w(16, 2e5));
        let b =
            |cout: usize, base: f32| -> Vec<f32> { (0..cout).map(|i| base + i as f32).collect() };
        let (b0, b1, b2) = (b(64, 0.0), b(96, 1e3), b(16, 2e3));
        let (fw, fb) = plan.fuse([&w0, &w1, &w2], [&b0, &b1, &b2]);
        assert_eq!(fw.len(), cin * plan.fused_cout);
        // Row 3: b0's row 3, then b1a's, then b2a's.
        let row = &fw[3 * plan.fused_cout..4 * plan.fused_cout];
        assert_eq!(&row[plan.b0_cols.clone()], &w0[3 * 64..4 * 64]);
        assert_eq!(&row[plan.b1_reduction_cols.clone()], &w1[3 * 96..4 * 96]);
        assert_eq!(&row[plan.b2_reduction_cols.clone()], &w2[3 * 16..4 * 16]);
        assert_eq!(&fb[plan.b1_reduction_cols.clone()], &b1[..]);
    }
}
