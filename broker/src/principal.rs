//! Who is on the other end of a connection, and which topics they may touch.
//!
//! A device (client id = username = its UUID) may publish only to
//! `devices/{own id}/telemetry` and `devices/{own id}/status`, and subscribe only under
//! `devices/{own id}/`. An ingest service (`service:<name>`) may read every device's
//! telemetry and status, also through `$share/<group>/...`, and publish acks.

use healthsync_core::ids::DeviceId;
use healthsync_core::services::{self, CLIENT_ID_PREFIX};

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Principal {
    Device(DeviceId),
    Service(String),
}

impl Principal {
    /// The principal a client id claims; `None` for ids that can be neither.
    pub fn parse(client_id: &str) -> Option<Self> {
        if let Some(name) = client_id.strip_prefix(CLIENT_ID_PREFIX) {
            return services::valid_name(name).then(|| Principal::Service(name.to_owned()));
        }
        // Only the canonical hyphenated form, so one device has exactly one client id.
        let id: DeviceId = client_id.parse().ok()?;
        (id.to_string() == client_id).then_some(Principal::Device(id))
    }

    pub fn may_publish(&self, topic: &str) -> bool {
        match self {
            Principal::Device(id) => {
                let own = device_topic(id);
                topic
                    .strip_prefix(own.as_str())
                    .is_some_and(|rest| rest == "telemetry" || rest == "status")
            }
            Principal::Service(_) => {
                matches!(device_and_leaf(topic), Some((_, "ack")))
            }
        }
    }

    pub fn may_subscribe(&self, filter: &str) -> bool {
        match self {
            // Wildcards below the device's own prefix cannot reach other devices.
            Principal::Device(id) => filter.starts_with(device_topic(id).as_str()),
            Principal::Service(_) => {
                let filter = match filter.strip_prefix("$share/") {
                    Some(shared) => match shared.split_once('/') {
                        Some((group, rest)) if services::valid_name(group) => rest,
                        _ => return false,
                    },
                    None => filter,
                };
                matches!(filter, "devices/+/telemetry" | "devices/+/status")
                    || matches!(device_and_leaf(filter), Some((_, "telemetry" | "status")))
            }
        }
    }
}

fn device_topic(id: &DeviceId) -> String {
    format!("devices/{id}/")
}

/// `devices/<canonical uuid>/<leaf>` split into its device id and leaf.
fn device_and_leaf(topic: &str) -> Option<(DeviceId, &str)> {
    let rest = topic.strip_prefix("devices/")?;
    let (id, leaf) = rest.split_once('/')?;
    match Principal::parse(id)? {
        Principal::Device(device) if !leaf.contains('/') => Some((device, leaf)),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: &str = "0190c1a0-0000-7000-8000-00000000000a";
    const B: &str = "0190c1a0-0000-7000-8000-00000000000b";

    fn device(id: &str) -> Principal {
        Principal::parse(id).unwrap()
    }

    #[test]
    fn client_ids_name_devices_or_services() {
        assert!(matches!(device(A), Principal::Device(_)));
        assert_eq!(
            Principal::parse("service:ingest-1"),
            Some(Principal::Service("ingest-1".into()))
        );
        for bad in [
            "",
            "not-a-uuid",
            "service:",
            "service:Ingest",
            "0190C1A0-0000-7000-8000-00000000000A",
            "0190c1a000007000800000000000000a",
        ] {
            assert_eq!(Principal::parse(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn a_device_publishes_only_its_own_telemetry_and_status() {
        let a = device(A);
        assert!(a.may_publish(&format!("devices/{A}/telemetry")));
        assert!(a.may_publish(&format!("devices/{A}/status")));
        for topic in [
            format!("devices/{B}/telemetry"),
            format!("devices/{A}/ack"),
            format!("devices/{A}/telemetry/extra"),
            format!("devices/{A}/"),
            "devices/+/telemetry".into(),
            "#".into(),
            "$SYS/broker".into(),
        ] {
            assert!(!a.may_publish(&topic), "{topic}");
        }
    }

    #[test]
    fn a_device_subscribes_only_under_its_own_prefix() {
        let a = device(A);
        for filter in [
            format!("devices/{A}/ack"),
            format!("devices/{A}/config"),
            format!("devices/{A}/#"),
            format!("devices/{A}/+"),
        ] {
            assert!(a.may_subscribe(&filter), "{filter}");
        }
        for filter in [
            "#".to_string(),
            "+/+/+".into(),
            "devices/#".into(),
            "devices/+/ack".into(),
            format!("devices/{B}/ack"),
            format!("$share/g/devices/{A}/ack"),
            format!("devices/{A}"),
        ] {
            assert!(!a.may_subscribe(&filter), "{filter}");
        }
    }

    #[test]
    fn an_ingest_service_reads_telemetry_and_writes_acks() {
        let s = Principal::Service("ingest".into());
        for filter in [
            "devices/+/telemetry",
            "devices/+/status",
            "$share/ingest/devices/+/telemetry",
            &format!("devices/{A}/telemetry"),
        ] {
            assert!(s.may_subscribe(filter), "{filter}");
        }
        for filter in [
            "#",
            "devices/#",
            "devices/+/ack",
            "$share//devices/+/telemetry",
        ] {
            assert!(!s.may_subscribe(filter), "{filter}");
        }
        assert!(s.may_publish(&format!("devices/{A}/ack")));
        assert!(!s.may_publish(&format!("devices/{A}/telemetry")));
        assert!(!s.may_publish("devices/+/ack"));
    }
}
