-- grain: one row per ETL source the warehouse has synced from
with final as (
    select source_name from etl_watermarks
    union
    select source_name from etl_runs where status = 'succeeded'
)

select source_name from final
order by source_name
