// Shared declarations, prepended to every kernel (after the variant prelude, which defines the
// storage scalar `S` (f32 or f16), the activation vector `SV` (S or vec4<S>), its width `VW`
// (1 or 4) and the conversions `to_f4`, `from_f4`, `from_f1`).
//
// Tensors are channels-last N×T×H×W×C. Arithmetic is f32 whatever the storage type.

// Lowest finite f32: the −∞ of max-pooling (a TF SAME window always overlaps the input, so it never wins).
const F32_LOWEST: f32 = -3.4028234e38;

// The linear index of a workgroup in a dispatch split over x and y (at most
// maxComputeWorkgroupsPerDimension each): x + y·nx.
fn linear_workgroup(wg: vec3<u32>, nwg: vec3<u32>) -> u32 {
    return wg.x + wg.y * nwg.x;
}

// Position index p of an N×T×H×W grid → (n, t, h, w).
fn unravel_position(p: u32, t: u32, h: u32, w: u32) -> vec4<u32> {
    let x = p % w;
    let r = p / w;
    let y = r % h;
    let r2 = r / h;
    return vec4<u32>(r2 / t, r2 % t, y, x);
}

// First input coordinate of window `o` along an axis: o·stride − pad_before (may be negative).
fn window_start(o: u32, stride: u32, pad: u32) -> i32 {
    return i32(o * stride) - i32(pad);
}
