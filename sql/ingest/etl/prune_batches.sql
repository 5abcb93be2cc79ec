-- Forgets the load batches of one ETL source that no longer hold any line or quarantined
-- row (every line they brought was replaced by later runs); etl_runs keeps the history.
delete from load_batches
where source_kind = 'etl'
    and source_name = :source_name
    and batch_id not in (select distinct batch_id from retail)
    and batch_id not in (select distinct batch_id from quarantine)
