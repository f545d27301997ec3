//! The engine natively: weights from the weights directory, loaded blocking. (The other `async`
//! functions are driven natively with `pollster::block_on`.)

use std::path::Path;

use i3d_core::executor::FromWeights;
use i3d_core::manifest::{read_weights, resolve_weights_dir};

use crate::{Engine, Error, Options, Precision};

impl<C: FromWeights> Engine<C> {
    /// Loads the f32 weights of the weights directory (`explicit`, else `$KINETISCOPE_WEIGHTS`, else
    /// the per-user data directory), checked against the manifest, on the backend `options` choose.
    /// (f16 storage on wgpu is made from the f32 file on the device.)
    pub fn load_dir_blocking(explicit: Option<&Path>, options: Options) -> Result<Self, Error> {
        let dir = resolve_weights_dir(explicit)?;
        let (weights, manifest) = read_weights(&dir, Precision::F32)?;
        pollster::block_on(Self::load(weights, manifest.labels, options))
    }
}
