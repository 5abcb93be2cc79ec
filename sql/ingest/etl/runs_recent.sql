-- grain: one row per ETL run, the latest :limit runs first
with final as (
    select
        run_id,
        source_name,
        status,
        started_at,
        finished_at,
        window_start,
        watermark_before,
        watermark_after,
        count_read,
        count_inserted,
        count_replaced,
        count_quarantined,
        source_fingerprint,
        message
    from etl_runs
)

select * from final
order by started_at desc, run_id desc
limit :limit
