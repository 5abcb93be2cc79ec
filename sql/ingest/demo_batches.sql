-- grain: one row: the demo and the real data the warehouse holds, by load batch
-- (count_demo_batches counts every demo batch, even an empty one)
with batches as (
    select * from load_batches
),

final as (
    select
        count(case when source_kind = 'demo' then 1 end) as count_demo_batches,
        coalesce(sum(case when source_kind = 'demo' then count_loaded else 0 end), 0)
            as count_demo_lines,
        coalesce(sum(case when source_kind <> 'demo' then count_loaded else 0 end), 0)
            as count_real_lines
    from batches
)

select * from final
