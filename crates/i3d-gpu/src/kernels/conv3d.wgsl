// 3-D convolution as an implicit GEMM (no im2col buffer), TF SAME zero padding, bias, optional ReLU.
//
// GEMM view: C[M, N] = A[M, K] · B[K, N] with M = N·To·Ho·Wo output positions, K = kt·kh·kw·cin
// (tap-major, channel-minor, as the (kt, kh, kw, cin, cout) weight), N = cout. A is never
// materialised: its row m, column k is the input at position m's window tap k (zero outside).
//
// Tiling (see common.wgsl): a workgroup of 64 threads computes a 64×64 output tile; K is walked in
// slices of 16, each slice of A (64×16) and B (16×64) loaded cooperatively into workgroup memory
// (each thread loads four rows of the A slice, one 4-vector of channels each, four neighbouring
// threads covering 16 contiguous channels, and a quarter row of the B slice); each thread
// accumulates an 8×8 register block in f32.
//
// Input: channel slice [in_coffset, in_coffset + cin) of rows of in_cstride elements.
// Output: column n < split goes to dst0[m·out0_stride + out0_offset + n], the others to
// dst1[m·out1_stride + out1_offset + n − split] (the fused 1×1 convs of an Inception block write
// branch 0 into the concatenated output and the two reductions into a scratch).
//
// Variants: VW = 4 (cin, in_cstride, in_coffset, cout, split, out strides and offsets all multiples
// of 4; 4-vector loads and stores) or VW = 1 (any shape, e.g. the cin = 3 stem).
// Weights are (k_rows, n_pad) row-major with k_rows ≥ K rounded up to 16 and n_pad a multiple of
// 64, zero-padded; bias has n_pad entries.

struct ConvParams {
    in_t: u32, in_h: u32, in_w: u32, cin: u32,
    in_cstride: u32, in_coffset: u32, out_t: u32, out_h: u32,
    out_w: u32, m: u32, n: u32, k: u32,
    n_pad: u32, kt: u32, kh: u32, kw: u32,
    st: u32, sh: u32, sw: u32, pt: u32,
    ph: u32, pw: u32, relu: u32, split: u32,
    out0_stride: u32, out0_offset: u32, out1_stride: u32, out1_offset: u32,
    m_tiles: u32, _pad0: u32, _pad1: u32, _pad2: u32,
}

@group(0) @binding(0) var<uniform> p: ConvParams;
@group(0) @binding(1) var<storage, read> src: array<SV>;
@group(0) @binding(2) var<storage, read> weight: array<vec4<S>>;
@group(0) @binding(3) var<storage, read> bias: array<f32>;
@group(0) @binding(4) var<storage, read_write> dst0: array<SV>;
@group(0) @binding(5) var<storage, read_write> dst1: array<SV>;

// A column k decomposed as (channel, tap w, tap h, tap t).
struct Tap {
    ci: u32, dw: u32, dh: u32, dt: u32,
}

// Moves a tap `by` columns forward.
fn advance(tap: Tap, by: u32) -> Tap {
    var r = tap;
    r.ci += by;
    while r.ci >= p.cin {
        r.ci -= p.cin;
        r.dw += 1u;
        if r.dw == p.kw {
            r.dw = 0u;
            r.dh += 1u;
            if r.dh == p.kh {
                r.dh = 0u;
                r.dt += 1u;
            }
        }
    }
    return r;
}

// Element index of (input window origin + tap, channel), or −1 in the padding.
fn input_index(origin: vec3<i32>, batch_t: u32, tap: Tap) -> i32 {
    let ti = origin.x + i32(tap.dt);
    let hi = origin.y + i32(tap.dh);
    let wi = origin.z + i32(tap.dw);
    if ti < 0 || ti >= i32(p.in_t) || hi < 0 || hi >= i32(p.in_h) || wi < 0 || wi >= i32(p.in_w) {
        return -1;
    }
    let pos = ((batch_t + u32(ti)) * p.in_h + u32(hi)) * p.in_w + u32(wi);
    return i32(pos * p.in_cstride + p.in_coffset + tap.ci);
}

