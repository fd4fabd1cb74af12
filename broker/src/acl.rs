//! The topic ACL, as a wrapper around rumqttd's `Protocol`.
//!
//! rumqttd has no per-topic authorisation, but its `Server` clones the protocol value for
//! every connection. [`AclProtocol`] is that value: it learns the connection's principal
//! from its CONNECT, refuses every PUBLISH, SUBSCRIBE and will message outside the
//! principal's topics by failing the read (rumqttd then drops the connection before the
//! packet reaches the router, so nobody receives it), notices the CONNACK that opens the
//! session, and reports the end of the session when rumqttd drops it.
//!
//! It also picks MQTT 3.1.1 or 5 from the CONNECT's protocol level, so one listener
//! serves both.

use std::sync::Arc;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicI64, Ordering};

use bytes::BytesMut;
use healthsync_core::api_keys::key_prefix;
use healthsync_core::ids::DeviceId;
use rumqttd::protocol::v4::V4;
use rumqttd::protocol::v5::V5;
use rumqttd::protocol::{ConnectReturnCode, Error, Packet, Protocol};

use crate::auth::{Authenticator, Refusal};
use crate::principal::Principal;
use crate::tracker::{EventKind, Tracker};

/// What every connection's ACL shares.
pub struct AclContext {
    pub auth: Arc<Authenticator>,
    pub tracker: Tracker,
    pub max_keep_alive_secs: u16,
}

#[derive(Clone, Copy, Debug)]
enum Version {
    V4,
    V5,
}

#[derive(Clone)]
pub struct AclProtocol {
    context: Arc<AclContext>,
    version: Option<Version>,
    /// Set when the CONNECT was accepted, with the prefix of the key it presented.
    principal: Option<Principal>,
    key_prefix: String,
    /// Set when the CONNECT was refused: the CONNACK carries this refusal and nothing
    /// after the CONNECT is read.
    refusal: Option<Refusal>,
    /// Set once the CONNACK accepting the connection was written (from `write`, which
    /// only has `&self`). Cloning copies the cell, so no two connections share one.
    session: OnceLock<DeviceSession>,
    violation: Option<&'static str>,
}

#[derive(Clone)]
struct DeviceSession {
    device: DeviceId,
    token: u64,
    last_seen: Arc<AtomicI64>,
}

impl AclProtocol {
    pub fn new(context: Arc<AclContext>) -> Self {
        Self {
            context,
            version: None,
            principal: None,
            key_prefix: String::new(),
            refusal: None,
            session: OnceLock::new(),
            violation: None,
        }
    }

    fn refuse(&mut self, what: &'static str, target: &[u8]) -> Error {
        let target = String::from_utf8_lossy(target);
        let client = self.principal.as_ref().map(|p| format!("{p:?}"));
        tracing::warn!(client, violation = what, %target, "ACL violation: disconnecting client");
        metrics::counter!("healthsync_broker_acl_violations_total", "kind" => what).increment(1);
        if let Some(Principal::Device(device)) = &self.principal {
            self.context.tracker.record(
                *device,
                EventKind::AclViolation,
                Some(format!("{what}: {target}")),
            );
        }
        self.violation = Some(what);
        Error::MalformedPacket
    }

    fn check(&mut self, packet: &mut Packet) -> Result<(), Error> {
        if let Some(session) = self.session.get() {
            session
                .last_seen
                .store(chrono::Utc::now().timestamp(), Ordering::Relaxed);
        }
        match packet {
            Packet::Connect(connect, _, will, will_properties, login) => {
                let credentials = login
                    .as_ref()
                    .map(|l| (l.username.as_str(), l.password.as_str()));
                match self.context.auth.decide(&connect.client_id, credentials) {
                    Ok(principal) => {
                        self.principal = Some(principal);
                        self.key_prefix = credentials
                            .and_then(|(_, key)| key_prefix(key))
                            .unwrap_or_default()
                            .to_owned();
                    }
                    Err(refusal) => {
                        // Registered under a one-time id, without its will, answered with
                        // the refusal and closed: the real principal's session is untouched.
                        connect.client_id = self.context.auth.quarantine();
                        *will = None;
                        *will_properties = None;
                        self.refusal = Some(refusal);
                        return Ok(());
                    }
                }
                if connect.keep_alive > self.context.max_keep_alive_secs {
                    return Err(self.refuse("keep_alive_too_long", connect.client_id.as_bytes()));
                }
                if let Some(will) = will
                    && !self.may_publish(&will.topic)
                {
                    return Err(self.refuse("will_topic", &will.topic));
                }
                self.context.auth.admit(&connect.client_id);
            }
            Packet::Publish(publish, _) if !self.may_publish(&publish.topic) => {
                return Err(self.refuse("publish", &publish.topic));
            }
            Packet::Subscribe(subscribe, _) => {
                if let Some(denied) = subscribe.filters.iter().find(|f| {
                    !self
                        .principal
                        .as_ref()
                        .is_some_and(|p| p.may_subscribe(&f.path))
                }) {
                    let path = denied.path.clone();
                    return Err(self.refuse("subscribe", path.as_bytes()));
                }
            }
            _ => {}
        }
        Ok(())
    }

