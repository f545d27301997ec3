//! [`GpuContext`]: adapter, device and queue, their limits and features, the pipeline cache, and
//! the buffer helpers every executor uses (limit-checked allocation, upload, async readback).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use wgpu::util::DeviceExt;

use crate::kernels::{KernelId, Precision, MAX_WORKGROUP_SIZE, WORKGROUP_STORAGE_BYTES};
use crate::Error;

/// WebGPU's guaranteed `maxComputeWorkgroupsPerDimension`
/// (<https://www.w3.org/TR/webgpu/#dom-supported-limits-maxcomputeworkgroupsperdimension>).
pub const MAX_COMPUTE_WORKGROUPS_PER_DIMENSION: u32 = 65535;

/// WebGPU's guaranteed `maxStorageBufferBindingSize`, 128 MiB
/// (<https://www.w3.org/TR/webgpu/#dom-supported-limits-maxstoragebufferbindingsize>).
pub const MAX_STORAGE_BUFFER_BINDING_SIZE: u64 = 128 << 20;

/// Storage buffers one conv dispatch binds (input, weight, bias, two outputs).
pub const STORAGE_BUFFERS_PER_STAGE: u32 = 5;

/// What the adapter is and what the device was given.
#[derive(Debug, Clone)]
pub struct AdapterSummary {
    /// Adapter name (`llvmpipe (LLVM 15.0.6, 256 bits)`, …).
    pub name: String,
    /// Backend (`Vulkan`, `BrowserWebGpu`, …).
    pub backend: String,
    /// Device type (`Cpu`, `DiscreteGpu`, …).
    pub device_type: String,
    /// Driver name and version, when reported.
    pub driver: String,
    /// Whether the device has `shader-f16`.
    pub shader_f16: bool,
    /// Whether the device has timestamp queries.
    pub timestamps: bool,
    /// The device's `maxStorageBufferBindingSize` (bytes).
    pub max_storage_binding: u64,
    /// The device's `maxBufferSize` (bytes).
    pub max_buffer: u64,
    /// The device's `maxComputeWorkgroupsPerDimension`.
    pub max_workgroups_per_dimension: u32,
}

impl std::fmt::Display for AdapterSummary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} ({}, {}; shader-f16: {}, timestamps: {}, max storage binding {} MiB)",
            self.name,
            self.backend,
            self.device_type,
            if self.shader_f16 { "yes" } else { "no" },
            if self.timestamps { "yes" } else { "no" },
            self.max_storage_binding >> 20
        )
    }
}

/// A wgpu device and queue with the pipeline cache. Cheap to clone (handles are shared).
#[derive(Debug, Clone)]
pub struct GpuContext {
    /// The device.
    pub device: wgpu::Device,
    /// Its queue.
    pub queue: wgpu::Queue,
    /// The adapter, features and limits.
    pub summary: AdapterSummary,
    /// A small storage buffer bound where a kernel's optional output is unused.
    pub dummy: wgpu::Buffer,
    pipelines: Arc<Mutex<HashMap<KernelId, wgpu::ComputePipeline>>>,
}

/// Why an adapter cannot run the kernels at all, or `None` when it can.
pub fn insufficiency(
    limits: &wgpu::Limits,
    downlevel: &wgpu::DownlevelCapabilities,
) -> Option<String> {
    if !downlevel
        .flags
        .contains(wgpu::DownlevelFlags::COMPUTE_SHADERS)
    {
        return Some("no compute shaders".into());
    }
    let checks: [(&str, u64, u64); 5] = [
        (
            "maxComputeInvocationsPerWorkgroup",
            limits.max_compute_invocations_per_workgroup.into(),
            MAX_WORKGROUP_SIZE.into(),
        ),
        (
            "maxComputeWorkgroupSizeX",
            limits.max_compute_workgroup_size_x.into(),
            MAX_WORKGROUP_SIZE.into(),
        ),
        (
            "maxComputeWorkgroupStorageSize",
            limits.max_compute_workgroup_storage_size.into(),
            WORKGROUP_STORAGE_BYTES.into(),
        ),
        (
            "maxStorageBuffersPerShaderStage",
            limits.max_storage_buffers_per_shader_stage.into(),
            STORAGE_BUFFERS_PER_STAGE.into(),
        ),
        (
            "maxStorageBufferBindingSize",
            limits.max_storage_buffer_binding_size.into(),
            // The largest f32 activation at T = 16 (the stem output, 8×112×112×64) must fit.
            (8 * 112 * 112 * 64 * 4) as u64,
        ),
    ];
    checks
        .iter()
        .find(|(_, have, need)| have < need)
        .map(|(name, have, need)| format!("{name} is {have}, needs {need}"))
}

