-- dialect: postgresql
-- grain: one row: whether this session took the ETL advisory lock (PostgreSQL warehouse only)
with final as (
    select pg_try_advisory_lock(:lock_key) as is_taken
)

select * from final
