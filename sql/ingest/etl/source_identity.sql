-- grain: one row: who the source server says it is (runs on the OLTP database). The
-- system identifier is fixed when a cluster is created, so the same database reached as
-- 127.0.0.1, localhost or a DNS alias is one source, whatever the URL says.
with final as (
    select
        (select cast(system_identifier as text) from pg_control_system()) as system_id,
        current_database() as database_name,
        (
            select n.nspname
            from pg_catalog.pg_class as c
            inner join pg_catalog.pg_namespace as n on n.oid = c.relnamespace
            where c.oid = to_regclass('retail')
        ) as schema_name
)

select * from final
