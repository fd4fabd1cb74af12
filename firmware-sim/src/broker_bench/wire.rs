//! Pure helpers of the benchmark: the test payload, a hand-built MQTT 3.1.1 CONNECT for the
//! idle connections, CONNACK parsing, and percentiles.

use chrono::{DateTime, SecondsFormat};

/// Before the reading's time in a payload.
const PAYLOAD_HEAD: &str = r#","readings":[{"metric":"heart_rate","t":""#;
/// After it.
const PAYLOAD_TAIL: &str = r#"","v":72}]}"#;
/// `2026-11-21T09:59:58.123456789Z`
const TIME_LEN: usize = 30;
/// The longest payload before padding (a 20-digit seq); smaller sizes are refused.
pub const MIN_PAYLOAD: usize = 7 + 20 + PAYLOAD_HEAD.len() + TIME_LEN + PAYLOAD_TAIL.len();

/// What a payload says about itself.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Stamp {
    /// Rises by one per message per device, from 1.
    pub seq: u64,
    /// Send time, in nanoseconds since the Unix epoch.
    pub sent_ns: i64,
}

/// A telemetry v1 message of one heart-rate reading whose measurement time is the send time
/// (to the nanosecond), padded with spaces (JSON whitespace) to `len` bytes. The platform's
/// ingest accepts it as a real reading.
pub fn encode_payload(stamp: Stamp, len: usize) -> Vec<u8> {
    let time =
        DateTime::from_timestamp_nanos(stamp.sent_ns).to_rfc3339_opts(SecondsFormat::Nanos, true);
    let mut payload = Vec::with_capacity(len.max(MIN_PAYLOAD));
    payload.extend_from_slice(br#"{"seq":"#);
    payload.extend_from_slice(stamp.seq.to_string().as_bytes());
    payload.extend_from_slice(PAYLOAD_HEAD.as_bytes());
    payload.extend_from_slice(time.as_bytes());
    payload.extend_from_slice(PAYLOAD_TAIL.as_bytes());
    if payload.len() < len {
        payload.resize(len, b' ');
    }
    payload
}

/// The stamp of a payload made by [`encode_payload`]; `None` for anything else.
pub fn decode_payload(payload: &[u8]) -> Option<Stamp> {
    let rest = payload.strip_prefix(br#"{"seq":"#)?;
    let digits = rest.iter().take_while(|b| b.is_ascii_digit()).count();
    let seq = std::str::from_utf8(&rest[..digits]).ok()?.parse().ok()?;
    let rest = rest[digits..].strip_prefix(PAYLOAD_HEAD.as_bytes())?;
    let time = std::str::from_utf8(rest.get(..TIME_LEN)?).ok()?;
    let rest = rest[TIME_LEN..].strip_prefix(PAYLOAD_TAIL.as_bytes())?;
    if !rest.iter().all(|&b| b == b' ') {
        return None;
    }
    let sent_ns = DateTime::parse_from_rfc3339(time)
        .ok()?
        .timestamp_nanos_opt()?;
    Some(Stamp { seq, sent_ns })
}

/// An MQTT 3.1.1 CONNECT with clean session, username and password.
pub fn connect_packet(client_id: &str, username: &str, password: &str, keep_alive: u16) -> Vec<u8> {
    let mut body = Vec::with_capacity(16 + client_id.len() + username.len() + password.len());
    put_str(&mut body, "MQTT");
    body.push(4); // protocol level 3.1.1
    body.push(0b1100_0010); // username, password, clean session
    body.extend_from_slice(&keep_alive.to_be_bytes());
    put_str(&mut body, client_id);
    put_str(&mut body, username);
    put_str(&mut body, password);

    let mut packet = vec![0x10];
    let mut remaining = body.len();
    loop {
        let mut byte = (remaining % 128) as u8;
        remaining /= 128;
        if remaining > 0 {
            byte |= 0x80;
        }
        packet.push(byte);
        if remaining == 0 {
            break;
        }
    }
    packet.extend_from_slice(&body);
    packet
}

fn put_str(out: &mut Vec<u8>, s: &str) {
    // MQTT strings are at most 65,535 bytes; ours are ids and keys of a few dozen.
    let len = u16::try_from(s.len()).unwrap_or(u16::MAX);
    out.extend_from_slice(&len.to_be_bytes());
    out.extend_from_slice(&s.as_bytes()[..usize::from(len)]);
}

/// The outcome of the 4 bytes a 3.1.1 broker answers a CONNECT with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ConnAck {
    Accepted,
    Refused(u8),
    NotConnAck,
}

pub fn parse_connack(bytes: [u8; 4]) -> ConnAck {
    match bytes {
        [0x20, 0x02, _, 0] => ConnAck::Accepted,
        [0x20, 0x02, _, code] => ConnAck::Refused(code),
        _ => ConnAck::NotConnAck,
    }
}

/// The `p`-th percentile (0 < p <= 100) of ascending `sorted` by the nearest-rank method:
/// the smallest value that at least p% of the values do not exceed.
pub fn percentile(sorted: &[u64], p: f64) -> Option<u64> {
    if sorted.is_empty() || !(p > 0.0 && p <= 100.0) {
        return None;
    }
    let rank = (p / 100.0 * sorted.len() as f64).ceil() as usize;
    sorted.get(rank.clamp(1, sorted.len()) - 1).copied()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn payloads_round_trip_at_the_requested_size() {
        let stamp = Stamp {
            seq: 123_456,
            sent_ns: 1_795_000_000_123_456_789,
        };
        for len in [0, MIN_PAYLOAD, 200, 4096] {
            let payload = encode_payload(stamp, len);
            assert!(payload.len() <= len.max(MIN_PAYLOAD), "{len}");
            if len >= MIN_PAYLOAD {
                assert_eq!(payload.len(), len);
            }
            assert_eq!(decode_payload(&payload), Some(stamp));
        }
        let longest = encode_payload(
            Stamp {
                seq: u64::MAX,
                sent_ns: stamp.sent_ns,
            },
            0,
        );
        assert_eq!(longest.len(), MIN_PAYLOAD);
        assert_eq!(decode_payload(br#"{"seq":1,"readings":[]}"#), None);
        assert_eq!(decode_payload(&[b'x'; 64]), None);
    }

    #[test]
    fn payloads_are_telemetry_the_platform_accepts() {
        use healthsync_core::devices::DeviceKind;
        use healthsync_core::telemetry;

        let now = chrono::Utc::now();
        let stamp = Stamp {
            seq: 42,
            sent_ns: now.timestamp_nanos_opt().unwrap(),
        };
        let payload = encode_payload(stamp, 200);
        let message = telemetry::decode(&payload).unwrap();
        assert_eq!(message.seq, 42);
        let context = telemetry::Context {
            device_kind: DeviceKind::Smartwatch,
            now,
            oldest: now - chrono::Duration::days(1),
        };
        let (accepted, rejected) = telemetry::validate(&message.readings, &context);
        assert_eq!((accepted.len(), rejected.len()), (1, 0), "{rejected:?}");
    }

    #[test]
    fn connect_packets_follow_mqtt_3_1_1() {
        let packet = connect_packet("dev", "dev", "key", 600);
        let expected: Vec<u8> = [
            &[0x10, 25][..],
            &[0, 4],
            b"MQTT",
            &[4, 0xC2, 0x02, 0x58],
            &[0, 3],
            b"dev",
            &[0, 3],
            b"dev",
            &[0, 3],
            b"key",
        ]
        .concat();
        assert_eq!(packet, expected);

        // A remaining length of 128 or more takes a second length byte.
        let long = "k".repeat(150);
        let packet = connect_packet("dev", "dev", &long, 600);
        let remaining = 10 + 5 + 5 + 2 + 150;
        assert_eq!(packet[1..3], [(remaining % 128) as u8 | 0x80, 1]);
        assert_eq!(packet.len(), 3 + remaining);
    }

    #[test]
    fn connacks_are_read() {
        assert_eq!(parse_connack([0x20, 2, 0, 0]), ConnAck::Accepted);
        assert_eq!(parse_connack([0x20, 2, 0, 5]), ConnAck::Refused(5));
        assert_eq!(parse_connack([0x30, 2, 0, 0]), ConnAck::NotConnAck);
    }

    #[test]
    fn percentiles_use_the_nearest_rank() {
        let values: Vec<u64> = (1..=100).collect();
        assert_eq!(percentile(&values, 50.0), Some(50));
        assert_eq!(percentile(&values, 99.0), Some(99));
        assert_eq!(percentile(&values, 100.0), Some(100));
        assert_eq!(percentile(&values, 0.1), Some(1));
        assert_eq!(percentile(&[5, 9], 50.0), Some(5));
        assert_eq!(percentile(&[5, 9], 99.0), Some(9));
        assert_eq!(percentile(&[42], 99.0), Some(42));
        assert_eq!(percentile(&[], 50.0), None);
        assert_eq!(percentile(&values, 0.0), None);
    }
}
