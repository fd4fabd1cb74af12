//! Any bytes a device can publish: the envelope decoder answers and never panics, and
//! whatever it accepts validates without panicking for every device kind.
#![no_main]

use healthsync_core::devices::DeviceKind;
use healthsync_core::telemetry::{self, Context};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|payload: &[u8]| {
    if let Ok(message) = telemetry::decode(payload) {
        let now = chrono::Utc::now();
        for kind in DeviceKind::ALL {
            let context = Context {
                device_kind: kind,
                now,
                oldest: now - chrono::Duration::days(730),
            };
            let (accepted, rejected) = telemetry::validate(&message.readings, &context);
            assert_eq!(accepted.len() + rejected.len(), message.readings.len());
        }
    }
});
