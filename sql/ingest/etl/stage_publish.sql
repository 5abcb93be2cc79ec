-- DuckDB warehouse only: moves the staged window into the fact tables, inside the run's
-- transaction (after the window's old lines were deleted).
insert into retail select * from etl_stage_retail;
insert into quarantine select * from etl_stage_quarantine;
drop table etl_stage_retail;
drop table etl_stage_quarantine
