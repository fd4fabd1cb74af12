//! The embedded MQTT broker: rumqttd assembled from its public parts, with per-device
//! authentication against stored API-key hashes and a topic ACL that keeps every device
//! inside `devices/{its own id}/`.
//!
//! Not built yet: see the "Devices and the embedded MQTT broker" issue.
