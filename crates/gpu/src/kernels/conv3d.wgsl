// 3-D convolution as an implicit GEMM (no im2col buffer), TF SAME zero padding, bias, optional ReLU.
//
// GEMM view: C[M, N] = A[M, K] · B[K, N] with M = N·To·Ho·Wo output positions, K = kt·kh·kw·cin
// (tap-major, channel-minor, as the (kt, kh, kw, cin, cout) weight), N = cout. A is never
// materialised: its row m, column k is the input at position m's window tap k (zero outside).
//
// Tiling: a workgroup computes a BM×BN = 64×64 output tile; K is walked in slices of BK = 16, each
// slice of A (64×16) and B (16×64) loaded cooperatively into workgroup memory (one 4-vector of A
// along channels and one 4-vector of B along cout per thread); each of the 16×16 threads
// accumulates a 4×4 register block in f32.
//
// Input: channel slice [in_coffset, in_coffset + cin) of rows of in_cstride elements.
// Output: column n < split goes to dst0[m·out0_stride + out0_offset + n], the others to
// dst1[m·out1_stride + out1_offset + n − split] (the fused 1×1 convs of an Inception block write
// branch 0 into the concatenated output and the two reductions into a scratch).
//
// Variants: VW = 4 (cin, in_cstride, in_coffset, cout, split, out strides and offsets all multiples
// of 4; 4-vector loads and stores) or VW = 1 (any shape, e.g. the cin = 3 stem).
// Weights are (k_rows, n_pad) row-major with k_rows ≥ K rounded up to BK and n_pad a multiple of
// BN, zero-padded; bias has n_pad entries.

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

const BM: u32 = 64u;
const BN: u32 = 64u;
const BK: u32 = 16u;

// A slice, transposed: as_[k·16 + m/4][m % 4]. B slice: bs[k·16 + n/4].
var<workgroup> as_: array<vec4<f32>, 256>;
var<workgroup> bs: array<vec4<f32>, 256>;

// A column k of row m decomposed as (channel, tap w, tap h, tap t).
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

// Element index of (input position origin + tap, channel), or −1 when the tap falls in the padding.
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

fn store(m: u32, n: u32, v: f32) {
    if n < p.split {
        dst0[m * p.out0_stride + p.out0_offset + n] = from_f1(v);
    } else {
        dst1[m * p.out1_stride + p.out1_offset + n - p.split] = from_f1(v);
    }
}

fn store4(m: u32, n: u32, v: vec4<f32>) {
    if n < p.split {
        dst0[(m * p.out0_stride + p.out0_offset + n) / 4u] = from_f4(v);
    } else {
        dst1[(m * p.out1_stride + p.out1_offset + n - p.split) / 4u] = from_f4(v);
    }
}

fn epilogue(m: u32, n: u32, acc: vec4<f32>, b: vec4<f32>) {
    if m >= p.m || n >= p.n {
        return;
    }
    var v = acc + b;
    if p.relu != 0u {
        v = max(v, vec4<f32>(0.0));
    }
    if VW == 4u {
        store4(m, n, v);
    } else {
        for (var j = 0u; j < 4u; j++) {
            if n + j < p.n {
                store(m, n + j, v[j]);
            }
        }
    }
}

@compute @workgroup_size(256)
fn main(
    @builtin(workgroup_id) wg: vec3<u32>,
    @builtin(num_workgroups) nwg: vec3<u32>,
    @builtin(local_invocation_index) lid: u32,
) {
    let m_tile = linear_workgroup(wg, nwg);
    if m_tile >= p.m_tiles {
        return;
    }
    let m0 = m_tile * BM;
    let n0 = wg.z * BN;

    // This thread loads A row a_row, columns k0 + a_k .. k0 + a_k + 3 of every slice.
    let a_row = lid / 4u;
    let a_k = (lid % 4u) * 4u;
    let m = m0 + a_row;
    let row_ok = m < p.m;
    let pos = unravel_position(min(m, p.m - 1u), p.out_t, p.out_h, p.out_w);
    let origin = vec3<i32>(
        window_start(pos.y, p.st, p.pt),
        window_start(pos.z, p.sh, p.ph),
        window_start(pos.w, p.sw, p.pw),
    );
    let batch_t = pos.x * p.in_t;
    var tap = advance(Tap(0u, 0u, 0u, 0u), a_k);
    let a_slot = a_row / 4u;
    let a_lane = a_row % 4u;

    // This thread loads B row b_row, columns n0 + 4·b_col .. + 3 of every slice.
    let b_row = lid / 16u;
    let b_col = lid % 16u;

    // This thread computes rows m0 + 4·ty .. + 3, columns n0 + 4·tx .. + 3.
    let tx = lid % 16u;
    let ty = lid / 16u;
    var acc0 = vec4<f32>(0.0);
    var acc1 = vec4<f32>(0.0);
    var acc2 = vec4<f32>(0.0);
    var acc3 = vec4<f32>(0.0);

    for (var k0 = 0u; k0 < p.k; k0 += BK) {
        var a = vec4<f32>(0.0);
        if row_ok {
            if VW == 4u {
                if k0 + a_k < p.k {
                    let i = input_index(origin, batch_t, tap);
                    if i >= 0 {
                        a = to_f4(src[u32(i) / 4u]);
                    }
                }
            } else {
                var t = tap;
                for (var j = 0u; j < 4u; j++) {
                    if k0 + a_k + j < p.k {
                        let i = input_index(origin, batch_t, t);
                        if i >= 0 {
                            a[j] = to_f4(src[u32(i)]).x;
                        }
                    }
                    t = advance(t, 1u);
                }
            }
        }
        tap = advance(tap, BK);
        as_[(a_k + 0u) * 16u + a_slot][a_lane] = a.x;
        as_[(a_k + 1u) * 16u + a_slot][a_lane] = a.y;
        as_[(a_k + 2u) * 16u + a_slot][a_lane] = a.z;
        as_[(a_k + 3u) * 16u + a_slot][a_lane] = a.w;
        bs[b_row * 16u + b_col] = vec4<f32>(weight[((k0 + b_row) * p.n_pad + n0) / 4u + b_col]);
        workgroupBarrier();
        for (var kk = 0u; kk < BK; kk++) {
            let av = as_[kk * 16u + ty];
            let bv = bs[kk * 16u + tx];
            acc0 = fma(vec4<f32>(av.x), bv, acc0);
            acc1 = fma(vec4<f32>(av.y), bv, acc1);
            acc2 = fma(vec4<f32>(av.z), bv, acc2);
            acc3 = fma(vec4<f32>(av.w), bv, acc3);
        }
        workgroupBarrier();
    }

    let n = n0 + tx * 4u;
    let b = vec4<f32>(bias[n], bias[n + 1u], bias[n + 2u], bias[n + 3u]);
    let mr = m0 + ty * 4u;
    epilogue(mr, n, acc0, b);
    epilogue(mr + 1u, n, acc1, b);
    epilogue(mr + 2u, n, acc2, b);
    epilogue(mr + 3u, n, acc3, b);
}
