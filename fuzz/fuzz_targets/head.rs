//! A few-shot head file (`*.kinetiscope-head.json`) as a visitor may import it: any bytes are an error or a head
//! whose shapes hold, and a head read back from what it writes is the same head.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(head) = heads::Head::from_json(text, None) {
        assert_eq!(head.linear.weights.len(), head.linear.classes * head.linear.dim);
        assert_eq!(head.classes.len(), head.linear.classes);
        let features = vec![0.5f32; head.linear.dim];
        let top = head.top(&features, head.classes.len());
        assert_eq!(top.len(), head.classes.len());
        let again = heads::Head::from_json(&head.to_json(), None).ok();
        assert_eq!(again.as_ref().map(|h| &h.classes), Some(&head.classes));
    }
});
