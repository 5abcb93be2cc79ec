-- grain: one row per invoice in [:start, :end) that is neither a cancellation nor an
-- adjustment, totalled over its positive lines (quantity > 0 and unit_price > 0)
with parts as (
    select invoice_no, purchase_amount
    from retail_invoices
    where invoice_date >= :start
        and invoice_date < :end
        and not is_cancellation
        and not is_adjustment
        and count_purchase_lines > 0
),

final as (
    select
        invoice_no,
        cast(sum(purchase_amount) as double precision) as invoice_total
    from parts
    group by invoice_no
)

select * from final