    fn may_publish(&self, topic: &[u8]) -> bool {
        match (&self.principal, std::str::from_utf8(topic)) {
            (Some(principal), Ok(topic)) => principal.may_publish(topic),
            _ => false,
        }
    }
}

/// The protocol level of a CONNECT at the start of `stream`, or how many more bytes are
/// needed to see it. Anything that is not a CONNECT is left to the 3.1.1 parser to reject.
fn connect_version(stream: &[u8]) -> Result<Version, usize> {
    let Some(&first) = stream.first() else {
        return Err(2);
    };
    if first >> 4 != 1 {
        return Ok(Version::V4);
    }
    // Remaining length: 1 to 4 bytes, 7 bits each.
    let mut header_len = 1;
    loop {
        let Some(&byte) = stream.get(header_len) else {
            return Err(1);
        };
        header_len += 1;
        if byte & 0x80 == 0 || header_len == 5 {
            break;
        }
    }
    // Protocol name (2-byte length + name), then the level byte.
    let name_len = match stream.get(header_len..header_len + 2) {
        Some(b) => usize::from(u16::from_be_bytes([b[0], b[1]])),
        None => return Err(header_len + 2 - stream.len()),
    };
    let level_at = header_len + 2 + name_len;
    match stream.get(level_at) {
        Some(5) => Ok(Version::V5),
        Some(_) => Ok(Version::V4),
        None => Err(level_at + 1 - stream.len()),
    }
}

impl Protocol for AclProtocol {
    fn read_mut(&mut self, stream: &mut BytesMut, max_size: usize) -> Result<Packet, Error> {
        if self.violation.is_some() || self.refusal.is_some() {
            return Err(Error::MalformedPacket);
        }
        let version = match self.version {
            Some(version) => version,
            None => {
                let version = connect_version(stream).map_err(Error::InsufficientBytes)?;
                self.version = Some(version);
                version
            }
        };
        let mut packet = match version {
            Version::V4 => V4.read_mut(stream, max_size)?,
            Version::V5 => V5.read_mut(stream, max_size)?,
        };
        self.check(&mut packet)?;
        Ok(packet)
    }

    fn write(&self, mut packet: Packet, write: &mut BytesMut) -> Result<usize, Error> {
        if let (Packet::ConnAck(ack, _), Some(refusal)) = (&mut packet, self.refusal) {
            ack.code = refusal.connack_code();
            ack.session_present = false;
        }
        if let Packet::ConnAck(ack, _) = &packet
            && ack.code == ConnectReturnCode::Success
            && let Some(Principal::Device(device)) = &self.principal
            && self.session.get().is_none()
        {
            let (token, last_seen) = self
                .context
                .tracker
                .connected(*device, self.key_prefix.clone());
            let _ = self.session.set(DeviceSession {
                device: *device,
                token,
                last_seen,
            });
        }
        match self.version.unwrap_or(Version::V4) {
            Version::V4 => V4.write(packet, write),
            Version::V5 => V5.write(packet, write),
        }
    }
}

impl Drop for AclProtocol {
    fn drop(&mut self) {
        if let Some(session) = self.session.take() {
            let reason = self.violation.map_or("closed", |v| v);
            self.context
                .tracker
                .disconnected(session.device, session.token, reason);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn connect_version_reads_the_protocol_level() {
        // CONNECT, remaining length 16, "MQTT", level 4 / 5.
        let v311 = [0x10, 16, 0, 4, b'M', b'Q', b'T', b'T', 4, 2];
        let v5 = [0x10, 16, 0, 4, b'M', b'Q', b'T', b'T', 5, 2];
        assert!(matches!(connect_version(&v311), Ok(Version::V4)));
        assert!(matches!(connect_version(&v5), Ok(Version::V5)));
        assert_eq!(connect_version(&v5[..5]).unwrap_err(), 4);
        assert_eq!(connect_version(&[]).unwrap_err(), 2);
        assert_eq!(connect_version(&[0x10]).unwrap_err(), 1);
        // A multi-byte remaining length.
        let long = [0x10, 0x80, 0x01, 0, 4, b'M', b'Q', b'T', b'T', 5];
        assert!(matches!(connect_version(&long), Ok(Version::V5)));
        // Not a CONNECT: the 3.1.1 parser rejects it.
        assert!(matches!(connect_version(&[0x30, 0]), Ok(Version::V4)));
    }
}