// Writes 4 output columns n.. of row m: bias, ReLU, split between dst0 and dst1.
fn store(m: u32, n: u32, acc: vec4<f32>, b: vec4<f32>) {
    if m >= p.m || n >= p.n {
        return;
    }
    var v = acc + b;
    if p.relu != 0u {
        v = max(v, vec4<f32>(0.0));
    }
    if VW == 4u {
        if n < p.split {
            dst0[(m * p.out0_stride + p.out0_offset + n) / 4u] = from_f4(v);
        } else {
            dst1[(m * p.out1_stride + p.out1_offset + n - p.split) / 4u] = from_f4(v);
        }
    } else {
        for (var j = 0u; j < 4u; j++) {
            let c = n + j;
            if c < p.split {
                dst0[m * p.out0_stride + p.out0_offset + c] = from_f1(v[j]);
            } else if c < p.n {
                dst1[m * p.out1_stride + p.out1_offset + c - p.split] = from_f1(v[j]);
            }
        }
    }
}

// Window origin (t, h, w) and batch offset N·T of output row m, or w = −1 when m ≥ M.
fn row_origin(m: u32) -> vec4<i32> {
    let pos = unravel_position(min(m, p.m - 1u), p.out_t, p.out_h, p.out_w);
    return vec4<i32>(
        window_start(pos.y, p.st, p.pt),
        window_start(pos.z, p.sh, p.ph),
        window_start(pos.w, p.sw, p.pw),
        select(-1, i32(pos.x * p.in_t), m < p.m),
    );
}

// The A value at (row with window origin `o`, column tap `t`): zero in the padding or past M.
fn load_a1(o: vec4<i32>, t: Tap) -> f32 {
    if o.w < 0 {
        return 0.0;
    }
    let i = input_index(o.xyz, u32(o.w), t);
    if i < 0 {
        return 0.0;
    }
    return to_f4(src[u32(i)]).x;
}

// Four A values along channels (VW = 4: one 4-vector load; cin is a multiple of 4).
fn load_a4(o: vec4<i32>, t: Tap) -> vec4<f32> {
    if o.w < 0 {
        return vec4<f32>(0.0);
    }
    let i = input_index(o.xyz, u32(o.w), t);
    if i < 0 {
        return vec4<f32>(0.0);
    }
    return to_f4(src[u32(i) / 4u]);
}

