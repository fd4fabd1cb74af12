-- Five-minute and daily rollups of readings, so that dashboards, reports and bucketed queries over
-- weeks read thousands of rows instead of millions (a month of 1 Hz heart rate is 2.6
-- million readings; its rollup is 8,640 rows). Continuous aggregates would do this, but
-- they are not in TimescaleDB's Apache edition, so ingest keeps the rollup itself: in the
-- same transaction as the readings it adds, from exactly the readings that were new.
--
-- Mergeable statistics only (count, sum, sum of squares, min, max), so that any bucket
-- width that is a multiple of five minutes is an exact merge of its slots.
CREATE TABLE readings_5m (
    patient_id uuid NOT NULL,
    metric     metric NOT NULL,
    -- The slot's start: time_bucket('5 minutes', measured_at).
    slot       timestamptz NOT NULL,
    count      bigint NOT NULL,
    sum        double precision NOT NULL,
    sum_sq     double precision NOT NULL,
    min        double precision NOT NULL,
    max        double precision NOT NULL,
    -- The second component's statistics (diastolic pressure); NULL for other metrics.
    sum2       double precision,
    min2       double precision,
    max2       double precision,
    PRIMARY KEY (patient_id, metric, slot)
);
-- Reads take a patient's slots over a window, often of every metric: this index answers
-- them from the index alone (a month is 8,640 slots per metric, scattered over the heap
-- because slots of all patients are written side by side).
CREATE INDEX readings_5m_patient_slot_idx ON readings_5m (patient_id, slot)
    INCLUDE (metric, count, sum, sum_sq, min, max, sum2, min2, max2);

-- Daily rollup of the same statistics, merged from the five-minute slots: a dashboard's
-- 30-day daily trend reads 30 rows per metric instead of 8,640.
CREATE TABLE readings_1d (
    patient_id uuid NOT NULL,
    metric     metric NOT NULL,
    -- The UTC day's start.
    slot       timestamptz NOT NULL,
    count      bigint NOT NULL,
    sum        double precision NOT NULL,
    sum_sq     double precision NOT NULL,
    min        double precision NOT NULL,
    max        double precision NOT NULL,
    sum2       double precision,
    min2       double precision,
    max2       double precision,
    PRIMARY KEY (patient_id, metric, slot)
);

-- Recomputes the slots in [from, to) from the readings: the backfill below, and seeding
-- that writes readings without ingest (the API benchmark). Both ends must fall on slot
-- boundaries, or the slots they cut would be rewritten from part of their readings.
-- Slots are computed from the epoch rather than with time_bucket so that the schema stays
-- usable on plain PostgreSQL; the two agree (time_bucket's origin is a midnight).
CREATE FUNCTION rollup_readings(from_time timestamptz, to_time timestamptz)
RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
    slots bigint;
    day_from timestamptz;
    day_to timestamptz;
BEGIN
    IF (isfinite(from_time) AND extract(epoch FROM from_time)::numeric % 300 <> 0)
       OR (isfinite(to_time) AND extract(epoch FROM to_time)::numeric % 300 <> 0) THEN
        RAISE EXCEPTION 'rollup_readings: % and % must be on five-minute boundaries',
            from_time, to_time;
    END IF;
    DELETE FROM readings_5m WHERE slot >= from_time AND slot < to_time;
    INSERT INTO readings_5m
        (patient_id, metric, slot, count, sum, sum_sq, min, max, sum2, min2, max2)
    SELECT patient_id, metric,
           to_timestamp(floor(extract(epoch FROM measured_at) / 300) * 300),
           count(*), sum(value), sum(value * value), min(value), max(value),
           sum(value2), min(value2), max(value2)
    FROM readings
    WHERE measured_at >= from_time AND measured_at < to_time
    GROUP BY 1, 2, 3;
    GET DIAGNOSTICS slots = ROW_COUNT;
    -- Every day the range touches, again from its (now complete) five-minute slots.
    day_from := CASE WHEN isfinite(from_time)
        THEN to_timestamp(floor(extract(epoch FROM from_time) / 86400) * 86400) ELSE from_time END;
    day_to := CASE WHEN isfinite(to_time)
        THEN to_timestamp(ceil(extract(epoch FROM to_time) / 86400) * 86400) ELSE to_time END;
    DELETE FROM readings_1d WHERE slot >= day_from AND slot < day_to;
    INSERT INTO readings_1d
        (patient_id, metric, slot, count, sum, sum_sq, min, max, sum2, min2, max2)
    SELECT patient_id, metric, to_timestamp(floor(extract(epoch FROM slot) / 86400) * 86400),
           sum(count), sum(sum), sum(sum_sq), min(min), max(max), sum(sum2), min(min2), max(max2)
    FROM readings_5m
    WHERE slot >= day_from AND slot < day_to
    GROUP BY 1, 2, 3;
    RETURN slots;
END
$$;

SELECT rollup_readings('-infinity', 'infinity');
