-- Sets the watermark of one ETL source (insert or update).
insert into etl_watermarks (source_name, watermark_at, run_id, updated_at)
values (:source_name, :watermark_at, :run_id, :updated_at)
on conflict (source_name) do update set
    watermark_at = excluded.watermark_at,
    run_id = excluded.run_id,
    updated_at = excluded.updated_at
