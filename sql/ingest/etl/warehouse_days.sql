-- grain: one row per day of the lines one ETL source loaded into the warehouse: their
-- count and amount (the self-check adds this source's quarantined rows, read in Python).
with etl_batches as (
    select batch_id
    from load_batches
    where source_kind = 'etl'
        and source_name = :source_name
),

lines as (
    select cast(invoice_date as date) as day_at, quantity, unit_price
    from retail
    where batch_id in (select batch_id from etl_batches)
),

final as (
    select
        day_at,
        count(*) as count_lines,
        cast(sum(quantity * unit_price) as double precision) as amount
    from lines
    group by day_at
)

select * from final
order by day_at
