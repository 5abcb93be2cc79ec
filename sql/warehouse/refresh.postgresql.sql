-- After a load or ETL run changed retail, inside its transaction: refill the derived
-- invoice table from the lines, then refresh the planner's statistics (without them
-- PostgreSQL guesses one row for retail and picks nested loops over millions of rows).
delete from retail_invoices;

insert into retail_invoices
select * from retail_invoice_parts;

analyze retail;
analyze retail_invoices;
analyze quarantine;
analyze load_batches
