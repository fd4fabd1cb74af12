-- The first schema: people (users, patients), their devices, and the readings hypertable.
-- Later migrations add credentials, care teams, alerts and the audit log.

CREATE TYPE user_role AS ENUM ('patient', 'clinician', 'admin');
-- Clinicians who register themselves wait for an admin's approval.
CREATE TYPE user_status AS ENUM ('active', 'pending_approval', 'disabled');

CREATE TABLE users (
    id            uuid PRIMARY KEY,
    email         text NOT NULL,
    first_name    text NOT NULL,
    last_name     text NOT NULL,
    phone         text,
    role          user_role NOT NULL,
    status        user_status NOT NULL DEFAULT 'active',
    password_hash text,
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT users_email_shape CHECK (email = lower(email) AND position('@' IN email) > 1)
);
CREATE UNIQUE INDEX users_email_key ON users (email);
CREATE UNIQUE INDEX users_phone_key ON users (phone) WHERE phone IS NOT NULL;

CREATE TABLE patients (
    user_id           uuid PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    date_of_birth     date,
    sex               text CHECK (sex IN ('female', 'male', 'other', 'unknown')),
    height_cm         real CHECK (height_cm > 0 AND height_cm < 300),
    conditions        text[] NOT NULL DEFAULT '{}',
    medications       text[] NOT NULL DEFAULT '{}',
    allergies         text[] NOT NULL DEFAULT '{}',
    emergency_contact jsonb,
    updated_at        timestamptz NOT NULL DEFAULT now()
);

CREATE TYPE device_kind AS ENUM (
    'smartwatch', 'bp_monitor', 'pulse_oximeter', 'glucometer', 'thermometer', 'scale'
);
CREATE TYPE device_status AS ENUM ('active', 'revoked');

CREATE TABLE devices (
    id               uuid PRIMARY KEY,
    patient_id       uuid NOT NULL REFERENCES patients (user_id) ON DELETE CASCADE,
    kind             device_kind NOT NULL,
    display_name     text NOT NULL,
    manufacturer     text,
    model            text,
    firmware_version text,
    status           device_status NOT NULL DEFAULT 'active',
    -- The key is stored only as HMAC-SHA256(server secret, key); the prefix is not secret.
    api_key_prefix   text NOT NULL,
    api_key_hash     bytea NOT NULL,
    key_rotated_at   timestamptz,
    revoked_at       timestamptz,
    online           boolean NOT NULL DEFAULT false,
    created_at       timestamptz NOT NULL DEFAULT now(),
    last_seen_at     timestamptz,
    battery          real CHECK (battery >= 0 AND battery <= 1)
);
CREATE INDEX devices_patient_idx ON devices (patient_id);
CREATE UNIQUE INDEX devices_api_key_prefix_key ON devices (api_key_prefix);

-- Every metric of the catalog in core (healthsync_core::metrics). Readable in SQL, four
-- bytes on disk; new metrics are added with ALTER TYPE ... ADD VALUE.
CREATE TYPE metric AS ENUM (
    'heart_rate', 'respiratory_rate', 'spo2', 'body_temperature', 'blood_pressure',
    'body_weight', 'blood_glucose', 'steps'
);

-- One row per measurement. The key (device, metric, measurement time) makes a replayed
-- message harmless: writers insert with ON CONFLICT DO NOTHING. No foreign keys: ingest
-- checks the device before writing, and the hot path should not pay for a lookup per row.
CREATE TABLE readings (
    measured_at timestamptz NOT NULL,
    device_id   uuid NOT NULL,
    patient_id  uuid NOT NULL,
    metric      metric NOT NULL,
    -- The value in the catalog's UCUM unit; for blood_pressure the systolic pressure.
    value       double precision NOT NULL,
    -- The second component where a metric has one: diastolic pressure for blood_pressure.
    value2      double precision,
    seq         bigint NOT NULL,
    received_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (device_id, metric, measured_at)
);
CREATE INDEX readings_patient_metric_time_idx ON readings (patient_id, metric, measured_at DESC);

-- A hypertable where TimescaleDB is installed; a plain table otherwise (allowed only when
-- configured), which every query of healthsync also works on.
DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'timescaledb') THEN
        PERFORM create_hypertable('readings', 'measured_at', chunk_time_interval => INTERVAL '1 day');
    END IF;
END
$$;
