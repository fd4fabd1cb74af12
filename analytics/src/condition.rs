//! The alarm-fatigue state machine every detector shares: a condition must persist before it
//! fires (readings between the threshold and the clear margin do not count, and break the
//! streak once they outnumber the abnormal ones; a normal one breaks it at once), clears only after a persistent return past a hysteresis
//! margin, and while it holds it does not fire again (it may only upgrade its severity,
//! after persisting at the higher level too).

use chrono::{DateTime, Utc};
use healthsync_core::ids::DeviceId;
use serde::{Deserialize, Serialize};

use crate::alert::Severity;

/// How long, and over how many readings, a condition must hold. Both must be met.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Persistence {
    pub readings: u32,
    pub seconds: u32,
}

impl Persistence {
    pub const IMMEDIATE: Persistence = Persistence {
        readings: 1,
        seconds: 0,
    };

    fn met(&self, readings: u32, since: DateTime<Utc>, now: DateTime<Utc>) -> bool {
        readings >= self.readings.max(1) && (now - since).num_seconds() >= i64::from(self.seconds)
    }
}

/// Persistence for readings of continuous wearables and for spot checks. A spot check
/// (cuff, oximeter, glucometer, thermometer) is a deliberate measurement the device already
/// averages, taken minutes or hours apart; continuous wearables sample every few seconds and
/// carry motion noise, so they must show a condition for longer.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Confirm {
    pub continuous: Persistence,
    pub spot: Persistence,
}

impl Confirm {
    pub const IMMEDIATE: Confirm = Confirm {
        continuous: Persistence::IMMEDIATE,
        spot: Persistence::IMMEDIATE,
    };
}

/// Where one reading stands against a rule.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Level {
    /// Past the clear margin on the normal side.
    Normal,
    /// Between the firing threshold and the clear margin: holds an active condition, starts
    /// nothing.
    Borderline,
    Abnormal(Severity),
}

/// A reading as the evidence of an alert shows it.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct Evidence {
    pub t: DateTime<Utc>,
    pub device: DeviceId,
    pub value: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value2: Option<f64>,
}

/// At most this many readings are kept as evidence: the first ones and the latest.
const EVIDENCE_LIMIT: usize = 24;

#[derive(Clone, Debug, PartialEq)]
pub enum Transition {
    Fire {
        severity: Severity,
        started_at: DateTime<Utc>,
        evidence: Vec<Evidence>,
    },
    /// Held at a more severe level for long enough.
    Upgrade {
        severity: Severity,
        started_at: DateTime<Utc>,
        evidence: Vec<Evidence>,
    },
    Clear,
}

#[derive(Clone, Debug, Default)]
pub struct Condition {
    state: State,
    last_t: Option<DateTime<Utc>>,
}

#[derive(Clone, Debug, Default)]
enum State {
    #[default]
    Idle,
    Pending(Streak),
    Active {
        severity: Severity,
        /// Readings back to normal, towards clearing.
        normal: Option<Streak>,
        /// Readings at a more severe level, towards an upgrade.
        worse: Option<Streak>,
    },
}

#[derive(Clone, Debug)]
struct Streak {
    since: DateTime<Utc>,
    continuous: u32,
    spot: u32,
    /// Readings between the threshold and the clear margin meanwhile.
    borderline: u32,
    /// The least severe level seen: what has persisted.
    severity: Severity,
    evidence: Vec<Evidence>,
}

impl Streak {
    fn start(t: DateTime<Utc>, severity: Severity) -> Streak {
        Streak {
            since: t,
            continuous: 0,
            spot: 0,
            borderline: 0,
            severity,
            evidence: Vec::new(),
        }
    }

    fn add(&mut self, spot: bool, severity: Severity, evidence: Evidence) {
        if spot {
            self.spot += 1;
        } else {
            self.continuous += 1;
        }
        self.severity = self.severity.min(severity);
        if self.evidence.len() == EVIDENCE_LIMIT {
            // Keep the onset; let the latest readings rotate through the second half.
            self.evidence.remove(EVIDENCE_LIMIT / 2);
        }
        self.evidence.push(evidence);
    }

    fn met(&self, confirm: &Confirm, now: DateTime<Utc>) -> bool {
        confirm.continuous.met(self.continuous, self.since, now)
            || confirm.spot.met(self.spot, self.since, now)
    }
}

impl Condition {
    pub fn is_active(&self) -> bool {
        matches!(self.state, State::Active { .. })
    }

