//! Weights loading: the manifest JSON and a safetensors file (the classifier layer the engine reads first).
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = i3d_core::manifest::Manifest::parse(data, "fuzz.json");
    let _ = i3d_core::cam::LogitsLayer::from_safetensors_bytes(data);
});
