-- grain: one row per load batch matching every given filter (a null filter matches all):
-- :kind (source_kind), :source_name, :fingerprint (source_fingerprint)
with final as (
    select batch_id
    from load_batches
    where (source_kind = :kind or :kind is null)
        and (source_name = :source_name or :source_name is null)
        and (source_fingerprint = :fingerprint or :fingerprint is null)
)

select * from final
order by batch_id
