-- Campaign writes take turns on PostgreSQL: a transaction-level advisory lock, released at
-- commit or rollback, so a second `make campaign` reads the ledger after the first commits.
select pg_advisory_xact_lock(:lock_key)
