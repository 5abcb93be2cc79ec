-- grain: one row: how many load batches of kind 'demo' the warehouse holds
with final as (
    select count(*) as count_demo_batches
    from load_batches
    where source_kind = 'demo'
)

select * from final
