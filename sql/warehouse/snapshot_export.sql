-- dialect: postgresql
-- grain: one row: the id of this transaction's snapshot, for other sessions to read it
select pg_export_snapshot() as snapshot_id