@compute @workgroup_size(64)
fn main(
    @builtin(workgroup_id) wg: vec3<u32>,
    @builtin(num_workgroups) nwg: vec3<u32>,
    @builtin(local_invocation_index) lid: u32,
) {
    let m_tile = linear_workgroup(wg, nwg);
    if m_tile >= p.m_tiles {
        return;
    }
    let m0 = m_tile * TILE;
    let n0 = wg.z * TILE;

    // A loader: tile rows r + 16·j (j = 0..3), K columns a_k .. a_k + 3 of every slice, so four
    // neighbouring threads read 16 contiguous channels of one input position.
    let r = lid / 4u;
    let a_k = (lid % 4u) * 4u;
    let o0 = row_origin(m0 + r);
    let o1 = row_origin(m0 + r + 16u);
    let o2 = row_origin(m0 + r + 32u);
    let o3 = row_origin(m0 + r + 48u);
    var tap = advance(Tap(0u, 0u, 0u, 0u), a_k);

    // B loader: row lid / 4, vectors 4·(lid % 4) .. + 3 of every B slice.
    let b_row = lid / 4u;
    let b_col = (lid % 4u) * 4u;

    let tx = lid % 8u;
    let ty = lid / 8u;
    var acc: array<vec4<f32>, 16>;

    for (var k0 = 0u; k0 < p.k; k0 += SLICE) {
        let k_ok = k0 + a_k < p.k;
        if VW == 4u {
            var a0 = vec4<f32>(0.0);
            var a1 = vec4<f32>(0.0);
            var a2 = vec4<f32>(0.0);
            var a3 = vec4<f32>(0.0);
            if k_ok {
                a0 = load_a4(o0, tap);
                a1 = load_a4(o1, tap);
                a2 = load_a4(o2, tap);
                a3 = load_a4(o3, tap);
            }
            put_a(r, a_k, a0);
            put_a(r + 16u, a_k, a1);
            put_a(r + 32u, a_k, a2);
            put_a(r + 48u, a_k, a3);
        } else {
            // Columns k .. k + 3 may straddle taps (cin = 3): one tap each.
            let t1 = advance(tap, 1u);
            let t2 = advance(t1, 1u);
            let t3 = advance(t2, 1u);
            let kv = vec4<bool>(k_ok, k0 + a_k + 1u < p.k, k0 + a_k + 2u < p.k, k0 + a_k + 3u < p.k);
            let z = vec4<f32>(0.0);
            put_a(r, a_k, select(z, vec4<f32>(load_a1(o0, tap), load_a1(o0, t1), load_a1(o0, t2), load_a1(o0, t3)), kv));
            put_a(r + 16u, a_k, select(z, vec4<f32>(load_a1(o1, tap), load_a1(o1, t1), load_a1(o1, t2), load_a1(o1, t3)), kv));
            put_a(r + 32u, a_k, select(z, vec4<f32>(load_a1(o2, tap), load_a1(o2, t1), load_a1(o2, t2), load_a1(o2, t3)), kv));
            put_a(r + 48u, a_k, select(z, vec4<f32>(load_a1(o3, tap), load_a1(o3, t1), load_a1(o3, t2), load_a1(o3, t3)), kv));
        }
        tap = advance(tap, SLICE);
        let w_base = ((k0 + b_row) * p.n_pad + n0) / 4u + b_col;
        for (var j = 0u; j < 4u; j++) {
            tile_b[b_row * 16u + b_col + j] = vec4<f32>(weight[w_base + j]);
        }
        workgroupBarrier();
        block_slice(&acc, tx, ty);
        workgroupBarrier();
    }

    let n_lo = n0 + 4u * tx;
    let n_hi = n_lo + 32u;
    let b_lo = vec4<f32>(bias[n_lo], bias[n_lo + 1u], bias[n_lo + 2u], bias[n_lo + 3u]);
    let b_hi = vec4<f32>(bias[n_hi], bias[n_hi + 1u], bias[n_hi + 2u], bias[n_hi + 3u]);
    store(m0 + block_row(ty, 0u), n_lo, acc[0], b_lo);
    store(m0 + block_row(ty, 0u), n_hi, acc[1], b_hi);
    store(m0 + block_row(ty, 1u), n_lo, acc[2], b_lo);
    store(m0 + block_row(ty, 1u), n_hi, acc[3], b_hi);
    store(m0 + block_row(ty, 2u), n_lo, acc[4], b_lo);
    store(m0 + block_row(ty, 2u), n_hi, acc[5], b_hi);
    store(m0 + block_row(ty, 3u), n_lo, acc[6], b_lo);
    store(m0 + block_row(ty, 3u), n_hi, acc[7], b_hi);
    store(m0 + block_row(ty, 4u), n_lo, acc[8], b_lo);
    store(m0 + block_row(ty, 4u), n_hi, acc[9], b_hi);
    store(m0 + block_row(ty, 5u), n_lo, acc[10], b_lo);
    store(m0 + block_row(ty, 5u), n_hi, acc[11], b_hi);
    store(m0 + block_row(ty, 6u), n_lo, acc[12], b_lo);
    store(m0 + block_row(ty, 6u), n_hi, acc[13], b_hi);
    store(m0 + block_row(ty, 7u), n_lo, acc[14], b_lo);
    store(m0 + block_row(ty, 7u), n_hi, acc[15], b_hi);
}
