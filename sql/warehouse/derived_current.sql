-- grain: one row: the line count and net amount of retail beside those of the invoice parts
-- kept from it (retail_invoices, a table on PostgreSQL); they differ only when retail was
-- changed outside lgs (a hand edit), and then the parts are refilled before a report
with lines as (
    select
        count(*) as count_lines,
        coalesce(sum(quantity * unit_price), 0) as net_amount
    from retail
),

parts as (
    select
        cast(coalesce(sum(count_lines), 0) as bigint) as count_lines,
        coalesce(sum(net_amount), 0) as net_amount
    from retail_invoices
),

final as (
    select
        lines.count_lines,
        parts.count_lines as count_part_lines,
        lines.net_amount = parts.net_amount as same_amount
    from lines
    cross join parts
)

select * from final
