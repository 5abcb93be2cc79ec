-- Give an ETL source its server-side identity in place of the URL-based name an earlier
-- version keyed it by (one transaction, with the run that follows).
update etl_watermarks set source_name = :new_name where source_name = :old_name;
update etl_runs set source_name = :new_name where source_name = :old_name;
update load_batches set source_name = :new_name where source_name = :old_name;
update quarantine set source_name = :new_name where source_name = :old_name
