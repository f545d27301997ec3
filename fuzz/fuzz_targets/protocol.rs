//! Messages between the page and the classifier worker (a page and a worker of different deployments may meet).
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
});
