//! The metric catalog: every metric healthsync accepts, with its LOINC code, UCUM unit,
//! the bounds of what is physiologically possible (readings outside are rejected, not
//! stored) and the device kinds that may send it. Validation, storage, FHIR export and
//! the simulator all read this one table.
//!
//! Bounds are deliberately wide — they reject sensor garbage and unit mistakes, not
//! alarming values: a heart rate of 35 or a glucose of 45 must be stored so that analytics
//! can raise an alert on it.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::devices::DeviceKind;

#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, sqlx::Type,
)]
#[sqlx(type_name = "metric", rename_all = "snake_case")]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum Metric {
    HeartRate,
    RespiratoryRate,
    Spo2,
    BodyTemperature,
    BloodPressure,
    BodyWeight,
    BloodGlucose,
    Steps,
}

/// A LOINC-coded quantity: the metric itself, or one component of a panel.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Quantity {
    pub loinc: &'static str,
    pub display: &'static str,
    /// UCUM unit code.
    pub unit: &'static str,
    pub min: f64,
    pub max: f64,
}

#[derive(Clone, Copy, Debug)]
pub struct MetricSpec {
    pub metric: Metric,
    pub name: &'static str,
    /// The LOINC code of the observation (for blood pressure, the panel).
    pub loinc: &'static str,
    /// An alternative LOINC code devices of this metric also report under.
    pub alternate_loinc: Option<&'static str>,
    pub display: &'static str,
    /// The stored value (for blood pressure, the systolic component).
    pub value: Quantity,
    /// The second component, where the metric has one (diastolic pressure).
    pub value2: Option<Quantity>,
    pub device_kinds: &'static [DeviceKind],
}

use DeviceKind::{BpMonitor, Glucometer, PulseOximeter, Scale, Smartwatch, Thermometer};

pub const CATALOG: [MetricSpec; 8] = [
    MetricSpec {
        metric: Metric::HeartRate,
        name: "heart_rate",
        loinc: "8867-4",
        alternate_loinc: None,
        display: "Heart rate",
        value: Quantity {
            loinc: "8867-4",
            display: "Heart rate",
            unit: "/min",
            min: 20.0,
            max: 300.0,
        },
        value2: None,
        device_kinds: &[Smartwatch, BpMonitor, PulseOximeter],
    },
    MetricSpec {
        metric: Metric::RespiratoryRate,
        name: "respiratory_rate",
        loinc: "9279-1",
        alternate_loinc: None,
        display: "Respiratory rate",
        value: Quantity {
            loinc: "9279-1",
            display: "Respiratory rate",
            unit: "/min",
            min: 2.0,
            max: 80.0,
        },
        value2: None,
        device_kinds: &[Smartwatch, PulseOximeter],
    },
    MetricSpec {
        metric: Metric::Spo2,
        name: "spo2",
        loinc: "2708-6",
        alternate_loinc: Some("59408-5"),
        display: "Oxygen saturation",
        value: Quantity {
            loinc: "2708-6",
            display: "Oxygen saturation",
            unit: "%",
            min: 40.0,
            max: 100.0,
        },
        value2: None,
        device_kinds: &[Smartwatch, PulseOximeter],
    },
    MetricSpec {
        metric: Metric::BodyTemperature,
        name: "body_temperature",
        loinc: "8310-5",
        alternate_loinc: None,
        display: "Body temperature",
        value: Quantity {
            loinc: "8310-5",
            display: "Body temperature",
            unit: "Cel",
            min: 25.0,
            max: 45.0,
        },
        value2: None,
        device_kinds: &[Thermometer, Smartwatch],
    },
    MetricSpec {
        metric: Metric::BloodPressure,
        name: "blood_pressure",
        loinc: "85354-9",
        alternate_loinc: None,
        display: "Blood pressure panel",
        value: Quantity {
            loinc: "8480-6",
            display: "Systolic blood pressure",
            unit: "mm[Hg]",
            min: 40.0,
            max: 300.0,
        },
        value2: Some(Quantity {
            loinc: "8462-4",
            display: "Diastolic blood pressure",
            unit: "mm[Hg]",
            min: 20.0,
            max: 200.0,
        }),
        device_kinds: &[BpMonitor],
    },
    MetricSpec {
        metric: Metric::BodyWeight,
        name: "body_weight",
        loinc: "29463-7",
        alternate_loinc: None,
        display: "Body weight",
        value: Quantity {
            loinc: "29463-7",
            display: "Body weight",
            unit: "kg",
            min: 0.5,
            max: 500.0,
        },
        value2: None,
        device_kinds: &[Scale],
    },
    MetricSpec {
        metric: Metric::BloodGlucose,
        name: "blood_glucose",
        loinc: "2339-0",
        alternate_loinc: Some("41653-7"),
        display: "Glucose",
        value: Quantity {
            loinc: "2339-0",
            display: "Glucose",
            unit: "mg/dL",
            min: 10.0,
            max: 1000.0,
        },
        value2: None,
        device_kinds: &[Glucometer],
    },
    MetricSpec {
        metric: Metric::Steps,
        name: "steps",
        loinc: "55423-8",
        alternate_loinc: None,
        display: "Number of steps",
        value: Quantity {
            loinc: "55423-8",
            display: "Number of steps",
            unit: "{steps}",
            min: 0.0,
            max: 100_000.0,
        },
        value2: None,
        device_kinds: &[Smartwatch],
    },
];

