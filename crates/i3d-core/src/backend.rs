//! Where the network runs and in what number format: the names every crate, message and command
//! line uses (one spelling each).
//!
//! [`Backend`] and [`Precision`] say what ran; [`BackendChoice`] and [`PrecisionChoice`] say what the
//! user asked for (`auto` lets the engine decide and say why).

use serde::{Deserialize, Serialize};

use crate::Error;

/// An executor of the network.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Backend {
    /// The candle executor on the CPU (`i3d-cpu`).
    Cpu,
    /// The WGSL executor on a wgpu adapter (`i3d-gpu`): WebGPU in the browser, Vulkan/Metal/DX12 natively.
    Wgpu,
}

impl Backend {
    /// `cpu` or `wgpu`: the spelling on the wire, on the command line and in test hooks.
    pub const fn as_str(self) -> &'static str {
        match self {
            Backend::Cpu => "cpu",
            Backend::Wgpu => "wgpu",
        }
    }

    /// The name shown to people: `CPU (WebAssembly)` in the browser, `CPU` natively, `WebGPU` / `wgpu`.
    pub const fn label(self) -> &'static str {
        match self {
            #[cfg(target_arch = "wasm32")]
            Backend::Cpu => "CPU (WebAssembly)",
            #[cfg(not(target_arch = "wasm32"))]
            Backend::Cpu => "CPU",
            #[cfg(target_arch = "wasm32")]
            Backend::Wgpu => "WebGPU",
            #[cfg(not(target_arch = "wasm32"))]
            Backend::Wgpu => "wgpu",
        }
    }
}

impl std::fmt::Display for Backend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for Backend {
    type Err = Error;

    /// `cpu` or `wgpu` (`webgpu` accepted for `wgpu`).
    fn from_str(s: &str) -> Result<Self, Error> {
        match s.parse::<BackendChoice>() {
            Ok(BackendChoice::Only(backend)) => Ok(backend),
            _ => Err(Error::Choice(format!(
                "unknown backend `{s}` (expected cpu or wgpu)"
            ))),
        }
    }
}

/// The backend a user asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BackendChoice {
    /// wgpu on a hardware adapter, else the CPU (the reason is reported).
    #[default]
    Auto,
    /// This backend, or an error.
    Only(Backend),
}

impl std::str::FromStr for BackendChoice {
    type Err = Error;

    /// `auto`, `cpu` or `wgpu`; `webgpu` is accepted for `wgpu` (the API's name in the browser, as in
    /// `?backend=webgpu`).
    fn from_str(s: &str) -> Result<Self, Error> {
        match s {
            "auto" => Ok(BackendChoice::Auto),
            "cpu" => Ok(BackendChoice::Only(Backend::Cpu)),
            "wgpu" | "webgpu" => Ok(BackendChoice::Only(Backend::Wgpu)),
            other => Err(Error::Choice(format!(
                "unknown backend `{other}` (expected auto, cpu or wgpu)"
            ))),
        }
    }
}

impl std::fmt::Display for BackendChoice {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            BackendChoice::Auto => f.write_str("auto"),
            BackendChoice::Only(backend) => backend.fmt(f),
        }
    }
}

/// The number format weights and activations are stored in (arithmetic is f32 in every case).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Precision {
    /// IEEE float32.
    F32,
    /// IEEE float16 storage (wgpu with `shader-f16` only; the CPU path always computes in f32).
    F16,
}

impl Precision {
    /// `f32` or `f16` (also the manifest's `dtype` spelling).
    pub const fn as_str(self) -> &'static str {
        match self {
            Precision::F32 => "f32",
            Precision::F16 => "f16",
        }
    }

    /// Bytes per stored value.
    pub const fn bytes(self) -> u64 {
        match self {
            Precision::F32 => 4,
            Precision::F16 => 2,
        }
    }
}

impl std::fmt::Display for Precision {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for Precision {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self, Error> {
        match s {
            "f32" => Ok(Precision::F32),
            "f16" => Ok(Precision::F16),
            other => Err(Error::Choice(format!(
                "unknown precision `{other}` (expected f32 or f16)"
            ))),
        }
    }
}

/// The precision a user asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PrecisionChoice {
    /// The backend's best: f16 storage on wgpu adapters with `shader-f16`, f32 otherwise.
    #[default]
    Auto,
    /// This precision, or an error where the backend cannot run it.
    Only(Precision),
}

impl std::str::FromStr for PrecisionChoice {
    type Err = Error;

    /// `auto`, `f32` or `f16`.
    fn from_str(s: &str) -> Result<Self, Error> {
        match s {
            "auto" => Ok(PrecisionChoice::Auto),
            other => Ok(PrecisionChoice::Only(other.parse().map_err(|_| {
                Error::Choice(format!(
                    "unknown precision `{other}` (expected auto, f32 or f16)"
                ))
            })?)),
        }
    }
}

impl std::fmt::Display for PrecisionChoice {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PrecisionChoice::Auto => f.write_str("auto"),
            PrecisionChoice::Only(precision) => precision.fmt(f),
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn choices_parse_their_one_spelling_and_print_it_back() {
        for text in ["auto", "cpu", "wgpu"] {
            assert_eq!(text.parse::<BackendChoice>().unwrap().to_string(), text);
        }
        assert_eq!(
            "webgpu".parse::<BackendChoice>().unwrap(),
            BackendChoice::Only(Backend::Wgpu)
        );
        assert!("gpu".parse::<BackendChoice>().is_err());
        for text in ["auto", "f32", "f16"] {
            assert_eq!(text.parse::<PrecisionChoice>().unwrap().to_string(), text);
        }
        let err = "bf16".parse::<PrecisionChoice>().unwrap_err().to_string();
        assert!(err.contains("expected auto, f32 or f16"), "{err}");
    }

    #[test]
    fn wire_names_are_the_command_line_names() {
        assert_eq!(
            serde_json::to_string(&Backend::Wgpu).unwrap(),
            format!("\"{}\"", Backend::Wgpu.as_str())
        );
        assert_eq!(
            serde_json::to_string(&Precision::F16).unwrap(),
            format!("\"{}\"", Precision::F16.as_str())
        );
    }
}
