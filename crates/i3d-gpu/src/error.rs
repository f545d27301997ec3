//! The error type of `i3d-gpu`.

/// Everything that can go wrong when selecting an adapter, planning, or running I3D on wgpu.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The browser has no WebGPU at all (`navigator.gpu` is missing in this worker or page).
    #[error("no WebGPU: navigator.gpu is missing")]
    NoWebGpu,
    /// No adapter could be obtained (WebGPU found none, no Vulkan/Metal/DX12 driver natively).
    #[error("no WebGPU adapter: {0}")]
    NoAdapter(String),
    /// The adapter refused to create a device with the requested features and limits.
    #[error("could not create a device on {adapter}: {reason}")]
    Device {
        /// Adapter name.
        adapter: String,
        /// The driver's answer.
        reason: String,
    },
    /// The adapter cannot run the network at all (no compute shaders, too small workgroups, …).
    #[error("adapter {adapter} is not sufficient: {reason}")]
    Insufficient {
        /// Adapter name.
        adapter: String,
        /// What is missing.
        reason: String,
    },
    /// A buffer (or one binding of it) would exceed a device limit.
    #[error(
        "buffer `{label}` needs {size} bytes, above the device's {limit_name} of {limit} bytes"
    )]
    BufferTooLarge {
        /// Buffer label.
        label: String,
        /// Bytes needed.
        size: u64,
        /// Which limit (`maxStorageBufferBindingSize`, `maxBufferSize`).
        limit_name: &'static str,
        /// The limit's value.
        limit: u64,
    },
    /// A dispatch would exceed `maxComputeWorkgroupsPerDimension` even when split over x, y and z.
    #[error("dispatch `{label}` needs {workgroups} workgroups, above the device's maxComputeWorkgroupsPerDimension² ({limit}²)")]
    TooManyWorkgroups {
        /// Dispatch label.
        label: String,
        /// Workgroups needed.
        workgroups: u64,
        /// The per-dimension limit.
        limit: u32,
    },
    /// f16 storage was requested but the device lacks `shader-f16`.
    #[error("f16 storage needs the `shader-f16` feature, which {adapter} lacks")]
    NoF16 {
        /// Adapter name.
        adapter: String,
    },
    /// The input does not match the declared clip length.
    #[error("input has {got} values, expected {expected} (1×{frames}×224×224×3)")]
    InputLength {
        /// Values given.
        got: usize,
        /// Values expected.
        expected: usize,
        /// Frames declared.
        frames: usize,
    },
    /// A shape or argument error of a single operation.
    #[error("{0}")]
    Shape(String),
    /// A weight tensor is missing or has the wrong shape or dtype.
    #[error("weights: {0}")]
    Weights(String),
    /// wgpu reported a validation or out-of-memory error.
    #[error("wgpu {scope}: {message}")]
    Wgpu {
        /// What was being done.
        scope: &'static str,
        /// wgpu's message.
        message: String,
    },
    /// Reading results back failed.
    #[error("buffer readback failed: {0}")]
    Readback(String),
    /// An error of the I3D architecture (shapes, weights).
    #[error(transparent)]
    I3d(#[from] i3d_core::Error),
}
