// A plain tiled GEMM, C[M, N] = A[M, K] · B[K, N] (row-major, dense), the yardstick of the conv3d
// kernel: the same 64×64 tile, 16-deep slices in workgroup memory, 8×8 f32 register blocks and
// 4-vector loads (common.wgsl), without the implicit-GEMM addressing. Requires K and N multiples
// of 4; B has k_rows ≥ K (rounded up to 16) rows of n_pad (a multiple of 64) columns, zero-padded.

struct GemmParams {
    m: u32, n: u32, k: u32, n_pad: u32,
    m_tiles: u32, _pad0: u32, _pad1: u32, _pad2: u32,
}

@group(0) @binding(0) var<uniform> p: GemmParams;
@group(0) @binding(1) var<storage, read> a: array<vec4<S>>;
@group(0) @binding(2) var<storage, read> b: array<vec4<S>>;
@group(0) @binding(3) var<storage, read_write> c: array<vec4<S>>;

fn load_a(m: u32, k: u32) -> vec4<f32> {
    if m >= p.m {
        return vec4<f32>(0.0);
    }
    return vec4<f32>(a[(m * p.k + k) / 4u]);
}

fn store(m: u32, n: u32, v: vec4<f32>) {
    if m < p.m && n < p.n {
        c[(m * p.n + n) / 4u] = vec4<S>(v);
    }
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
    let r = lid / 4u;
    let a_k = (lid % 4u) * 4u;
    let b_row = lid / 4u;
    let b_col = (lid % 4u) * 4u;
    let tx = lid % 8u;
    let ty = lid / 8u;
    var acc: array<vec4<f32>, 16>;

    for (var k0 = 0u; k0 < p.k; k0 += SLICE) {
        if k0 + a_k < p.k {
            put_a(r, a_k, load_a(m0 + r, k0 + a_k));
            put_a(r + 16u, a_k, load_a(m0 + r + 16u, k0 + a_k));
            put_a(r + 32u, a_k, load_a(m0 + r + 32u, k0 + a_k));
            put_a(r + 48u, a_k, load_a(m0 + r + 48u, k0 + a_k));
        } else {
            put_a(r, a_k, vec4<f32>(0.0));
            put_a(r + 16u, a_k, vec4<f32>(0.0));
            put_a(r + 32u, a_k, vec4<f32>(0.0));
            put_a(r + 48u, a_k, vec4<f32>(0.0));
        }
        let b_base = ((k0 + b_row) * p.n_pad + n0) / 4u + b_col;
        for (var j = 0u; j < 4u; j++) {
            tile_b[b_row * 16u + b_col + j] = vec4<f32>(b[b_base + j]);
        }
        workgroupBarrier();
        block_slice(&acc, tx, ty);
        workgroupBarrier();
    }

    let n_lo = n0 + 4u * tx;
    let n_hi = n_lo + 32u;
    store(m0 + block_row(ty, 0u), n_lo, acc[0]);
    store(m0 + block_row(ty, 0u), n_hi, acc[1]);
    store(m0 + block_row(ty, 1u), n_lo, acc[2]);
    store(m0 + block_row(ty, 1u), n_hi, acc[3]);
    store(m0 + block_row(ty, 2u), n_lo, acc[4]);
    store(m0 + block_row(ty, 2u), n_hi, acc[5]);
    store(m0 + block_row(ty, 3u), n_lo, acc[6]);
    store(m0 + block_row(ty, 3u), n_hi, acc[7]);
    store(m0 + block_row(ty, 4u), n_lo, acc[8]);
    store(m0 + block_row(ty, 4u), n_hi, acc[9]);
    store(m0 + block_row(ty, 5u), n_lo, acc[10]);
    store(m0 + block_row(ty, 5u), n_hi, acc[11]);
    store(m0 + block_row(ty, 6u), n_lo, acc[12]);
    store(m0 + block_row(ty, 6u), n_hi, acc[13]);
    store(m0 + block_row(ty, 7u), n_lo, acc[14]);
    store(m0 + block_row(ty, 7u), n_hi, acc[15]);
}
