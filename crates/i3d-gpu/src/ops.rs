//! Building blocks: device-resident conv weights ([`ConvWeights`]) and recorded kernel launches
//! ([`Dispatch`]) for each kernel, plus [`encode`] (one command encoder, optionally one timed
//! pass per dispatch) and [`run_once`] (submit and read one buffer back).
//!
//! Shapes are checked here against the device limits (binding sizes at allocation, workgroup
//! counts per dimension) and returned as typed errors before anything is dispatched.

use bytemuck::bytes_of;
use i3d_core::arch::{same_padding, ConvSpec, Dims3, LayerId, PoolSpec, Shape};

use crate::context::{encode as encode_values, GpuContext};
use crate::kernels::{
    AvgPool3d, Conv3d, ConvParams, Gemm, GemmParams, KernelId, Logits, LogitsParams, MaxPool3d,
    PoolParams, Precision, WgslKernel, TILE_K, TILE_M, TILE_N,
};
use crate::Error;

/// A recorded kernel launch: pipeline, bindings and workgroup counts, ready to encode.
#[derive(Debug, Clone)]
pub struct Dispatch {
    /// What it computes (`Mixed_3b.Branch_1.Conv3d_0b_3x3`, …).
    pub label: String,
    /// The layer it belongs to, set by the plan (`None` outside the network: a benchmark GEMM).
    pub layer: Option<LayerId>,
    /// The kernel variant.
    pub kernel: KernelId,
    /// The pipeline.
    pub pipeline: wgpu::ComputePipeline,
    /// Its bindings (parameter block included).
    pub bind_group: wgpu::BindGroup,
    /// Workgroups (x, y, z).
    pub workgroups: [u32; 3],
    /// Multiply-adds done (padded taps included; 0 for pools).
    pub macs: u64,
    /// (M, N, K) of the GEMM this dispatch is (conv and GEMM kernels), for comparisons.
    pub gemm_shape: Option<[usize; 3]>,
}

/// A conv's weights on the device: (k_rows, n_pad) row-major in the storage precision, zero-padded
/// (k_rows = K rounded up to [`TILE_K`], n_pad = cout rounded up to [`TILE_N`]), and an f32 bias
/// of n_pad entries.
#[derive(Debug, Clone)]
pub struct ConvWeights {
    /// Weight prefix(es).
    pub name: String,
    /// Kernel extent (kt, kh, kw).
    pub kernel: Dims3,
    /// Stride (st, sh, sw).
    pub stride: Dims3,
    /// Input channels.
    pub cin: usize,
    /// Output channels.
    pub cout: usize,
    /// Whether a ReLU follows.
    pub relu: bool,
    /// Rows of the padded weight.
    pub k_rows: usize,
    /// Columns of the padded weight.
    pub n_pad: usize,
    /// Storage precision of `weight`.
    pub precision: Precision,
    /// The weight buffer.
    pub weight: wgpu::Buffer,
    /// The bias buffer (f32).
    pub bias: wgpu::Buffer,
}

impl ConvWeights {
    /// Uploads a conv of the given geometry: `weight` is (kt·kh·kw·cin, cout) row-major (the
    /// (kt, kh, kw, cin, cout) layout of the weight files), `bias` has cout values.
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        ctx: &GpuContext,
        name: &str,
        kernel: Dims3,
        stride: Dims3,
        cin: usize,
        cout: usize,
        relu: bool,
        weight: &[f32],
        bias: &[f32],
        precision: Precision,
    ) -> Result<Self, Error> {
        let k = kernel[0] * kernel[1] * kernel[2] * cin;
        if weight.len() != k * cout || bias.len() != cout {
            return Err(Error::Weights(format!(
                "{name}: expected {k}×{cout} weights and {cout} biases, got {} and {}",
                weight.len(),
                bias.len()
            )));
        }
        let k_rows = k.next_multiple_of(TILE_K as usize);
        let n_pad = cout.next_multiple_of(TILE_N as usize);
        let mut padded = vec![0.0f32; k_rows * n_pad];
        for (dst, src) in padded
            .chunks_exact_mut(n_pad)
            .zip(weight.chunks_exact(cout))
        {
            dst[..cout].copy_from_slice(src);
        }
        let mut bias_padded = vec![0.0f32; n_pad];
        bias_padded[..cout].copy_from_slice(bias);
        Ok(ConvWeights {
            name: name.to_string(),
            kernel,
            stride,
            cin,
            cout,
            relu,
            k_rows,
            n_pad,
            precision,
            weight: ctx.upload(
                &format!("{name}.weight"),
                &encode_values(&padded, precision),
            )?,
            bias: ctx.upload(&format!("{name}.bias"), bytemuck::cast_slice(&bias_padded))?,
        })
    }

    /// Uploads the conv of an architecture spec.
    pub fn from_spec(
        ctx: &GpuContext,
        spec: &ConvSpec,
        weight: &[f32],
        bias: &[f32],
        precision: Precision,
    ) -> Result<Self, Error> {
        Self::new(
            ctx,
            spec.name,
            spec.kernel,
            spec.stride,
            spec.cin,
            spec.cout,
            spec.relu,
            weight,
            bias,
            precision,
        )
    }

    /// K = kt·kh·kw·cin.
    pub fn k(&self) -> usize {
        self.kernel[0] * self.kernel[1] * self.kernel[2] * self.cin
    }
}

