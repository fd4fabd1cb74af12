//! What an alert is: its severity (IEC 60601-1-8), its lifecycle, the draft a detector
//! raises, the stored alert, and the change events published for live views.

use chrono::{DateTime, Utc};
use healthsync_core::catalog::Metric;
use healthsync_core::ids::{DeviceId, UserId};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// Alarm priority after IEC 60601-1-8: high needs immediate response, medium prompt
/// response, low awareness.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, sqlx::Type,
)]
#[sqlx(type_name = "alert_severity", rename_all = "snake_case")]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum Severity {
    Low,
    Medium,
    High,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, sqlx::Type)]
#[sqlx(type_name = "alert_status", rename_all = "snake_case")]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum AlertStatus {
    Open,
    Acknowledged,
    Resolved,
}

/// What a detector raises. The store turns it into an [`Alert`], or, when an unresolved
/// alert with the same patient and key exists, counts it as a recurrence of that one.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct AlertDraft {
    pub patient: UserId,
    /// The device the condition concerns (device health), or whose reading fired it.
    pub device: Option<DeviceId>,
    /// The condition: at most one unresolved alert per patient and key, e.g. `spo2_low`,
    /// `news2`, `device_offline:<device id>`.
    pub key: String,
    /// The rule that fired, e.g. `spo2_low`, `news2`, `resting_hr_baseline`.
    pub rule: &'static str,
    pub metric: Option<Metric>,
    pub severity: Severity,
    pub title: String,
    pub message: String,
    /// When the condition began: the first abnormal reading's measurement time.
    pub started_at: DateTime<Utc>,
    /// The measurement time of the reading that completed the condition (or, for device
    /// health, the analytics clock when it was noticed).
    pub triggered_at: DateTime<Utc>,
    /// The readings, thresholds and scores that made the decision.
    pub evidence: serde_json::Value,
}

/// A stored alert.
#[derive(Clone, Debug, PartialEq, Serialize, sqlx::FromRow)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Alert {
    pub id: Uuid,
    pub patient_id: UserId,
    pub device_id: Option<DeviceId>,
    pub key: String,
    pub rule: String,
    pub metric: Option<Metric>,
    pub severity: Severity,
    pub status: AlertStatus,
    pub title: String,
    pub message: String,
    pub started_at: DateTime<Utc>,
    pub triggered_at: DateTime<Utc>,
    /// When the platform stored it (wall clock).
    pub raised_at: DateTime<Utc>,
    /// How many times the condition fired while this alert was unresolved (1 at first).
    pub occurrences: i32,
    /// When the condition last cleared (with hysteresis); null while it holds.
    pub cleared_at: Option<DateTime<Utc>>,
    pub acknowledged_at: Option<DateTime<Utc>>,
    pub acknowledged_by: Option<UserId>,
    pub resolved_at: Option<DateTime<Utc>>,
    pub resolved_by: Option<UserId>,
    pub resolution_note: Option<String>,
    pub escalated_at: Option<DateTime<Utc>>,
    pub evidence: serde_json::Value,
}

/// What happened to an alert, as live views receive it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AlertChange {
    Raised,
    /// The condition fired again while the alert was unresolved: no new alert.
    Recurred,
    /// The condition fired again, more severe: the alert took the higher severity and the
    /// care team was notified again.
    Upgraded,
    /// The condition cleared; the alert stays until resolved, unless it resolves itself.
    Cleared,
    Acknowledged,
    Resolved,
    /// A high alert stayed unacknowledged: the care team and admins were notified again.
    Escalated,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct AlertEvent {
    pub change: AlertChange,
    pub alert: Alert,
}
