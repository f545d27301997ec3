// A plain tiled GEMM, C[M, N] = A[M, K] · B[K, N] (row-major, dense), the yardstick of the conv3d
// kernel: the same 64×64 tile, BK = 16 slices in workgroup memory, 4×4 f32 register blocks and
// 4-vector loads, without the implicit-GEMM addressing. Requires K and N multiples of 4;
// B has k_rows ≥ K (rounded up to 16) rows of n_pad (a multiple of 64) columns, zero-padded.

struct GemmParams {
    m: u32, n: u32, k: u32, n_pad: u32,
    m_tiles: u32, _pad0: u32, _pad1: u32, _pad2: u32,
}

@group(0) @binding(0) var<uniform> p: GemmParams;
@group(0) @binding(1) var<storage, read> a: array<vec4<S>>;
@group(0) @binding(2) var<storage, read> b: array<vec4<S>>;
@group(0) @binding(3) var<storage, read_write> c: array<vec4<S>>;

const BM: u32 = 64u;
const BN: u32 = 64u;
const BK: u32 = 16u;

var<workgroup> as_: array<vec4<f32>, 256>;
var<workgroup> bs: array<vec4<f32>, 256>;

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
    let a_row = lid / 4u;
    let a_k = (lid % 4u) * 4u;
    let m = m0 + a_row;
    let a_slot = a_row / 4u;
    let a_lane = a_row % 4u;
    let b_row = lid / 16u;
    let b_col = lid % 16u;
    let tx = lid % 16u;
    let ty = lid / 16u;
    var acc0 = vec4<f32>(0.0);
    var acc1 = vec4<f32>(0.0);
    var acc2 = vec4<f32>(0.0);
    var acc3 = vec4<f32>(0.0);

    for (var k0 = 0u; k0 < p.k; k0 += BK) {
        var av = vec4<f32>(0.0);
        if m < p.m && k0 + a_k < p.k {
            av = vec4<f32>(a[(m * p.k + k0 + a_k) / 4u]);
        }
        as_[(a_k + 0u) * 16u + a_slot][a_lane] = av.x;
        as_[(a_k + 1u) * 16u + a_slot][a_lane] = av.y;
        as_[(a_k + 2u) * 16u + a_slot][a_lane] = av.z;
        as_[(a_k + 3u) * 16u + a_slot][a_lane] = av.w;
        bs[b_row * 16u + b_col] = vec4<f32>(b[((k0 + b_row) * p.n_pad + n0) / 4u + b_col]);
        workgroupBarrier();
        for (var kk = 0u; kk < BK; kk++) {
            let x = as_[kk * 16u + ty];
            let y = bs[kk * 16u + tx];
            acc0 = fma(vec4<f32>(x.x), y, acc0);
            acc1 = fma(vec4<f32>(x.y), y, acc1);
            acc2 = fma(vec4<f32>(x.z), y, acc2);
            acc3 = fma(vec4<f32>(x.w), y, acc3);
        }
        workgroupBarrier();
    }

    let n = n0 + tx * 4u;
    if n >= p.n {
        return;
    }
    let mr = m0 + ty * 4u;
    if mr < p.m {
        c[(mr * p.n + n) / 4u] = vec4<S>(acc0);
    }
    if mr + 1u < p.m {
        c[((mr + 1u) * p.n + n) / 4u] = vec4<S>(acc1);
    }
    if mr + 2u < p.m {
        c[((mr + 2u) * p.n + n) / 4u] = vec4<S>(acc2);
    }
    if mr + 3u < p.m {
        c[((mr + 3u) * p.n + n) / 4u] = vec4<S>(acc3);
    }
}
