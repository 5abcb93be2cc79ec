-- ETL bookkeeping, created by lgs_analysis.etl.ensure_etl_schema (beside schema.sql).
-- grain of etl_runs: one row per ETL run that reached the warehouse: 'succeeded' (written
-- in the run's own transaction, with its data) or 'failed' (written after the rollback).
-- A run killed outright leaves no row: its transaction never committed.
create table if not exists etl_runs (
    run_id integer primary key,        -- also the batch_id of the rows the run brought
    source_name varchar not null,      -- source key: postgresql://host:port/database
    status varchar not null,           -- succeeded | failed
    started_at timestamp not null,
    finished_at timestamp not null,
    overlap_days integer not null,
    window_start timestamp,            -- null: the first run read the whole source
    watermark_before timestamp,
    watermark_after timestamp,
    count_read bigint not null,
    count_inserted bigint not null,
    count_replaced bigint not null,
    count_quarantined bigint not null,
    source_fingerprint varchar,
    message varchar
);

-- grain: one row per ETL source: the latest invoice_date the warehouse has from it
create table if not exists etl_watermarks (
    source_name varchar primary key,
    watermark_at timestamp not null,
    run_id integer not null,
    updated_at timestamp not null
)
