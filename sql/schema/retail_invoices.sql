-- grain: one row per invoice part (see invoice_parts.sql). DuckDB and Spark aggregate the
-- lines each time they read it; PostgreSQL keeps it as a table (retail_invoices.postgresql.sql).
create or replace view retail_invoices as
select * from retail_invoice_parts