/// A channel slice of an N×T×H×W×C tensor on the device: channels `offset..` of rows of `stride`
/// elements.
#[derive(Debug, Clone, Copy)]
pub struct Region<'a> {
    /// The buffer.
    pub buffer: &'a wgpu::Buffer,
    /// Elements per position (the tensor's channels).
    pub stride: usize,
    /// First channel of the slice.
    pub offset: usize,
}

impl<'a> Region<'a> {
    /// A whole tensor with `channels` channels.
    pub fn dense(buffer: &'a wgpu::Buffer, channels: usize) -> Self {
        Region {
            buffer,
            stride: channels,
            offset: 0,
        }
    }

    fn aligned4(&self) -> bool {
        self.stride.is_multiple_of(4) && self.offset.is_multiple_of(4)
    }
}

fn u32_of(label: &str, what: &str, v: usize) -> Result<u32, Error> {
    u32::try_from(v).map_err(|_| Error::Shape(format!("{label}: {what} = {v} exceeds u32")))
}

/// The tail every dispatch builder shares: the pipeline of kernel `K` at `precision` and vector
/// `width`, `params` in a uniform buffer at binding 0, `bindings` at bindings 1, 2, … (in the
/// order of [`WgslKernel::BINDINGS`]), and the workgroup counts (x, y, z). The [`Dispatch`] counts
/// no work (`macs` 0, no `gemm_shape`); builders of GEMM-like kernels set those.
fn record<K: WgslKernel>(
    ctx: &GpuContext,
    label: &str,
    precision: Precision,
    width: u32,
    params: &K::Params,
    bindings: &[&wgpu::Buffer],
    workgroups: [u32; 3],
) -> Result<Dispatch, Error> {
    let id = KernelId::of::<K>(precision, width);
    if bindings.len() != K::BINDINGS.len() {
        return Err(Error::Shape(format!(
            "{label}: {} binds {} buffers ({}), {} given",
            K::NAME,
            K::BINDINGS.len(),
            K::BINDINGS.join(", "),
            bindings.len()
        )));
    }
    let pipeline = ctx.pipeline(id)?;
    let uniform = ctx.uniform(&format!("{label}.params"), bytes_of(params));
    let entries: Vec<wgpu::BindGroupEntry<'_>> = std::iter::once(&uniform)
        .chain(bindings.iter().copied())
        .zip(0u32..)
        .map(|(buffer, binding)| wgpu::BindGroupEntry {
            binding,
            resource: buffer.as_entire_binding(),
        })
        .collect();
    let bind_group = ctx.device.create_bind_group(&wgpu::BindGroupDescriptor {
        label: Some(label),
        layout: &pipeline.get_bind_group_layout(0),
        entries: &entries,
    });
    Ok(Dispatch {
        label: label.to_string(),
        layer: None,
        kernel: id,
        pipeline,
        bind_group,
        workgroups,
        macs: 0,
        gemm_shape: None,
    })
}

