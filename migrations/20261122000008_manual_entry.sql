-- Readings a patient or their clinician enters by hand are stored like any device's, from
-- a per-patient device of this kind (made at the first manual entry, never given a usable
-- key), so that every reading keeps its (device, metric, time) identity.
ALTER TYPE device_kind ADD VALUE 'manual';
