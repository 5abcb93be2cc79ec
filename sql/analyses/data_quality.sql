-- grain: one row of data-quality counts over [:start, :end)
with lines as (
    select * from retail_lines
    where invoice_date >= :start
        and invoice_date < :end
),

invoices as (
    -- one row per invoice (grouping first: faster than count(distinct) on PostgreSQL)
    select invoice_no, max(case when is_cancellation then 1 else 0 end) as is_cancellation
    from lines
    group by invoice_no
),

line_counts as (
    select
        count(*) as count_lines,
        sum(case when is_cancellation then 1 else 0 end) as count_cancellation_lines,
        sum(case when is_adjustment then 1 else 0 end) as count_adjustment_lines,
        sum(case when not has_customer then 1 else 0 end) as count_lines_without_customer,
        sum(case when not is_product then 1 else 0 end) as count_non_product_lines,
        sum(case when quantity <= 0 and not is_cancellation then 1 else 0 end)
            as count_non_positive_quantity_lines,
        sum(case when unit_price = 0 then 1 else 0 end) as count_zero_price_lines
    from lines
),

final as (
    select
        line_counts.count_lines,
        (select count(*) from invoices) as count_invoices,
        line_counts.count_cancellation_lines,
        (select coalesce(sum(is_cancellation), 0) from invoices) as count_cancelled_invoices,
        line_counts.count_adjustment_lines,
        line_counts.count_lines_without_customer,
        line_counts.count_non_product_lines,
        line_counts.count_non_positive_quantity_lines,
        line_counts.count_zero_price_lines,
        (
            select count(*)
            from (select customer_id from lines where has_customer group by customer_id) as c
        ) as count_customers,
        (
            select count(*)
            from (select country from lines where country is not null group by country) as k
        ) as count_countries
    from line_counts
)

select * from final
