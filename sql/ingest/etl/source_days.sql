-- dialect: postgresql
-- grain: one row per day of the source table retail (runs on the OLTP database, whose
-- invoice_date is a timestamp): its lines and their amount (quantity x unit_price of the
-- lines whose two values read as numbers; count_unpriced the others). The ETL's
-- self-check compares it with the warehouse's copy, day by day, in this one query.
with source as (
    select
        cast(invoice_date as date) as day_at,
        cast(quantity as text) as quantity_text,
        cast(unit_price as text) as price_text
    from retail
    where invoice_date is not null
),

priced as (
    select
        day_at,
        case
            when quantity_text ~ '^\s*[-+]?[0-9]+\s*$'
                and price_text ~ '^\s*[-+]?[0-9]+(\.[0-9]+)?\s*$'
                then cast(quantity_text as numeric) * cast(price_text as numeric)
        end as amount
    from source
),

final as (
    select
        day_at,
        count(*) as count_lines,
        count(*) - count(amount) as count_unpriced,
        cast(coalesce(sum(amount), 0) as double precision) as amount
    from priced
    group by day_at
)

select * from final
order by day_at