impl GpuContext {
    /// Requests the default high-performance adapter and a device with the adapter's own limits
    /// (not WebGPU's defaults: at T = 64 activations approach 128 MiB) and, when available,
    /// `shader-f16` and timestamp queries.
    pub async fn new() -> Result<Self, Error> {
        #[cfg(target_arch = "wasm32")]
        if !has_webgpu() {
            return Err(Error::NoWebGpu);
        }
        let instance = wgpu::Instance::new(&wgpu::InstanceDescriptor {
            flags: wgpu::InstanceFlags::empty().with_env(),
            ..wgpu::InstanceDescriptor::default().with_env()
        });
        let adapter = instance
            .request_adapter(&wgpu::RequestAdapterOptions {
                power_preference: wgpu::PowerPreference::HighPerformance,
                force_fallback_adapter: false,
                compatible_surface: None,
            })
            .await
            .map_err(|e| Error::NoAdapter(e.to_string()))?;
        Self::from_adapter(&adapter).await
    }

    /// Creates the device on a given adapter.
    pub async fn from_adapter(adapter: &wgpu::Adapter) -> Result<Self, Error> {
        #[allow(unused_mut)]
        let mut info = adapter.get_info();
        #[cfg(target_arch = "wasm32")]
        if info.name.is_empty() {
            if let Some(browser) = browser_adapter_info().await {
                info.name = browser.name;
                if browser.software {
                    info.device_type = wgpu::DeviceType::Cpu;
                }
            }
        }
        let limits = adapter.limits();
        if let Some(reason) = insufficiency(&limits, &adapter.get_downlevel_capabilities()) {
            return Err(Error::Insufficient {
                adapter: info.name,
                reason,
            });
        }
        let wanted = wgpu::Features::SHADER_F16 | wgpu::Features::TIMESTAMP_QUERY;
        let features = adapter.features() & wanted;
        let (device, queue) = adapter
            .request_device(&wgpu::DeviceDescriptor {
                label: Some("i3d-gpu"),
                required_features: features,
                required_limits: limits,
                experimental_features: wgpu::ExperimentalFeatures::disabled(),
                memory_hints: wgpu::MemoryHints::Performance,
                trace: wgpu::Trace::Off,
            })
            .await
            .map_err(|e| Error::Device {
                adapter: info.name.clone(),
                reason: e.to_string(),
            })?;
        Ok(Self::from_device(&info, device, queue))
    }

    /// Wraps an existing device (tests and embedders inject their own).
    pub fn from_device(info: &wgpu::AdapterInfo, device: wgpu::Device, queue: wgpu::Queue) -> Self {
        let limits = device.limits();
        let features = device.features();
        let summary = AdapterSummary {
            name: info.name.clone(),
            backend: format!("{:?}", info.backend),
            device_type: format!("{:?}", info.device_type),
            driver: format!("{} {}", info.driver, info.driver_info)
                .trim()
                .to_string(),
            shader_f16: features.contains(wgpu::Features::SHADER_F16),
            timestamps: features.contains(wgpu::Features::TIMESTAMP_QUERY),
            max_storage_binding: limits.max_storage_buffer_binding_size.into(),
            max_buffer: limits.max_buffer_size,
            max_workgroups_per_dimension: limits.max_compute_workgroups_per_dimension,
        };
        let dummy = device.create_buffer(&wgpu::BufferDescriptor {
            label: Some("unused output"),
            size: 256,
            usage: wgpu::BufferUsages::STORAGE,
            mapped_at_creation: false,
        });
        GpuContext {
            device,
            queue,
            summary,
            dummy,
            pipelines: Arc::default(),
        }
    }