/// Records a TF `SAME` convolution of `input` (shape `shape`, its channel slice of width cin)
/// with `w`: output channels `0..split` go to `out` and, when `second` is given, channels
/// `split..cout` go to its region (the fused 1×1 convs of an Inception block); otherwise split = cout.
pub fn conv3d(
    ctx: &GpuContext,
    label: &str,
    w: &ConvWeights,
    input: Region<'_>,
    shape: Shape,
    out: Region<'_>,
    second: Option<(Region<'_>, usize)>,
) -> Result<Dispatch, Error> {
    if shape.c != w.cin {
        return Err(Error::Shape(format!(
            "{label}: input has {} channels, the conv expects {}",
            shape.c, w.cin
        )));
    }
    let split = second.map_or(w.cout, |(_, split)| split);
    if split > w.cout {
        return Err(Error::Shape(format!(
            "{label}: split {split} > cout {}",
            w.cout
        )));
    }
    let mut dims = [0usize; 3];
    let mut pad = [0usize; 3];
    for axis in 0..3 {
        let (o, before, _) = same_padding(shape.thw()[axis], w.kernel[axis], w.stride[axis]);
        dims[axis] = o;
        pad[axis] = before;
    }
    let m = shape.n * dims[0] * dims[1] * dims[2];
    let dst1 = second.map_or(Region::dense(&ctx.dummy, 4), |(r, _)| r);
    let width = if w.cin.is_multiple_of(4)
        && input.aligned4()
        && w.cout.is_multiple_of(4)
        && split.is_multiple_of(4)
        && out.aligned4()
        && dst1.aligned4()
    {
        4
    } else {
        1
    };
    let m_tiles = m.div_ceil(TILE_M as usize);
    let n_tiles = w.cout.div_ceil(TILE_N as usize);
    let u = |what, v| u32_of(label, what, v);
    let params = ConvParams {
        in_t: u("T", shape.t)?,
        in_h: u("H", shape.h)?,
        in_w: u("W", shape.w)?,
        cin: u("cin", w.cin)?,
        in_cstride: u("input stride", input.stride)?,
        in_coffset: u("input offset", input.offset)?,
        out_t: u("To", dims[0])?,
        out_h: u("Ho", dims[1])?,
        out_w: u("Wo", dims[2])?,
        m: u("M", m)?,
        n: u("cout", w.cout)?,
        k: u("K", w.k())?,
        n_pad: u("n_pad", w.n_pad)?,
        kt: u("kt", w.kernel[0])?,
        kh: u("kh", w.kernel[1])?,
        kw: u("kw", w.kernel[2])?,
        st: u("st", w.stride[0])?,
        sh: u("sh", w.stride[1])?,
        sw: u("sw", w.stride[2])?,
        pt: u("pt", pad[0])?,
        ph: u("ph", pad[1])?,
        pw: u("pw", pad[2])?,
        relu: u32::from(w.relu),
        split: u("split", split)?,
        out0_stride: u("output stride", out.stride)?,
        out0_offset: u("output offset", out.offset)?,
        out1_stride: u("second output stride", dst1.stride)?,
        out1_offset: u("second output offset", dst1.offset)?,
        m_tiles: u("M tiles", m_tiles)?,
        _pad: [0; 3],
    };
    // Largest element index touched must fit the u32/i32 arithmetic of the kernel.
    let in_elems = shape.positions() * input.stride;
    u32_of(label, "input elements", in_elems)?;
    i32::try_from(in_elems).map_err(|_| Error::Shape(format!("{label}: input too large")))?;
    let workgroups = ctx.workgroups(label, m_tiles as u64, u("N tiles", n_tiles)?)?;
    let step = record::<Conv3d>(
        ctx,
        label,
        w.precision,
        width,
        &params,
        &[input.buffer, &w.weight, &w.bias, out.buffer, dst1.buffer],
        workgroups,
    )?;
    Ok(Dispatch {
        macs: m as u64 * w.k() as u64 * w.cout as u64,
        gemm_shape: Some([m, w.cout, w.k()]),
        ..step
    })
}

/// `threads` (one per output element or vector) as a u32 and the workgroups of `K` covering them.
fn elementwise_workgroups<K: WgslKernel>(
    ctx: &GpuContext,
    label: &str,
    threads: usize,
) -> Result<(u32, [u32; 3]), Error> {
    let total = u32_of(label, "threads", threads)?;
    let groups = threads.div_ceil(K::WORKGROUP_SIZE as usize) as u64;
    Ok((total, ctx.workgroups(label, groups, 1)?))
}

/// Records a TF `SAME` max-pool of the dense tensor `input` (shape `shape`) into the dense `out`.
pub fn maxpool3d(
    ctx: &GpuContext,
    label: &str,
    precision: Precision,
    input: &wgpu::Buffer,
    shape: Shape,
    pool: PoolSpec,
    out: &wgpu::Buffer,
) -> Result<Dispatch, Error> {
    let width = if shape.c.is_multiple_of(4) { 4 } else { 1 };
    let o = pool.output_shape(shape);
    let mut pad = [0u32; 3];
    for (axis, p) in pad.iter_mut().enumerate() {
        let (_, before, _) = same_padding(shape.thw()[axis], pool.kernel[axis], pool.stride[axis]);
        *p = u32_of(label, "padding", before)?;
    }
    let (total, workgroups) = elementwise_workgroups::<MaxPool3d>(
        ctx,
        label,
        o.positions() * (shape.c / width as usize),
    )?;
    let u = |what, v| u32_of(label, what, v);
    let params = PoolParams {
        in_t: u("T", shape.t)?,
        in_h: u("H", shape.h)?,
        in_w: u("W", shape.w)?,
        c: u("C", shape.c)?,
        out_t: u("To", o.t)?,
        out_h: u("Ho", o.h)?,
        out_w: u("Wo", o.w)?,
        total,
        kt: u("kt", pool.kernel[0])?,
        kh: u("kh", pool.kernel[1])?,
        kw: u("kw", pool.kernel[2])?,
        st: u("st", pool.stride[0])?,
        sh: u("sh", pool.stride[1])?,
        sw: u("sw", pool.stride[2])?,
        pt: pad[0],
        ph: pad[1],
        pw: pad[2],
        ..PoolParams::default()
    };
    record::<MaxPool3d>(
        ctx,
        label,
        precision,
        width,
        &params,
        &[input, out],
        workgroups,
    )
}

/// Records a VALID, stride-1 average pool of the dense tensor `input` (shape `shape`) into `out`
/// (f32, N×(T−kt+1)×(H−kh+1)×(W−kw+1)×C).
pub fn avgpool3d(
    ctx: &GpuContext,
    label: &str,
    precision: Precision,
    input: &wgpu::Buffer,
    shape: Shape,
    kernel: Dims3,
    out: &wgpu::Buffer,
) -> Result<Dispatch, Error> {
    let [kt, kh, kw] = kernel;
    if shape.t < kt || shape.h < kh || shape.w < kw {
        return Err(Error::Shape(format!(
            "{label}: a {kt}×{kh}×{kw} VALID window does not fit {shape}"
        )));
    }
    let width = if shape.c.is_multiple_of(4) { 4 } else { 1 };
    let o = Shape {
        t: shape.t + 1 - kt,
        h: shape.h + 1 - kh,
        w: shape.w + 1 - kw,
        ..shape
    };
    let (total, workgroups) = elementwise_workgroups::<AvgPool3d>(
        ctx,
        label,
        o.positions() * (shape.c / width as usize),
    )?;
    let u = |what, v| u32_of(label, what, v);
    // The pool parameter block; VALID with stride 1, so stride 1 and no padding.
    let params = PoolParams {
        in_t: u("T", shape.t)?,
        in_h: u("H", shape.h)?,
        in_w: u("W", shape.w)?,
        c: u("C", shape.c)?,
        out_t: u("To", o.t)?,
        out_h: u("Ho", o.h)?,
        out_w: u("Wo", o.w)?,
        total,
        kt: u("kt", kt)?,
        kh: u("kh", kh)?,
        kw: u("kw", kw)?,
        st: 1,
        sh: 1,
        sw: 1,
        ..PoolParams::default()
    };
    record::<AvgPool3d>(
        ctx,
        label,
        precision,
        width,
        &params,
        &[input, out],
        workgroups,
    )
}

/// Records the classifier: `x` is N×P×cin f32, `out` receives N×cout f32 logits,
/// logits = bias + mean over P of x·W.
pub fn logits(
    ctx: &GpuContext,
    label: &str,
    w: &ConvWeights,
    x: &wgpu::Buffer,
    batch: usize,
    positions: usize,
    out: &wgpu::Buffer,
) -> Result<Dispatch, Error> {
    if w.kernel != [1, 1, 1] {
        return Err(Error::Shape(format!(
            "{label}: the classifier must be 1×1×1"
        )));
    }
    let u = |what, v| u32_of(label, what, v);
    let params = LogitsParams {
        batch: u("N", batch)?,
        positions: u("P", positions)?,
        c: u("C", w.cin)?,
        classes: u("classes", w.cout)?,
        n_pad: u("n_pad", w.n_pad)?,
        _pad: [0; 3],
    };
    let groups = u(
        "class groups",
        w.cout.div_ceil(Logits::WORKGROUP_SIZE as usize),
    )?;
    let step = record::<Logits>(
        ctx,
        label,
        w.precision,
        1,
        &params,
        &[x, &w.weight, &w.bias, out],
        [groups, u("N", batch)?, 1],
    )?;
    Ok(Dispatch {
        macs: (batch * positions) as u64 * (w.cin * w.cout) as u64,
        ..step
    })
}

/// Records C = A·B for the plain GEMM kernel: `a` is M×K, `b` is (k_rows, n_pad) as in
/// [`ConvWeights`], `c` is M×N; K and N must be multiples of 4.
#[allow(clippy::too_many_arguments)]
pub fn gemm(
    ctx: &GpuContext,
    label: &str,
    precision: Precision,
    a: &wgpu::Buffer,
    b: &wgpu::Buffer,
    c: &wgpu::Buffer,
    [m, n, k]: [usize; 3],
    n_pad: usize,
) -> Result<Dispatch, Error> {
    if !k.is_multiple_of(4)
        || !n.is_multiple_of(4)
        || !n_pad.is_multiple_of(TILE_N as usize)
        || n > n_pad
    {
        return Err(Error::Shape(format!(
            "{label}: GEMM needs K, N multiples of 4 and n_pad a multiple of {TILE_N} ≥ N"
        )));
    }
    let m_tiles = m.div_ceil(TILE_M as usize);
    let u = |what, v| u32_of(label, what, v);
    let params = GemmParams {
        m: u("M", m)?,
        n: u("N", n)?,
        k: u("K", k)?,
        n_pad: u("n_pad", n_pad)?,
        m_tiles: u("M tiles", m_tiles)?,
        _pad: [0; 3],
    };
    let workgroups = ctx.workgroups(
        label,
        m_tiles as u64,
        u("N tiles", n.div_ceil(TILE_N as usize))?,
    )?;
    let step = record::<Gemm>(ctx, label, precision, 1, &params, &[a, b, c], workgroups)?;
    Ok(Dispatch {
        macs: m as u64 * n as u64 * k as u64,
        gemm_shape: Some([m, n, k]),
        ..step
    })
}

/// Encodes `steps` in order. Without `timestamps`, all in one compute pass (wgpu orders the
/// dispatches' storage accesses); with them, one pass per dispatch whose start and end go to
/// queries 2i and 2i + 1.
pub fn encode(
    encoder: &mut wgpu::CommandEncoder,
    steps: &[Dispatch],
    timestamps: Option<&wgpu::QuerySet>,
) {
    match timestamps {
        None => {
            let mut pass = encoder.begin_compute_pass(&wgpu::ComputePassDescriptor {
                label: Some("i3d"),
                timestamp_writes: None,
            });
            for step in steps {
                pass.push_debug_group(&step.label);
                pass.set_pipeline(&step.pipeline);
                pass.set_bind_group(0, &step.bind_group, &[]);
                let [x, y, z] = step.workgroups;
                pass.dispatch_workgroups(x, y, z);
                pass.pop_debug_group();
            }
        }
        Some(query_set) => {
            for (step, i) in steps.iter().zip(0u32..) {
                let mut pass = encoder.begin_compute_pass(&wgpu::ComputePassDescriptor {
                    label: Some(&step.label),
                    timestamp_writes: Some(wgpu::ComputePassTimestampWrites {
                        query_set,
                        beginning_of_pass_write_index: Some(2 * i),
                        end_of_pass_write_index: Some(2 * i + 1),
                    }),
                });
                pass.set_pipeline(&step.pipeline);
                pass.set_bind_group(0, &step.bind_group, &[]);
                let [x, y, z] = step.workgroups;
                pass.dispatch_workgroups(x, y, z);
            }
        }
    }
}

/// Runs `steps` in one submission and reads back the first `size` bytes of `result`.
pub async fn run_once(
    ctx: &GpuContext,
    steps: &[Dispatch],
    result: &wgpu::Buffer,
    size: u64,
) -> Result<Vec<u8>, Error> {
    let staging = ctx.staging("readback", size);
    ctx.push_errors();
    let mut encoder = ctx
        .device
        .create_command_encoder(&wgpu::CommandEncoderDescriptor {
            label: Some("run_once"),
        });
    encode(&mut encoder, steps, None);
    encoder.copy_buffer_to_buffer(result, 0, &staging, 0, size.next_multiple_of(4));
    ctx.queue.submit([encoder.finish()]);
    ctx.pop_errors("submission").await?;
    ctx.read(&staging, size).await
}
