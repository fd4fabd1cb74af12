-- What the analytics engine keeps: care teams (who receives a patient's alerts), alerts with
-- their lifecycle (open -> acknowledged -> resolved), the notifications sent to clinicians
-- and admins, per-patient overrides of the default alert rules, and the daily summaries the
-- baseline detector needs to survive a restart.

-- The clinicians who care for a patient; they receive the patient's alerts (and escalations).
-- The admin endpoints that manage it come with the API issue.
CREATE TABLE care_team (
    patient_id   uuid NOT NULL REFERENCES patients (user_id) ON DELETE CASCADE,
    clinician_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    assigned_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (patient_id, clinician_id)
);
CREATE INDEX care_team_clinician_idx ON care_team (clinician_id);

-- Alarm priority after IEC 60601-1-8. Declared in ascending order: comparisons and GREATEST
-- rely on low < medium < high.
CREATE TYPE alert_severity AS ENUM ('low', 'medium', 'high');
CREATE TYPE alert_status AS ENUM ('open', 'acknowledged', 'resolved');

-- One row per alert (healthsync_analytics::alert::Alert). A condition that fires again while
-- its alert is unresolved counts an occurrence on that alert instead of adding a row.
CREATE TABLE alerts (
    id              uuid PRIMARY KEY,
    patient_id      uuid NOT NULL REFERENCES patients (user_id) ON DELETE CASCADE,
    -- No foreign key, as for readings: an alert about a device outlives the device's record.
    device_id       uuid,
    -- The condition, e.g. 'spo2_low' or 'device_offline:<device id>'.
    key             text NOT NULL,
    -- The rule that fired.
    rule            text NOT NULL,
    metric          metric,
    severity        alert_severity NOT NULL,
    status          alert_status NOT NULL DEFAULT 'open',
    title           text NOT NULL,
    message         text NOT NULL,
    -- Measurement times: when the condition began and the reading that completed it.
    started_at      timestamptz NOT NULL,
    triggered_at    timestamptz NOT NULL,
    -- Wall clock: when the platform stored it.
    raised_at       timestamptz NOT NULL DEFAULT now(),
    occurrences     integer NOT NULL DEFAULT 1,
    cleared_at      timestamptz,
    -- Who acted is kept: a user who acknowledged or resolved an alert is disabled, not
    -- deleted.
    acknowledged_at timestamptz,
    acknowledged_by uuid REFERENCES users (id),
    resolved_at     timestamptz,
    -- Null when the platform resolved it (the condition cleared).
    resolved_by     uuid REFERENCES users (id),
    resolution_note text,
    escalated_at    timestamptz,
    -- The readings, thresholds and scores that made the decision.
    evidence        jsonb NOT NULL,
    CONSTRAINT alerts_occurrences_positive CHECK (occurrences >= 1),
    -- Open: nobody acted yet. Acknowledged: someone did, not resolved. Resolved: resolved_at
    -- set, acknowledged_at set only if it was acknowledged first.
    CONSTRAINT alerts_lifecycle CHECK (
        CASE status
            WHEN 'open' THEN acknowledged_at IS NULL AND resolved_at IS NULL
                AND resolved_by IS NULL AND resolution_note IS NULL
            WHEN 'acknowledged' THEN acknowledged_at IS NOT NULL AND resolved_at IS NULL
                AND resolved_by IS NULL AND resolution_note IS NULL
            WHEN 'resolved' THEN resolved_at IS NOT NULL
        END
    ),
    CONSTRAINT alerts_acknowledged_by_has_time CHECK (acknowledged_by IS NULL OR acknowledged_at IS NOT NULL),
    CONSTRAINT alerts_resolved_by_has_time CHECK (resolved_by IS NULL OR resolved_at IS NOT NULL)
);
-- The database guarantees an unresolved alert is never duplicated: raising is an
-- INSERT ... ON CONFLICT on this index.
CREATE UNIQUE INDEX alerts_unresolved_key ON alerts (patient_id, key) WHERE status <> 'resolved';
CREATE INDEX alerts_patient_raised_idx ON alerts (patient_id, raised_at DESC);
-- The escalation scan: high alerts nobody acknowledged yet.
CREATE INDEX alerts_escalation_due_idx ON alerts (raised_at)
    WHERE severity = 'high' AND status = 'open' AND escalated_at IS NULL;

-- What a user is told: a new alert for their patient, or an escalation of one nobody
-- acknowledged.
CREATE TABLE notifications (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id    uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    alert_id   uuid REFERENCES alerts (id) ON DELETE CASCADE,
    kind       text NOT NULL CHECK (kind IN ('alert', 'escalation')),
    title      text NOT NULL,
    body       text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    read_at    timestamptz
);
CREATE INDEX notifications_user_time_idx ON notifications (user_id, created_at DESC);

-- A patient's overrides of the default alert rules, set by their clinicians. The JSON shape
-- is validated by the analytics crate, not here.
CREATE TABLE alert_rules (
    patient_id uuid PRIMARY KEY REFERENCES patients (user_id) ON DELETE CASCADE,
    rules      jsonb NOT NULL,
    updated_by uuid REFERENCES users (id),
    updated_at timestamptz NOT NULL DEFAULT now()
);

-- Daily summaries the baseline detector keeps (e.g. stat 'resting_hr'), so a restart does
-- not forget 28 days of baseline.
CREATE TABLE patient_daily_stats (
    patient_id uuid NOT NULL REFERENCES patients (user_id) ON DELETE CASCADE,
    day        date NOT NULL,
    stat       text NOT NULL,
    value      double precision NOT NULL,
    samples    integer NOT NULL,
    PRIMARY KEY (patient_id, stat, day)
);
