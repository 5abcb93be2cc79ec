-- Campaign writes take turns on PostgreSQL: a transaction-level advisory lock, released at
-- commit or rollback, so a second `make campaign` reads the ledger after the first commits.
-- Key: the bytes of "LGSCAMP".
select pg_advisory_xact_lock(21470521166220624)
