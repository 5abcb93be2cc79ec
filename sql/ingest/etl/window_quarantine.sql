-- grain: one row per quarantined line of one ETL source's batches (the ETL decides in
-- Python, from raw_row, which of them fall in the window it reads again)
with etl_batches as (
    select batch_id
    from load_batches
    where source_kind = 'etl'
        and source_name = :source_name
),

final as (
    select batch_id, line_no, reason, raw_row
    from quarantine
    where batch_id in (select batch_id from etl_batches)
)

select * from final
