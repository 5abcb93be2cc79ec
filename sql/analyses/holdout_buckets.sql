-- grain: one row per identified customer with a purchase line (quantity > 0 and
-- unit_price > 0) in [:start, :end): their holdout bucket, 0 to 9,999, under :salt.
-- The bucket is the one hash of lgs_analysis/analyses/holdout.py, written in SQL: the
-- first 8 hex digits of md5('<salt>:<customer id>') read as a number, modulo 10,000.
-- md5 gives the same lowercase hex on DuckDB, PostgreSQL and Spark; each digit is read
-- with strpos (no engine-specific hex cast), so the same text runs everywhere.
with customers as (
    select distinct customer_id
    from retail_invoices
    where invoice_date >= :start
        and invoice_date < :end
        and has_customer
        and not is_adjustment
        and count_purchase_lines > 0
),

hashed as (
    select
        customer_id,
        md5(concat(:salt, ':', cast(customer_id as varchar))) as digest
    from customers
),

digits as (
    select
        customer_id,
        strpos('0123456789abcdef', substr(digest, 1, 1)) - 1 as d1,
        strpos('0123456789abcdef', substr(digest, 2, 1)) - 1 as d2,
        strpos('0123456789abcdef', substr(digest, 3, 1)) - 1 as d3,
        strpos('0123456789abcdef', substr(digest, 4, 1)) - 1 as d4,
        strpos('0123456789abcdef', substr(digest, 5, 1)) - 1 as d5,
        strpos('0123456789abcdef', substr(digest, 6, 1)) - 1 as d6,
        strpos('0123456789abcdef', substr(digest, 7, 1)) - 1 as d7,
        strpos('0123456789abcdef', substr(digest, 8, 1)) - 1 as d8
    from hashed
),

final as (
    select
        customer_id,
        cast(
            (
                ((((((cast(d1 as bigint) * 16 + d2) * 16 + d3) * 16 + d4) * 16 + d5) * 16 + d6)
                    * 16 + d7) * 16 + d8
            ) % 10000 as integer
        ) as bucket
    from digits
)

select * from final
order by customer_id
