-- grain: one row of data-quality counts over [:start, :end), read from the invoice parts
-- (schema/invoice_parts.sql): each line count is the sum of the parts' counts
with parts as (
    select * from retail_invoices
    where invoice_date >= :start
        and invoice_date < :end
),

invoices as (
    -- one row per invoice (grouping first: faster than count(distinct) on PostgreSQL)
    select invoice_no, max(case when is_cancellation then 1 else 0 end) as is_cancellation
    from parts
    group by invoice_no
),

line_counts as (
    select
        cast(coalesce(sum(count_lines), 0) as bigint) as count_lines,
        cast(sum(case when is_cancellation then count_lines else 0 end) as bigint)
            as count_cancellation_lines,
        cast(sum(case when is_adjustment then count_lines else 0 end) as bigint)
            as count_adjustment_lines,
        cast(sum(case when not has_customer then count_lines else 0 end) as bigint)
            as count_lines_without_customer,
        cast(sum(count_non_product_lines) as bigint) as count_non_product_lines,
        cast(sum(count_non_positive_quantity_lines) as bigint)
            as count_non_positive_quantity_lines,
        cast(sum(count_zero_price_lines) as bigint) as count_zero_price_lines
    from parts
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
            from (select customer_id from parts where has_customer group by customer_id) as c
        ) as count_customers,
        (
            select count(*)
            from (select country from parts where country is not null group by country) as k
        ) as count_countries
    from line_counts
)

select * from final
