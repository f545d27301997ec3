// 3-D average pooling, VALID, stride 1: N×T×H×W×C → N×(T−kt+1)×(H−kh+1)×(W−kw+1)×C, one thread
// per output position and channel vector. The output is f32 whatever the storage type (it feeds
// the classifier and is small: at most a few positions × 1024 channels).

// Parameters: `PoolParams` (common.wgsl), shared with maxpool3d.wgsl.

@group(0) @binding(0) var<uniform> p: PoolParams;
@group(0) @binding(1) var<storage, read> src: array<SV>;
@group(0) @binding(2) var<storage, read_write> dst: array<f32>;

@compute @workgroup_size(256)
fn main(
    @builtin(workgroup_id) wg: vec3<u32>,
    @builtin(num_workgroups) nwg: vec3<u32>,
    @builtin(local_invocation_index) lid: u32,
) {
    let idx = linear_workgroup(wg, nwg) * 256u + lid;
    if idx >= p.total {
        return;
    }
    let cv = p.c / VW;
    let c = idx % cv;
    let opos = idx / cv;
    let pos = unravel_position(opos, p.out_t, p.out_h, p.out_w);
    var sum = vec4<f32>(0.0);
    for (var t = 0u; t < p.kt; t++) {
        for (var h = 0u; h < p.kh; h++) {
            let row = ((pos.x * p.in_t + pos.y + t) * p.in_h + pos.z + h) * p.in_w + pos.w;
            for (var w = 0u; w < p.kw; w++) {
                sum += to_f4(src[(row + w) * cv + c]);
            }
        }
    }
    let mean = sum / f32(p.kt * p.kh * p.kw);
    let o = opos * p.c + c * VW;
    for (var j = 0u; j < VW; j++) {
        dst[o + j] = mean[j];
    }
}
