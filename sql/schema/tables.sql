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
)