    /// Whether this device can store in `precision`.
    pub fn supports(&self, precision: Precision) -> bool {
        match precision {
            Precision::F32 => true,
            Precision::F16 => self.summary.shader_f16,
        }
    }

    /// The best storage precision of this device: f16 with `shader-f16`, else f32.
    pub fn best_precision(&self) -> Precision {
        if self.summary.shader_f16 {
            Precision::F16
        } else {
            Precision::F32
        }
    }

    /// Fails with [`Error::NoF16`] when `precision` is f16 and the device lacks `shader-f16`.
    pub fn check_precision(&self, precision: Precision) -> Result<(), Error> {
        if self.supports(precision) {
            Ok(())
        } else {
            Err(Error::NoF16 {
                adapter: self.summary.name.clone(),
            })
        }
    }

    /// The compute pipeline of a kernel variant, compiled on first use and cached. Fails with
    /// [`Error::NoF16`] for f16 without `shader-f16`, and with [`Error::Shape`] for a vector width
    /// the kernel is not built with.
    pub fn pipeline(&self, id: KernelId) -> Result<wgpu::ComputePipeline, Error> {
        self.check_precision(id.precision)?;
        if !id.is_built() {
            return Err(Error::Shape(format!(
                "{} has no width-{} variant (widths {:?})",
                id.kernel,
                id.width,
                id.kernel.widths()
            )));
        }
        let mut cache = self.pipelines.lock().map_err(|_| Error::Wgpu {
            scope: "pipeline cache",
            message: "poisoned lock".into(),
        })?;
        if let Some(pipeline) = cache.get(&id) {
            return Ok(pipeline.clone());
        }
        let label = id.label();
        let module = self
            .device
            .create_shader_module(wgpu::ShaderModuleDescriptor {
                label: Some(&label),
                source: wgpu::ShaderSource::Wgsl(id.source().into()),
            });
        let pipeline = self
            .device
            .create_compute_pipeline(&wgpu::ComputePipelineDescriptor {
                label: Some(&label),
                layout: None,
                module: &module,
                entry_point: Some("main"),
                compilation_options: wgpu::PipelineCompilationOptions {
                    constants: &[],
                    // Every kernel writes its workgroup memory before reading it.
                    zero_initialize_workgroup_memory: false,
                },
                cache: None,
            });
        cache.insert(id, pipeline.clone());
        Ok(pipeline)
    }

    /// Fails with [`Error::BufferTooLarge`] when a storage binding of `size` bytes exceeds the
    /// device's limits.
    pub fn check_binding(&self, label: &str, size: u64) -> Result<(), Error> {
        let limits = [
            (
                "maxStorageBufferBindingSize",
                self.summary.max_storage_binding,
            ),
            ("maxBufferSize", self.summary.max_buffer),
        ];
        for (limit_name, limit) in limits {
            if size > limit {
                return Err(Error::BufferTooLarge {
                    label: label.to_string(),
                    size,
                    limit_name,
                    limit,
                });
            }
        }
        Ok(())
    }

    /// A storage buffer of `size` bytes (rounded up to 16), checked against the limits.
    pub fn storage(&self, label: &str, size: u64) -> Result<wgpu::Buffer, Error> {
        let size = size.max(16).next_multiple_of(16);
        self.check_binding(label, size)?;
        Ok(self.device.create_buffer(&wgpu::BufferDescriptor {
            label: Some(label),
            size,
            usage: wgpu::BufferUsages::STORAGE
                | wgpu::BufferUsages::COPY_DST
                | wgpu::BufferUsages::COPY_SRC,
            mapped_at_creation: false,
        }))
    }

    /// A storage buffer holding `bytes` (padded with zeros to a multiple of 16 bytes).
    pub fn upload(&self, label: &str, bytes: &[u8]) -> Result<wgpu::Buffer, Error> {
        let size = (bytes.len() as u64).max(16).next_multiple_of(16);
        self.check_binding(label, size)?;
        let mut padded;
        let contents = if size as usize == bytes.len() {
            bytes
        } else {
            padded = vec![0u8; size as usize];
            padded[..bytes.len()].copy_from_slice(bytes);
            &padded[..]
        };
        Ok(self
            .device
            .create_buffer_init(&wgpu::util::BufferInitDescriptor {
                label: Some(label),
                contents,
                usage: wgpu::BufferUsages::STORAGE
                    | wgpu::BufferUsages::COPY_DST
                    | wgpu::BufferUsages::COPY_SRC,
            }))
    }

