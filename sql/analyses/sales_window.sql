-- grain: one row: gross and net sales over [:start, :end) (as in period_summary.sql),
-- for like-for-like baselines of a partial month or quarter
with parts as (
    select count_lines, gross_amount, net_amount
    from retail_invoices
    where invoice_date >= :start
        and invoice_date < :end
),

final as (
    select
        cast(coalesce(sum(count_lines), 0) as bigint) as count_lines,
        cast(coalesce(sum(gross_amount), 0) as double precision) as gross_sales,
        cast(coalesce(sum(net_amount), 0) as double precision) as net_sales
    from parts
)

select * from final
