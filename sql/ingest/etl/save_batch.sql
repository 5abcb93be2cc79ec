-- Registers the run's rows as one load batch of kind 'etl'.
insert into load_batches (
    batch_id, source_kind, source_name, source_fingerprint,
    count_read, count_loaded, count_quarantined, loaded_at
) values (
    :batch_id, 'etl', :source_name, :source_fingerprint,
    :count_read, :count_loaded, :count_quarantined, :loaded_at
)
