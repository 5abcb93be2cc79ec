-- grain: one row of data-quality counts over [:start, :end)
with lines as (
    select * from retail_lines
    where invoice_date >= :start
        and invoice_date < :end
),

final as (
    select
        count(*) as count_lines,
        count(distinct invoice_no) as count_invoices,
        sum(case when is_cancellation then 1 else 0 end) as count_cancellation_lines,
        count(distinct case when is_cancellation then invoice_no end) as count_cancelled_invoices,
        sum(case when is_adjustment then 1 else 0 end) as count_adjustment_lines,
        sum(case when not has_customer then 1 else 0 end) as count_lines_without_customer,
        sum(case when not is_product then 1 else 0 end) as count_non_product_lines,
        sum(case when quantity <= 0 and not is_cancellation then 1 else 0 end)
            as count_non_positive_quantity_lines,
        sum(case when unit_price = 0 then 1 else 0 end) as count_zero_price_lines,
        count(distinct customer_id) as count_customers,
        count(distinct country) as count_countries
    from lines
)

select * from final
