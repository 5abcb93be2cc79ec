-- dialect: postgresql
-- grain: one row per line of the source table retail that may be in the sync window, when
-- invoice_date is a text column (runs on the OLTP database, inside COPY ... TO STDOUT).
-- Text cannot be compared as a date safely here, so this reads a superset: ISO dates from
-- the window's first day on, and every value that is not an ISO date. The ETL then keeps
-- exactly the window by the parsed date; unreadable dates go to the quarantine.
with source as (
    select *
    from retail
    where invoice_date is null
        or trim(invoice_date) !~ '^[0-9]{4}-[0-9]{2}-[0-9]{2}'
        or left(trim(invoice_date), 10) >= left(:low, 10)
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
