// The classifier: a 1×1×1 convolution with bias and no ReLU, averaged over positions.
// x: N×P×C f32 (the average-pooled features), weight (C, n_pad) row-major, bias (n_pad) f32;
// logits[b, j] = bias[j] + (1/P)·Σ_p Σ_c x[b, p, c]·weight[c, j], for j < classes. One thread per
// (batch, class).

struct LogitsParams {
    batch: u32, positions: u32, c: u32, classes: u32,
    n_pad: u32, _pad0: u32, _pad1: u32, _pad2: u32,
}

@group(0) @binding(0) var<uniform> p: LogitsParams;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> weight: array<vec4<S>>;
@group(0) @binding(3) var<storage, read> bias: array<f32>;
@group(0) @binding(4) var<storage, read_write> logits: array<f32>;

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
    let j = gid.x;
    let b = gid.y;
    if j >= p.classes || b >= p.batch {
        return;
    }
    let w_lane = j % 4u;
    var sum = 0.0;
    for (var q = 0u; q < p.positions; q++) {
        let row = (b * p.positions + q) * p.c;
        for (var c = 0u; c < p.c; c++) {
            sum = fma(x[row + c], f32(weight[(c * p.n_pad + j) / 4u][w_lane]), sum);
        }
    }
    logits[b * p.classes + j] = sum / f32(p.positions) + bias[j];
}
