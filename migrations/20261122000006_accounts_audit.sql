-- Accounts for people using the API: lockout after failed logins, a record of every login
-- attempt, sessions with rotating refresh tokens, and the hash-chained audit log.

ALTER TABLE users
    ADD COLUMN failed_logins integer NOT NULL DEFAULT 0 CHECK (failed_logins >= 0),
    ADD COLUMN locked_until  timestamptz;

CREATE TYPE login_outcome AS ENUM (
    'success', 'bad_password', 'unknown_identifier', 'locked', 'disabled', 'pending_approval'
);

-- Every login attempt, successful or not; `user_id` is null when the identifier matched
-- nobody.
CREATE TABLE login_attempts (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at         timestamptz NOT NULL DEFAULT now(),
    user_id    uuid REFERENCES users (id) ON DELETE SET NULL,
    identifier text NOT NULL,
    ip         text,
    user_agent text,
    outcome    login_outcome NOT NULL
);
CREATE INDEX login_attempts_user ON login_attempts (user_id, at DESC);

-- A session is one login: a family of refresh tokens, each replacing the one before.
-- Access tokens name their session, so revoking it (logout, reuse of a rotated token,
-- password change, disabling the user) stops them at once.
CREATE TABLE sessions (
    id             uuid PRIMARY KEY,
    user_id        uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at     timestamptz NOT NULL DEFAULT now(),
    ip             text,
    user_agent     text,
    revoked_at     timestamptz,
    revoked_reason text,
    CHECK ((revoked_at IS NULL) = (revoked_reason IS NULL))
);
CREATE INDEX sessions_user ON sessions (user_id) WHERE revoked_at IS NULL;

-- Refresh tokens are 256-bit random strings; only their SHA-256 is kept.
CREATE TABLE refresh_tokens (
    token_hash bytea PRIMARY KEY,
    session_id uuid NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    issued_at  timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz NOT NULL,
    used_at    timestamptz
);
CREATE INDEX refresh_tokens_session ON refresh_tokens (session_id);

CREATE TYPE audit_outcome AS ENUM ('allowed', 'denied');

-- Who read or changed patient data, and who tried. Each row's hash covers its content and
-- the previous row's hash, so changing or deleting a row breaks the chain from there on.
CREATE TABLE audit_log (
    id          bigint PRIMARY KEY,
    at          timestamptz NOT NULL,
    actor_id    uuid,
    actor_role  user_role,
    action      text NOT NULL,
    resource    text NOT NULL,
    resource_id text,
    patient_id  uuid,
    outcome     audit_outcome NOT NULL,
    ip          text,
    prev_hash   bytea NOT NULL,
    hash        bytea NOT NULL
);
CREATE INDEX audit_log_patient ON audit_log (patient_id, id);
CREATE INDEX audit_log_actor ON audit_log (actor_id, id);

-- Append-only for everyone going through SQL; tampering needs a superuser disabling the
-- trigger, and the chain then tells.
CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_log is append-only';
END $$;
CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_append_only();
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only();
