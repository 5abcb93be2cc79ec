-- dialect: postgresql
-- grain: one row per column of the source table retail (runs on the OLTP database)
with source_columns as (
    select
        a.attname as column_name,
        format_type(a.atttypid, a.atttypmod) as data_type,
        a.attnum as position
    from pg_catalog.pg_attribute as a
    where a.attrelid = to_regclass('retail')
        and a.attnum > 0
        and not a.attisdropped
),

final as (
    select column_name, data_type, position
    from source_columns
)

select * from final
order by position
