-- Records one ETL run.
insert into etl_runs (
    run_id, source_name, status, started_at, finished_at, overlap_days, window_start,
    watermark_before, watermark_after, count_read, count_inserted, count_replaced,
    count_quarantined, source_fingerprint, message
) values (
    :run_id, :source_name, :status, :started_at, :finished_at, :overlap_days, :window_start,
    :watermark_before, :watermark_after, :count_read, :count_inserted, :count_replaced,
    :count_quarantined, :source_fingerprint, :message
)