impl Metric {
    pub const ALL: [Metric; 8] = [
        Metric::HeartRate,
        Metric::RespiratoryRate,
        Metric::Spo2,
        Metric::BodyTemperature,
        Metric::BloodPressure,
        Metric::BodyWeight,
        Metric::BloodGlucose,
        Metric::Steps,
    ];

    pub fn spec(self) -> &'static MetricSpec {
        // CATALOG is ordered like the enum; a unit test holds that.
        &CATALOG[self as usize]
    }

    pub fn as_str(self) -> &'static str {
        self.spec().name
    }

    /// Whether a device of `kind` measures this metric; manual entry may record any.
    pub fn may_come_from(self, kind: DeviceKind) -> bool {
        kind == DeviceKind::Manual || self.spec().device_kinds.contains(&kind)
    }
}

impl fmt::Display for Metric {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, thiserror::Error)]
#[error("unknown metric {0:?}")]
pub struct UnknownMetric(pub String);

impl FromStr for Metric {
    type Err = UnknownMetric;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        CATALOG
            .iter()
            .find(|spec| spec.name == s)
            .map(|spec| spec.metric)
            .ok_or_else(|| UnknownMetric(s.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn catalog_is_ordered_like_the_enum_and_names_round_trip() {
        for (i, metric) in Metric::ALL.into_iter().enumerate() {
            assert_eq!(CATALOG[i].metric, metric);
            assert_eq!(metric.as_str().parse::<Metric>().unwrap(), metric);
        }
        assert!("heartrate".parse::<Metric>().is_err());
    }

    #[test]
    fn catalog_matches_the_design_codes_and_units() {
        let codes: Vec<_> = CATALOG
            .iter()
            .map(|s| (s.name, s.loinc, s.value.unit))
            .collect();
        assert_eq!(
            codes,
            [
                ("heart_rate", "8867-4", "/min"),
                ("respiratory_rate", "9279-1", "/min"),
                ("spo2", "2708-6", "%"),
                ("body_temperature", "8310-5", "Cel"),
                ("blood_pressure", "85354-9", "mm[Hg]"),
                ("body_weight", "29463-7", "kg"),
                ("blood_glucose", "2339-0", "mg/dL"),
                ("steps", "55423-8", "{steps}"),
            ]
        );
        let bp = Metric::BloodPressure.spec();
        assert_eq!(bp.value.loinc, "8480-6");
        assert_eq!(bp.value2.unwrap().loinc, "8462-4");
        for spec in &CATALOG {
            assert!(spec.value.min < spec.value.max, "{}", spec.name);
            assert!(!spec.device_kinds.is_empty(), "{}", spec.name);
        }
    }

    #[test]
    fn device_kinds_send_only_their_metrics() {
        assert!(Metric::BloodPressure.may_come_from(DeviceKind::BpMonitor));
        assert!(!Metric::BloodPressure.may_come_from(DeviceKind::Smartwatch));
        assert!(Metric::Spo2.may_come_from(DeviceKind::PulseOximeter));
        assert!(!Metric::BloodGlucose.may_come_from(DeviceKind::Scale));
    }
}
