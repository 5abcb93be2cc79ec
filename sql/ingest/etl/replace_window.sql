-- Deletes the warehouse lines of one ETL source's batches dated in the window [:low, ...),
-- inside the run's transaction, before the window is inserted again from the source.
delete from retail
where invoice_date >= :low
    and batch_id in (
        select batch_id
        from load_batches
        where source_kind = 'etl'
            and source_name = :source_name
    )
