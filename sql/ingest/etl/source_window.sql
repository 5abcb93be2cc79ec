-- dialect: postgresql
-- grain: one row per line of the source table retail in the sync window (runs on the OLTP
-- database, inside COPY ... TO STDOUT). invoice_date is a timestamp here: the window is
-- exact, and undated lines are always read so that they reach the quarantine. Every
-- column leaves as text, so a bad value reaches validation instead of failing the read.
with source as (
    select *
    from retail
    where invoice_date >= :low
        or invoice_date is null
),

final as (
    select
        cast(invoice_no as text) as invoice_no,
        cast(stock_code as text) as stock_code,
        cast(description as text) as description,
        cast(quantity as text) as quantity,
        cast(invoice_date as text) as invoice_date,
        cast(unit_price as text) as unit_price,
        cast(customer_id as text) as customer_id,
        cast(country as text) as country
    from source
)

select * from final
