-- What ingest keeps besides readings: everything it refused, for the device's owner to
-- inspect (which reading, why, and exactly what was sent).

CREATE TABLE rejected_readings (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    device_id   uuid NOT NULL,
    received_at timestamptz NOT NULL DEFAULT now(),
    -- Null when the whole message was refused (its envelope did not decode).
    seq         bigint,
    idx         integer,
    reason      text NOT NULL,
    raw         text NOT NULL
);
CREATE INDEX rejected_readings_device_time_idx ON rejected_readings (device_id, received_at DESC);