    /// Feeds one reading. Readings older than the last one fed are ignored: a replayed
    /// backlog must not rewind a condition.
    pub fn update(
        &mut self,
        level: Level,
        spot: bool,
        evidence: Evidence,
        confirm: &Confirm,
    ) -> Option<Transition> {
        let t = evidence.t;
        if self.last_t.is_some_and(|last| t <= last) {
            return None;
        }
        self.last_t = Some(t);
        match (&mut self.state, level) {
            (State::Idle, Level::Abnormal(severity)) => {
                let mut streak = Streak::start(t, severity);
                streak.add(spot, severity, evidence);
                self.state = State::Pending(streak);
                self.fire_if_met(confirm, t)
            }
            (State::Idle, _) => None,
            (State::Pending(streak), Level::Abnormal(severity)) => {
                streak.add(spot, severity, evidence);
                self.fire_if_met(confirm, t)
            }
            // Noise around a threshold: a reading just inside it does not count, and breaks
            // the streak only once such readings outnumber the abnormal ones; a clearly
            // normal reading breaks it at once.
            (State::Pending(streak), Level::Borderline) => {
                streak.borderline += 1;
                if streak.borderline > streak.continuous + streak.spot {
                    self.state = State::Idle;
                }
                None
            }
            (State::Pending(_), _) => {
                self.state = State::Idle;
                None
            }
            (
                State::Active {
                    severity: current,
                    normal,
                    worse,
                    ..
                },
                level,
            ) => {
                if level != Level::Normal {
                    *normal = None;
                }
                match level {
                    Level::Normal => {
                        *worse = None;
                        let streak = normal.get_or_insert_with(|| Streak::start(t, Severity::Low));
                        streak.add(spot, Severity::Low, evidence);
                        if streak.met(confirm, t) {
                            self.state = State::Idle;
                            return Some(Transition::Clear);
                        }
                        None
                    }
                    Level::Abnormal(severity) if severity > *current => {
                        let streak = worse.get_or_insert_with(|| Streak::start(t, severity));
                        streak.add(spot, severity, evidence);
                        if streak.met(confirm, t) {
                            let streak = worse.take().expect("just inserted");
                            *current = streak.severity;
                            return Some(Transition::Upgrade {
                                severity: streak.severity,
                                started_at: streak.since,
                                evidence: streak.evidence,
                            });
                        }
                        None
                    }
                    _ => {
                        *worse = None;
                        None
                    }
                }
            }
        }
    }

    /// Makes an active condition clear, as when its device stops sending altogether.
    pub fn reset(&mut self) -> bool {
        let was_active = self.is_active();
        self.state = State::Idle;
        was_active
    }

