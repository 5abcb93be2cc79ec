-- Refresh the planner's statistics after a load changed the tables: without them
-- PostgreSQL guesses one row for retail and picks nested loops over millions of rows.
analyze retail;
analyze quarantine;
analyze load_batches
