// 3-D max-pooling, TF SAME padding with −∞ (padding never wins): one thread per output position
// and channel vector. Input and output are dense N×T×H×W×C (C a multiple of VW), output
// N×To×Ho×Wo×C.

// Parameters: `PoolParams` (common.wgsl), shared with avgpool3d.wgsl.

@group(0) @binding(0) var<uniform> p: PoolParams;
@group(0) @binding(1) var<storage, read> src: array<SV>;
@group(0) @binding(2) var<storage, read_write> dst: array<SV>;

@compute @workgroup_size(256)
fn main(
    @builtin(workgroup_id) wg: vec3<u32>,
    @builtin(num_workgroups) nwg: vec3<u32>,
    @builtin(local_invocation_index) lid: u32,
) {
    // total = output positions × channel vectors.
    let idx = linear_workgroup(wg, nwg) * 256u + lid;
    if idx >= p.total {
        return;
    }
    let cv = p.c / VW;
    let c = idx % cv;
    let pos = unravel_position(idx / cv, p.out_t, p.out_h, p.out_w);
    let t0 = window_start(pos.y, p.st, p.pt);
    let h0 = window_start(pos.z, p.sh, p.ph);
    let w0 = window_start(pos.w, p.sw, p.pw);
    let t_lo = u32(max(t0, 0));
    let t_hi = u32(min(t0 + i32(p.kt), i32(p.in_t)));
    let h_lo = u32(max(h0, 0));
    let h_hi = u32(min(h0 + i32(p.kh), i32(p.in_h)));
    let w_lo = u32(max(w0, 0));
    let w_hi = u32(min(w0 + i32(p.kw), i32(p.in_w)));
    var best = vec4<f32>(F32_LOWEST);
    for (var t = t_lo; t < t_hi; t++) {
        for (var h = h_lo; h < h_hi; h++) {
            let row = ((pos.x * p.in_t + t) * p.in_h + h) * p.in_w;
            for (var w = w_lo; w < w_hi; w++) {
                best = max(best, to_f4(src[(row + w) * cv + c]));
            }
        }
    }
    dst[idx] = from_f4(best);
}
