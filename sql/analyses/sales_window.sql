-- grain: one row: gross and net sales over [:start, :end) (as in period_summary.sql),
-- for like-for-like baselines of a partial month or quarter
with lines as (
    select amount
    from retail_lines
    where invoice_date >= :start
        and invoice_date < :end
),

final as (
    select
        count(*) as count_lines,
        cast(coalesce(sum(case when amount >= 0 then amount else 0 end), 0) as double precision)
            as gross_sales,
        cast(coalesce(sum(amount), 0) as double precision) as net_sales
    from lines
)

select * from final
