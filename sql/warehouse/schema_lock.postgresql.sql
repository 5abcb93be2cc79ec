-- Serializes ensure_schema on PostgreSQL until its transaction ends: two concurrent
-- `create or replace view` fail with "tuple concurrently updated". Key: "LGSDDL".
select pg_advisory_xact_lock(83869223371852)
