-- grain: one row: the batches a real source (a file or the ETL, not the demo) loaded,
-- including those that loaded no line; a warehouse that has them is never given demo data.
with real_batches as (
    select batch_id
    from load_batches
    where source_kind <> 'demo'
),

final as (
    select count(*) as count_batches
    from real_batches
)

select * from final
