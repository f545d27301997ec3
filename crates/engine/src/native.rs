//! The engine natively: weights from the weights directory, blocking calls.

use std::path::Path;

use i3d_core::manifest::{read_weights, resolve_weights_dir};

use crate::{Classification, Engine, Error, Options, Precision};

impl Engine {
    /// Loads the f32 weights of the weights directory (`explicit`, else `$KINETISCOPE_WEIGHTS`, else
    /// the per-user data directory), checked against the manifest, on the backend `options` choose.
    /// (f16 storage on wgpu is made from the f32 file on the device.)
    pub fn load_dir_blocking(explicit: Option<&Path>, options: Options) -> Result<Engine, Error> {
        let dir = resolve_weights_dir(explicit)?;
        let (weights, manifest) = read_weights(&dir, Precision::F32)?;
        pollster::block_on(Engine::load(weights, manifest.labels, options))
    }

    /// [`Engine::classify`], blocking.
    pub fn classify_blocking(
        &mut self,
        input: &[f32],
        frames: usize,
        top: usize,
        cam: bool,
    ) -> Result<Classification, Error> {
        pollster::block_on(self.classify(input, frames, top, cam))
    }
}
