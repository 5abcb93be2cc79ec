-- PostgreSQL reads the report's windows by date and the loads' batches by id; DuckDB
-- needs neither (it skips blocks by their min/max), hence the empty indexes.sql beside.
create index if not exists retail_invoice_date on retail (invoice_date);
create index if not exists retail_batch_id on retail (batch_id);
create index if not exists quarantine_batch_id on quarantine (batch_id)
