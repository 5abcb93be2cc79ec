-- grain: one row: how many warehouse lines of one ETL source's batches the window replaces
with etl_batches as (
    select batch_id
    from load_batches
    where source_kind = 'etl'
        and source_name = :source_name
),

final as (
    select count(*) as count_lines
    from retail
    where invoice_date >= :low
        and batch_id in (select batch_id from etl_batches)
)

select * from final
