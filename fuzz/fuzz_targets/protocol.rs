//! Messages between the page and the classifier worker (a page and a worker of different deployments may meet),
//! and the sizes the worker checks before it allocates for one.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(message) = serde_json::from_slice::<protocol::ToWorker>(data) {
        let json = serde_json::to_vec(&message).unwrap_or_default();
        assert_eq!(
            serde_json::from_slice::<protocol::ToWorker>(&json).ok(),
            Some(message)
        );
    }
    let _ = serde_json::from_slice::<protocol::FromWorker>(data);
    let _ = serde_json::from_slice::<protocol::LegacyBoot>(data).map(|old| old.version());
    // Any frame count, byte length and frame size a page can state: accepted only within the bounds.
    if let Some((numbers, _)) = data.split_first_chunk::<16>() {
        let word = |i: usize| {
            let mut bytes = [0u8; 8];
            bytes.copy_from_slice(&numbers[i * 8..i * 8 + 8]);
            u64::from_le_bytes(bytes)
        };
        let (count, bytes) = (word(0) as usize, word(1) as usize);
        if let Ok(floats) = protocol::check_clip(count, bytes) {
            assert!(count <= protocol::MAX_MESSAGE_FRAMES);
            assert_eq!(floats, count * i3d_core::preprocess::FRAME_LEN);
        }
        let (width, height) = (word(0) as u32, (word(0) >> 32) as u32);
        if protocol::check_window_frame(width, height, bytes).is_ok() {
            assert!(width as usize <= i3d_core::preprocess::MAX_FRAME_SIDE);
            assert!(height as usize <= i3d_core::preprocess::MAX_FRAME_SIDE);
        }
    }
});
