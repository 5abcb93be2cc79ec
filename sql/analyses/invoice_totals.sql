-- grain: one row per invoice in [:start, :end) that is neither a cancellation nor an
-- adjustment, totalled over its positive lines (quantity > 0 and unit_price > 0)
with lines as (
    select invoice_no, amount
    from retail_lines
    where invoice_date >= :start
        and invoice_date < :end
        and not is_cancellation
        and not is_adjustment
        and quantity > 0
        and unit_price > 0
),

final as (
    select
        invoice_no,
        cast(sum(amount) as double precision) as invoice_total
    from lines
    group by invoice_no
)

select * from final
