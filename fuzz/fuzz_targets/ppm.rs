//! The PPM frame headers the command line reads from ffmpeg's pipe.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut reader = std::io::Cursor::new(data);
    while let Ok(Some((width, height))) = i3d_core::preprocess::read_ppm_header(&mut reader) {
        assert!(width > 0 && height > 0);
        // Skip the frame's pixels as the reader does, bounded by the frame-size cap.
        let Some(bytes) = width.checked_mul(height).and_then(|p| p.checked_mul(3)) else {
            break;
        };
        let position = reader.position().saturating_add(bytes as u64);
        reader.set_position(position);
    }
});