    /// A uniform buffer holding a parameter block.
    pub fn uniform(&self, label: &str, bytes: &[u8]) -> wgpu::Buffer {
        self.device
            .create_buffer_init(&wgpu::util::BufferInitDescriptor {
                label: Some(label),
                contents: bytes,
                usage: wgpu::BufferUsages::UNIFORM,
            })
    }

    /// A mappable staging buffer for readback.
    pub fn staging(&self, label: &str, size: u64) -> wgpu::Buffer {
        self.device.create_buffer(&wgpu::BufferDescriptor {
            label: Some(label),
            size: size.max(16).next_multiple_of(16),
            usage: wgpu::BufferUsages::MAP_READ | wgpu::BufferUsages::COPY_DST,
            mapped_at_creation: false,
        })
    }

    /// Splits `count` workgroups (times `z`) into a dispatch `[x, y, z]` with x·y ≥ count and every
    /// dimension within `maxComputeWorkgroupsPerDimension`; kernels recover the linear index as
    /// x + y·nx and skip indices ≥ count.
    pub fn workgroups(&self, label: &str, count: u64, z: u32) -> Result<[u32; 3], Error> {
        let max = self.summary.max_workgroups_per_dimension.max(1);
        split_workgroups(count, z, max).ok_or_else(|| Error::TooManyWorkgroups {
            label: label.to_string(),
            workgroups: count * u64::from(z),
            limit: max,
        })
    }

    /// Starts capturing validation and out-of-memory errors (see [`GpuContext::pop_errors`]).
    pub fn push_errors(&self) {
        self.device.push_error_scope(wgpu::ErrorFilter::OutOfMemory);
        self.device.push_error_scope(wgpu::ErrorFilter::Validation);
    }

    /// Ends the capture started by [`GpuContext::push_errors`]: the first error, if any.
    pub async fn pop_errors(&self, scope: &'static str) -> Result<(), Error> {
        let validation = self.device.pop_error_scope().await;
        let oom = self.device.pop_error_scope().await;
        match validation.or(oom) {
            Some(e) => Err(Error::Wgpu {
                scope,
                message: e.to_string(),
            }),
            None => Ok(()),
        }
    }

    /// Reads the first `size` bytes of a `MAP_READ` buffer (after the submission that fills it).
    pub async fn read(&self, buffer: &wgpu::Buffer, size: u64) -> Result<Vec<u8>, Error> {
        if size > buffer.size() {
            return Err(Error::Readback(format!(
                "{size} bytes asked from a {}-byte buffer",
                buffer.size()
            )));
        }
        let slice = buffer.slice(..);
        let (sender, receiver) = futures_channel::oneshot::channel();
        slice.map_async(wgpu::MapMode::Read, move |result| {
            // The receiver only disappears when the caller's future was dropped.
            let _ = sender.send(result);
        });
        // Natively, map callbacks run inside `poll`; in the browser the event loop runs them.
        #[cfg(not(target_arch = "wasm32"))]
        self.device
            .poll(wgpu::PollType::wait_indefinitely())
            .map_err(|e| Error::Readback(e.to_string()))?;
        receiver
            .await
            .map_err(|_| Error::Readback("the map callback was dropped".into()))?
            .map_err(|e| Error::Readback(e.to_string()))?;
        let bytes = slice.get_mapped_range()[..size as usize].to_vec();
        buffer.unmap();
        Ok(bytes)
    }
}

/// What the browser says about its WebGPU adapter (wgpu's WebGPU backend reports nothing).
#[cfg(target_arch = "wasm32")]
struct BrowserAdapter {
    /// `vendor architecture description`, e.g. `google swiftshader`.
    name: String,
    /// A fallback (software) adapter such as SwiftShader.
    software: bool,
}

