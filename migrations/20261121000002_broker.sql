-- What the broker records: internal service principals with their own keys, and every
-- device's connection history.

CREATE TYPE service_role AS ENUM ('ingest');

CREATE TABLE service_principals (
    name           text PRIMARY KEY CHECK (name ~ '^[a-z0-9-]{1,40}$'),
    role           service_role NOT NULL,
    api_key_prefix text NOT NULL UNIQUE,
    api_key_hash   bytea NOT NULL,
    created_at     timestamptz NOT NULL DEFAULT now(),
    revoked_at     timestamptz
);

CREATE TYPE device_event_kind AS ENUM (
    'connected',      -- CONNACK accepted
    'disconnected',   -- the session ended (detail says why)
    'refused',        -- CONNECT refused (detail: bad_key, revoked, unknown_device, rate_limited, ...)
    'acl_violation'   -- published or subscribed outside its own topics; disconnected
);

CREATE TABLE device_events (
    id        bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    device_id uuid NOT NULL,
    at        timestamptz NOT NULL DEFAULT now(),
    kind      device_event_kind NOT NULL,
    detail    text
);
CREATE INDEX device_events_device_time_idx ON device_events (device_id, at DESC);
