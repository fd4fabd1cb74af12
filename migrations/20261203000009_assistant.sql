-- The symptom assistant's conversations (healthsync_analytics::assistant::conversation):
-- each keeps the engine's state between messages (the evidence so far and the question
-- waiting for an answer) and its messages, the patient's and the assistant's replies.
-- And a minimal provider directory: a clinician's specialty, which the assistant's replies
-- are matched against.

CREATE TABLE assistant_conversations (
    id            uuid PRIMARY KEY,
    patient_id    uuid NOT NULL REFERENCES patients (user_id) ON DELETE CASCADE,
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now(),
    -- conversation::State as JSON; a message locks the row (FOR UPDATE) while its turn runs,
    -- so concurrent messages to one conversation take turns.
    state         jsonb NOT NULL,
    -- KnowledgeBase::fingerprint of the knowledge base the state's indexes refer to; a
    -- conversation held with another one cannot go on.
    knowledge     text NOT NULL,
    -- Rows in assistant_messages (the patient's and the assistant's).
    message_count integer NOT NULL DEFAULT 0 CHECK (message_count >= 0)
);
CREATE INDEX assistant_conversations_patient_idx
    ON assistant_conversations (patient_id, created_at DESC);

CREATE TABLE assistant_messages (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    conversation_id uuid NOT NULL REFERENCES assistant_conversations (id) ON DELETE CASCADE,
    at              timestamptz NOT NULL DEFAULT now(),
    role            text NOT NULL CHECK (role IN ('patient', 'assistant')),
    -- The patient's free text, or their answer to a question ('yes', 'no', 'unsure'); on the
    -- assistant's rows, the reply in words (its triage advice, then its question if any).
    content         text NOT NULL,
    -- On the patient's answers: the symptom (knowledge-base id) the question was about.
    answered        text,
    -- On the assistant's rows: conversation::Reply as JSON, and how long the turn took.
    reply           jsonb,
    response_ms     double precision,
    CONSTRAINT assistant_messages_shape CHECK (
        CASE role
            WHEN 'patient' THEN reply IS NULL AND response_ms IS NULL
            WHEN 'assistant' THEN reply IS NOT NULL AND response_ms >= 0 AND answered IS NULL
        END
    )
);
CREATE INDEX assistant_messages_conversation_idx ON assistant_messages (conversation_id, id);

-- The provider directory: a clinician's specialty as the assistant names them
-- ('cardiology', 'general_practice', ...). Only clinicians have one.
ALTER TABLE users
    ADD COLUMN specialty text,
    ADD CONSTRAINT users_specialty_shape CHECK (specialty ~ '^[a-z_]{2,40}$'),
    ADD CONSTRAINT users_specialty_clinicians_only CHECK (specialty IS NULL OR role = 'clinician');
CREATE INDEX users_specialty_idx ON users (specialty) WHERE specialty IS NOT NULL;
