-- DuckDB warehouse only: temporary tables that hold one run's window until its final
-- transaction (they vanish with the connection, so a killed run leaves nothing behind).
-- grain: as retail and quarantine.
set memory_limit = :memory_limit;
set enable_progress_bar = false;
create or replace temp table etl_stage_retail as select * from retail limit 0;
create or replace temp table etl_stage_quarantine as select * from quarantine limit 0
