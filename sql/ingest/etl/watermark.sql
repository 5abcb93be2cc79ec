-- grain: one row (or none): the watermark of one ETL source
with final as (
    select watermark_at
    from etl_watermarks
    where source_name = :source_name
)

select * from final
