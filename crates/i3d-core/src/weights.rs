//! Reading tensors of the converted weights file (safetensors, f32 or f16, names as in
//! [`crate::arch::I3D_LAYERS`]: `P.weight` (kt, kh, kw, cin, cout) and `P.bias` (cout)), for the
//! executors that do not go through candle's `VarBuilder`.

use safetensors::{Dtype, SafeTensors};

use crate::Error;

/// Tensor `name` as f32 (converted from f16 if stored so), checked against `shape`.
pub fn tensor_f32(st: &SafeTensors<'_>, name: &str, shape: &[usize]) -> Result<Vec<f32>, Error> {
    let view = st
        .tensor(name)
        .map_err(|e| Error::Weights(format!("{name}: {e}")))?;
    if view.shape() != shape {
        return Err(Error::Weights(format!(
            "{name}: shape {:?}, expected {shape:?}",
            view.shape()
        )));
    }
    let data = view.data();
    match view.dtype() {
        Dtype::F32 => Ok(data
            .chunks_exact(4)
            .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
            .collect()),
        Dtype::F16 => Ok(data
            .chunks_exact(2)
            .map(|b| half::f16::from_le_bytes([b[0], b[1]]).to_f32())
            .collect()),
        other => Err(Error::Weights(format!(
            "{name}: dtype {other:?}, expected F32 or F16"
        ))),
    }
}

/// Parses a safetensors file, with a message fit for a user when it is not one.
pub fn parse(bytes: &[u8]) -> Result<SafeTensors<'_>, Error> {
    SafeTensors::deserialize(bytes)
        .map_err(|e| Error::Weights(format!("not a safetensors file: {e}")))
}
