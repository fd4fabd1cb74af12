-- Device status reports (`devices/{id}/status`: low battery, sensor fault and recovery,
-- firmware errors) are kept as device events: `detail` holds the report's kind, `report` the
-- whole report as the device sent it (its own time `t`, message, battery); `at` is when
-- ingest received it. Connection events leave `report` null.
--
-- ADD VALUE may run inside the migration's transaction (PostgreSQL 12+) as long as nothing
-- in the same transaction uses the new value, and nothing here does.

ALTER TYPE device_event_kind ADD VALUE IF NOT EXISTS 'status';

ALTER TABLE device_events ADD COLUMN report jsonb;
