-- dialect: postgresql
-- grain: one row: whether this session released the ETL advisory lock (PostgreSQL only)
with final as (
    select pg_advisory_unlock(:lock_key) as is_released
)

select * from final
