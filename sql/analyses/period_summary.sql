-- grain: one row of totals over [:start, :end)
with lines as (
    select * from retail_lines
    where invoice_date >= :start
        and invoice_date < :end
),

final as (
    select
        count(*) as count_lines,
        count(distinct invoice_no) as invoices,
        count(distinct case when is_cancellation then invoice_no end) as cancelled_invoices,
        count(distinct case when not is_cancellation then invoice_no end) as placed_orders,
        cast(coalesce(sum(case when amount >= 0 then amount else 0 end), 0) as double precision)
            as gross_sales,
        cast(coalesce(sum(amount), 0) as double precision) as net_sales,
        count(distinct customer_id) as active_customers,
        min(invoice_date) as first_at,
        max(invoice_date) as last_at
    from lines
)

select * from final
