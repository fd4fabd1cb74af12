//! Any text as one reading: the validator either accepts a reading within the catalog's
//! bounds, measured within the allowed window, or names a reason; it never panics.
#![no_main]

use healthsync_core::devices::DeviceKind;
use healthsync_core::telemetry::{self, Context};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|input: (u8, &str)| {
    let (kind, raw) = input;
    let now = chrono::Utc::now();
    let context = Context {
        device_kind: DeviceKind::ALL[usize::from(kind) % DeviceKind::ALL.len()],
        now,
        oldest: now - chrono::Duration::days(730),
    };
    if let Ok(reading) = telemetry::validate_one(raw, &context) {
        let spec = reading.metric.spec();
        assert!((spec.value.min..=spec.value.max).contains(&reading.value));
        assert!(reading.measured_at >= context.oldest);
        assert!(reading.measured_at <= now + telemetry::MAX_FUTURE);
    }
});