/// Whether this browser exposes WebGPU here (`navigator.gpu`, in the page or the worker).
#[cfg(target_arch = "wasm32")]
fn has_webgpu() -> bool {
    use wasm_bindgen::JsValue;
    let global: JsValue = js_sys::global().into();
    js_sys::Reflect::get(&global, &JsValue::from_str("navigator"))
        .and_then(|navigator| js_sys::Reflect::get(&navigator, &JsValue::from_str("gpu")))
        .is_ok_and(|gpu| !gpu.is_undefined() && !gpu.is_null())
}

/// Reads `GPUAdapterInfo` of `navigator.gpu.requestAdapter()` (window or worker).
#[cfg(target_arch = "wasm32")]
async fn browser_adapter_info() -> Option<BrowserAdapter> {
    use wasm_bindgen::{JsCast, JsValue};
    let get = |v: &JsValue, key: &str| js_sys::Reflect::get(v, &JsValue::from_str(key)).ok();
    let text = |v: &JsValue, key: &str| get(v, key).and_then(|s| s.as_string()).unwrap_or_default();
    let navigator = get(&js_sys::global().into(), "navigator")?;
    let gpu = get(&navigator, "gpu").filter(|g| !g.is_undefined())?;
    let request: js_sys::Function = get(&gpu, "requestAdapter")?.dyn_into().ok()?;
    let promise: js_sys::Promise = request.call0(&gpu).ok()?.dyn_into().ok()?;
    let adapter = wasm_bindgen_futures::JsFuture::from(promise).await.ok()?;
    let info = get(&adapter, "info").filter(|i| i.is_object())?;
    let parts: Vec<String> = ["vendor", "architecture", "description"]
        .iter()
        .map(|key| text(&info, key))
        .filter(|s| !s.is_empty())
        .collect();
    let fallback = get(&info, "isFallbackAdapter")
        .or_else(|| get(&adapter, "isFallbackAdapter"))
        .and_then(|v| v.as_bool())
        .unwrap_or(false);
    let software = fallback
        || text(&info, "architecture")
            .to_lowercase()
            .contains("swiftshader");
    Some(BrowserAdapter {
        name: parts.join(" "),
        software,
    })
}

/// [`GpuContext::workgroups`] without the error: `None` when even x·y cannot reach `count`.
pub fn split_workgroups(count: u64, z: u32, max: u32) -> Option<[u32; 3]> {
    let max64 = u64::from(max);
    if z > max || count > max64 * max64 {
        return None;
    }
    let count = count.max(1);
    let y = count.div_ceil(max64);
    let x = count.div_ceil(y);
    Some([u32::try_from(x).ok()?, u32::try_from(y).ok()?, z.max(1)])
}

/// Bytes of `values` stored in `precision` (f16 rounds to nearest).
pub fn encode(values: &[f32], precision: Precision) -> Vec<u8> {
    match precision {
        Precision::F32 => bytemuck::cast_slice(values).to_vec(),
        Precision::F16 => {
            let halves: Vec<half::f16> = values.iter().map(|&v| half::f16::from_f32(v)).collect();
            bytemuck::cast_slice(&halves).to_vec()
        }
    }
}

/// Values stored in `precision`, widened to f32.
pub fn decode(bytes: &[u8], precision: Precision) -> Vec<f32> {
    match precision {
        Precision::F32 => bytes
            .chunks_exact(4)
            .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
            .collect(),
        Precision::F16 => bytes
            .chunks_exact(2)
            .map(|b| half::f16::from_le_bytes([b[0], b[1]]).to_f32())
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn workgroup_split_covers_the_count_within_the_limit() {
        assert_eq!(split_workgroups(100, 3, 65535), Some([100, 1, 3]));
        let [x, y, _] = split_workgroups(100_352, 1, 65535).unwrap();
        assert!(x <= 65535 && y <= 65535 && u64::from(x) * u64::from(y) >= 100_352);
        assert_eq!(split_workgroups(10, 1, 4), Some([4, 3, 1]));
        assert_eq!(split_workgroups(17, 1, 4), None);
        assert_eq!(split_workgroups(1, 5, 4), None);
    }

    #[test]
    fn f16_round_trip() {
        let v = [0.5f32, -1.25, 3.0, 65504.0];
        assert_eq!(decode(&encode(&v, Precision::F16), Precision::F16), v);
        assert_eq!(decode(&encode(&v, Precision::F32), Precision::F32), v);
    }
}
