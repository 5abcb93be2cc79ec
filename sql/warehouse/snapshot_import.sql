-- dialect: postgresql
-- The first statement of a REPEATABLE READ transaction: read the exported snapshot
set transaction snapshot :snapshot_id
