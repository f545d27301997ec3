// Shared declarations, prepended to every kernel (after the variant prelude, which defines the
// storage scalar `S` (f32 or f16), the activation vector `SV` (S or vec4<S>), its width `VW`
// (1 or 4) and the conversions `to_f4`, `from_f4`, `from_f1`).
//
// Tensors are channels-last N×T×H×W×C. Arithmetic is f32 whatever the storage type.

// The parameter block of both pool kernels (maxpool3d.wgsl, avgpool3d.wgsl), mirrored in Rust as
// `PoolParams`. Average pooling is VALID with stride 1: it leaves st, sh, sw at 1 and pt, ph, pw at 0, unread.
struct PoolParams {
    in_t: u32, in_h: u32, in_w: u32, c: u32,
    out_t: u32, out_h: u32, out_w: u32, total: u32,
    kt: u32, kh: u32, kw: u32, _pad0: u32,
    st: u32, sh: u32, sw: u32, _pad1: u32,
    pt: u32, ph: u32, pw: u32, _pad2: u32,
}

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

// ---- The register block shared by conv3d.wgsl and gemm.wgsl -------------------------------------
//
// A workgroup of 64 threads computes a 64×64 output tile. Thread (tx, ty) = (lid % 8, lid / 8) owns
// an 8×8 block: rows 4·ty .. 4·ty + 3 and 32 + 4·ty .. 32 + 4·ty + 3 of the tile, columns 4·tx ..
// 4·tx + 3 and 32 + 4·tx .. 32 + 4·tx + 3, kept in `array<vec4<f32>, 16>` (element 2·i + h holds
// row i, column half h). K is walked in slices of 16: the A slice is stored transposed,
// tile_a[k·16 + m/4][m % 4], the B slice as tile_b[k·16 + n/4], both f32.

const TILE: u32 = 64u;
const SLICE: u32 = 16u;
const THREADS: u32 = 64u;

var<workgroup> tile_a: array<vec4<f32>, 256>;
var<workgroup> tile_b: array<vec4<f32>, 256>;

// Stores A columns k .. k + 3 of tile row r (0..64) into the transposed A slice.
fn put_a(r: u32, k: u32, v: vec4<f32>) {
    let slot = r / 4u;
    let lane = r % 4u;
    tile_a[k * 16u + slot][lane] = v.x;
    tile_a[(k + 1u) * 16u + slot][lane] = v.y;
    tile_a[(k + 2u) * 16u + slot][lane] = v.z;
    tile_a[(k + 3u) * 16u + slot][lane] = v.w;
}

// One k step of the 8×8 block: a0/a1 are rows (4·ty..) and (32 + 4·ty..) at k, b0/b1 the two
// column quads. Constant indices only, so the block stays in registers.
fn block_fma(acc: ptr<function, array<vec4<f32>, 16>>, a0: vec4<f32>, a1: vec4<f32>, b0: vec4<f32>, b1: vec4<f32>) {
    (*acc)[0u] = fma(vec4<f32>(a0.x), b0, (*acc)[0u]);
    (*acc)[1u] = fma(vec4<f32>(a0.x), b1, (*acc)[1u]);
    (*acc)[2u] = fma(vec4<f32>(a0.y), b0, (*acc)[2u]);
    (*acc)[3u] = fma(vec4<f32>(a0.y), b1, (*acc)[3u]);
    (*acc)[4u] = fma(vec4<f32>(a0.z), b0, (*acc)[4u]);
    (*acc)[5u] = fma(vec4<f32>(a0.z), b1, (*acc)[5u]);
    (*acc)[6u] = fma(vec4<f32>(a0.w), b0, (*acc)[6u]);
    (*acc)[7u] = fma(vec4<f32>(a0.w), b1, (*acc)[7u]);
    (*acc)[8u] = fma(vec4<f32>(a1.x), b0, (*acc)[8u]);
    (*acc)[9u] = fma(vec4<f32>(a1.x), b1, (*acc)[9u]);
    (*acc)[10u] = fma(vec4<f32>(a1.y), b0, (*acc)[10u]);
    (*acc)[11u] = fma(vec4<f32>(a1.y), b1, (*acc)[11u]);
    (*acc)[12u] = fma(vec4<f32>(a1.z), b0, (*acc)[12u]);
    (*acc)[13u] = fma(vec4<f32>(a1.z), b1, (*acc)[13u]);
    (*acc)[14u] = fma(vec4<f32>(a1.w), b0, (*acc)[14u]);
    (*acc)[15u] = fma(vec4<f32>(a1.w), b1, (*acc)[15u]);
}

// Multiplies the current slices into the block (between the two barriers of a K step).
fn block_slice(acc: ptr<function, array<vec4<f32>, 16>>, tx: u32, ty: u32) {
    for (var kk = 0u; kk < SLICE; kk++) {
        let row = kk * 16u;
        block_fma(acc, tile_a[row + ty], tile_a[row + 8u + ty], tile_b[row + tx], tile_b[row + 8u + tx]);
    }
}

// Tile row of block row i (0..8) of thread row ty.
fn block_row(ty: u32, i: u32) -> u32 {
    return select(32u + 4u * ty + i - 4u, 4u * ty + i, i < 4u);
}