    fn fire_if_met(&mut self, confirm: &Confirm, now: DateTime<Utc>) -> Option<Transition> {
        let State::Pending(streak) = &mut self.state else {
            return None;
        };
        if !streak.met(confirm, now) {
            return None;
        }
        let streak = std::mem::replace(streak, Streak::start(now, Severity::Low));
        self.state = State::Active {
            severity: streak.severity,
            normal: None,
            worse: None,
        };
        Some(Transition::Fire {
            severity: streak.severity,
            started_at: streak.since,
            evidence: streak.evidence,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(seconds: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_800_000_000 + seconds, 0).unwrap()
    }

    fn evidence(seconds: i64, value: f64) -> Evidence {
        Evidence {
            t: at(seconds),
            device: DeviceId(uuid::Uuid::nil()),
            value,
            value2: None,
        }
    }

    const THIRTY_SECONDS: Confirm = Confirm {
        continuous: Persistence {
            readings: 4,
            seconds: 30,
        },
        spot: Persistence::IMMEDIATE,
    };

    fn feed(condition: &mut Condition, from: i64, step: i64, levels: &[Level]) -> Vec<Transition> {
        levels
            .iter()
            .enumerate()
            .filter_map(|(i, &level)| {
                let t = from + step * i as i64;
                condition.update(level, false, evidence(t, 0.0), &THIRTY_SECONDS)
            })
            .collect()
    }

    const HIGH: Level = Level::Abnormal(Severity::High);
    const MEDIUM: Level = Level::Abnormal(Severity::Medium);
    const NORMAL: Level = Level::Normal;
    const BORDER: Level = Level::Borderline;

    #[test]
    fn fires_once_the_condition_persisted_for_long_enough_and_enough_readings() {
        let mut c = Condition::default();
        // 0, 5, ..., 25 s: six readings but only 25 s.
        assert!(feed(&mut c, 0, 5, &[HIGH; 6]).is_empty());
        let fired = feed(&mut c, 30, 5, &[HIGH]);
        assert_eq!(fired.len(), 1);
        let Transition::Fire {
            severity,
            started_at,
            evidence,
        } = &fired[0]
        else {
            panic!("expected a fire, got {fired:?}");
        };
        assert_eq!(
            (*severity, *started_at, evidence.len()),
            (Severity::High, at(0), 7)
        );
    }

    #[test]
    fn a_short_excursion_does_not_fire() {
        let mut c = Condition::default();
        let mut levels = vec![HIGH; 3];
        levels.push(NORMAL);
        levels.extend([HIGH; 3]);
        assert!(feed(&mut c, 0, 5, &levels).is_empty());
        assert!(!c.is_active());
    }

    #[test]
    fn noise_around_the_threshold_still_fires_when_the_condition_persists() {
        let mut c = Condition::default();
        // A heart at 40 /min with noise: abnormal, borderline, abnormal, ... for a minute.
        let levels = [
            HIGH, BORDER, HIGH, HIGH, BORDER, BORDER, HIGH, BORDER, HIGH, HIGH,
        ];
        let fired = feed(&mut c, 0, 5, &levels);
        assert!(
            matches!(fired.as_slice(), [Transition::Fire { .. }]),
            "{fired:?}"
        );
    }

    #[test]
    fn a_value_mostly_inside_the_threshold_does_not_fire() {
        let mut c = Condition::default();
        // A sleeping athlete at 42 /min: now and then a reading at 40.
        let mut levels = Vec::new();
        for _ in 0..40 {
            levels.extend([BORDER, HIGH, BORDER, BORDER]);
        }
        assert!(feed(&mut c, 0, 5, &levels).is_empty());
    }

    #[test]
    fn a_spot_check_confirms_at_once_when_its_rule_says_so() {
        let mut c = Condition::default();
        let fired = c.update(HIGH, true, evidence(0, 85.0), &THIRTY_SECONDS);
        assert!(matches!(fired, Some(Transition::Fire { .. })));
    }

    #[test]
    fn an_active_condition_does_not_fire_again_and_borderline_readings_hold_it() {
        let mut c = Condition::default();
        assert_eq!(feed(&mut c, 0, 10, &[HIGH; 4]).len(), 1);
        // More abnormal and borderline readings, a few normal ones interrupted: no clear.
        let levels = [
            HIGH, HIGH, BORDER, NORMAL, NORMAL, BORDER, HIGH, NORMAL, NORMAL,
        ];
        assert!(feed(&mut c, 40, 10, &levels).is_empty());
        assert!(c.is_active());
    }

    #[test]
    fn clears_only_after_normal_readings_persist() {
        let mut c = Condition::default();
        feed(&mut c, 0, 10, &[HIGH; 4]);
        let cleared = feed(&mut c, 40, 10, &[NORMAL; 4]);
        assert_eq!(cleared, vec![Transition::Clear]);
        assert!(!c.is_active());
        // And it can fire again afterwards.
        assert_eq!(feed(&mut c, 100, 10, &[MEDIUM; 4]).len(), 1);
    }

    #[test]
    fn the_severity_is_the_least_severe_level_that_persisted_and_upgrades_after_persisting() {
        let mut c = Condition::default();
        let fired = feed(&mut c, 0, 10, &[HIGH, MEDIUM, HIGH, HIGH]);
        assert!(matches!(
            fired.as_slice(),
            [Transition::Fire {
                severity: Severity::Medium,
                ..
            }]
        ));
        assert!(feed(&mut c, 40, 10, &[HIGH, HIGH, MEDIUM]).is_empty());
        let upgraded = feed(&mut c, 70, 10, &[HIGH; 4]);
        assert!(matches!(
            upgraded.as_slice(),
            [Transition::Upgrade {
                severity: Severity::High,
                ..
            }]
        ));
    }

    #[test]
    fn an_older_reading_does_not_rewind_the_condition() {
        let mut c = Condition::default();
        feed(&mut c, 0, 10, &[HIGH; 4]);
        let stale = c.update(NORMAL, false, evidence(-60, 0.0), &THIRTY_SECONDS);
        assert_eq!(stale, None);
        // Just before the last one: a replayed message.
        assert_eq!(
            c.update(NORMAL, false, evidence(29, 0.0), &THIRTY_SECONDS),
            None
        );
        assert!(c.is_active());
    }

    #[test]
    fn evidence_keeps_the_onset_and_the_latest_readings() {
        let mut c = Condition::default();
        let confirm = Confirm {
            continuous: Persistence {
                readings: 100,
                seconds: 0,
            },
            spot: Persistence {
                readings: 100,
                seconds: 0,
            },
        };
        let mut fired = None;
        for i in 0..100 {
            fired = c.update(HIGH, false, evidence(i, i as f64), &confirm);
        }
        let Some(Transition::Fire { evidence, .. }) = fired else {
            panic!("expected a fire");
        };
        assert_eq!(evidence.len(), EVIDENCE_LIMIT);
        assert_eq!(evidence[0].value, 0.0);
        assert_eq!(evidence[EVIDENCE_LIMIT / 2 - 1].value, 11.0);
        assert_eq!(evidence.last().unwrap().value, 99.0);
    }
}
