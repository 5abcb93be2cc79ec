-- Before a changed schema is created: drop the derived table and the view it is filled
-- from, so that both are created (and the table filled) from the new definition.
drop table if exists retail_invoices;
drop view if exists retail_invoice_parts
