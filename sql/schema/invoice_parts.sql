-- grain: one row per invoice part: the lines of one invoice that share its date, customer
-- and country (an invoice's lines nearly always do: the real data's 541,909 lines make
-- 25,943 parts). Flags as in retail_lines; counts and sums over the part's lines. The
-- analyses that need no product read retail_invoices (this, kept as a table on
-- PostgreSQL) instead of the lines: about 20 times fewer rows, the same figures.
create or replace view retail_invoice_parts as
with lines as (
    select * from retail_lines
),

final as (
    select
        invoice_no,
        invoice_date,
        customer_id,
        country,
        is_cancellation,
        is_adjustment,
        has_customer,
        count(*) as count_lines,
        sum(case when is_product then 0 else 1 end) as count_non_product_lines,
        sum(case when quantity <= 0 and not is_cancellation then 1 else 0 end)
            as count_non_positive_quantity_lines,
        sum(case when unit_price = 0 then 1 else 0 end) as count_zero_price_lines,
        -- a purchase line: positive quantity and price
        sum(case when quantity > 0 and unit_price > 0 then 1 else 0 end) as count_purchase_lines,
        sum(case when amount >= 0 then amount else 0 end) as gross_amount,
        sum(amount) as net_amount,
        sum(case when quantity > 0 and unit_price > 0 then amount else 0 end) as purchase_amount
    from lines
    group by
        invoice_no,
        invoice_date,
        customer_id,
        country,
        is_cancellation,
        is_adjustment,
        has_customer
)

select * from final
