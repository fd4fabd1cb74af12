//! The device models the simulator knows, and the registry kind each one is registered as.
//! Their cadences, metrics and battery life are data: see `data/models.toml`.

use std::fmt;
use std::str::FromStr;

use healthsync_core::devices::DeviceKind;
use serde::{Deserialize, Serialize};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Model {
    Smartwatch,
    BpMonitor,
    PulseOximeter,
    /// A finger-stick meter: a few measurements a day.
    Glucometer,
    /// A continuous glucose monitor: a reading every five minutes.
    Cgm,
    Thermometer,
    Scale,
}

impl Model {
    pub const ALL: [Model; 7] = [
        Model::Smartwatch,
        Model::BpMonitor,
        Model::PulseOximeter,
        Model::Glucometer,
        Model::Cgm,
        Model::Thermometer,
        Model::Scale,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Model::Smartwatch => "smartwatch",
            Model::BpMonitor => "bp_monitor",
            Model::PulseOximeter => "pulse_oximeter",
            Model::Glucometer => "glucometer",
            Model::Cgm => "cgm",
            Model::Thermometer => "thermometer",
            Model::Scale => "scale",
        }
    }

    /// The kind the device is registered as (a CGM is a glucometer to the platform).
    pub fn kind(self) -> DeviceKind {
        match self {
            Model::Smartwatch => DeviceKind::Smartwatch,
            Model::BpMonitor => DeviceKind::BpMonitor,
            Model::PulseOximeter => DeviceKind::PulseOximeter,
            Model::Glucometer | Model::Cgm => DeviceKind::Glucometer,
            Model::Thermometer => DeviceKind::Thermometer,
            Model::Scale => DeviceKind::Scale,
        }
    }
}

impl fmt::Display for Model {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

#[derive(Debug, thiserror::Error)]
#[error(
    "unknown device model {0:?}; known: smartwatch, bp_monitor, pulse_oximeter, glucometer, cgm, thermometer, scale"
)]
pub struct UnknownModel(pub String);

impl FromStr for Model {
    type Err = UnknownModel;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Model::ALL
            .into_iter()
            .find(|m| m.name() == s)
            .ok_or_else(|| UnknownModel(s.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_every_model_sends_a_catalog_metric() {
        for model in Model::ALL {
            assert_eq!(model.name().parse::<Model>().unwrap(), model);
            assert!(
                healthsync_core::catalog::Metric::ALL
                    .iter()
                    .any(|m| m.may_come_from(model.kind())),
                "{model}"
            );
        }
        assert!("fitbit".parse::<Model>().is_err());
    }
}
