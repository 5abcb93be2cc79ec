-- grain: one row: how many loaded batches in the warehouse are demo data
with batches as (
    select * from load_batches
),

final as (
    select count(*) as count_demo_batches
    from batches
    where source_kind = 'demo'
        and count_loaded > 0
)

select * from final
