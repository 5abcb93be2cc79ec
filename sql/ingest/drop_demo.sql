-- Removes the demo data (every batch of kind 'demo') when real data arrives, by a file
-- load or the ETL, inside that load's transaction: reports never mix demo and real lines.
delete from retail
where batch_id in (select batch_id from load_batches where source_kind = 'demo');
delete from quarantine
where batch_id in (select batch_id from load_batches where source_kind = 'demo');
delete from load_batches
where source_kind = 'demo'
