-- grain: one row per identified customer with at least one positive line
-- (quantity > 0 and unit_price > 0) in [:start, :end)
with lines as (
    select customer_id, invoice_no, invoice_date, amount
    from retail_lines
    where invoice_date >= :start
        and invoice_date < :end
        and has_customer
        and quantity > 0
        and unit_price > 0
),

final as (
    select
        customer_id,
        max(invoice_date) as last_purchase_at,
        count(distinct invoice_no) as frequency,
        cast(sum(amount) as double precision) as monetary
    from lines
    group by customer_id
)

select * from final
order by customer_id
