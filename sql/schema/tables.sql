-- Warehouse schema. Grain of retail: one row per line of a source invoice, exact
-- duplicates included (they are the source's data). batch_id ties each row to the
-- load (file, demo or ETL run) that brought it, which makes reloads idempotent.
create sequence if not exists lgs_batch_seq start 1;

create table if not exists retail (
    invoice_no varchar not null,
    stock_code varchar not null,
    description varchar,
    quantity integer not null,
    invoice_date timestamp not null,
    unit_price decimal(12, 3) not null,
    customer_id integer,
    country varchar,
    batch_id integer not null
);

-- grain: one row per load of a source into retail
create table if not exists load_batches (
    batch_id integer primary key,
    source_kind varchar not null,      -- file | demo | etl
    source_name varchar not null,      -- file path, 'demo', or the ETL source
    source_fingerprint varchar not null,
    count_read bigint not null,
    count_loaded bigint not null,
    count_quarantined bigint not null,
    loaded_at timestamp not null
);

-- grain: one row per source row that could not be loaded, with the reason
create table if not exists quarantine (
    batch_id integer not null,
    source_name varchar not null,
    line_no bigint,
    reason varchar not null,
    raw_row varchar,
    quarantined_at timestamp not null
);

-- grain: one row per campaign that went out: one segment's list of one published report
-- version, issued on a day (lgs_analysis/report/ledger.py). campaign_id is
-- '<period>/<segment>'. window_end = issued_on + window_days: a member responds when they
-- buy in [issued_on, window_end). batch_id identifies the write (a replaced campaign's
-- rows go with it; on Spark, its Parquet batch).
create table if not exists campaigns (
    campaign_id varchar not null,
    period varchar not null,
    segment varchar not null,
    report_version varchar not null,
    issued_on date not null,
    window_days integer not null,
    window_end date not null,
    holdout_share double not null,
    salt varchar not null,
    recorded_at timestamp not null,
    batch_id integer not null
);

-- grain: one row per customer of a campaign's lists: member_group is 'target' (mailed) or
-- 'holdout' (held out, never mailed), exactly as in the published version's lists
create table if not exists campaign_members (
    campaign_id varchar not null,
    customer_id integer not null,
    member_group varchar not null,
    batch_id integer not null
)
