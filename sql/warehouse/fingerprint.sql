-- grain: one row summarising the whole fact table; hashed into the data fingerprint
with invoices as (
    -- grouping first: the same count as count(distinct invoice_no), much faster on
    -- PostgreSQL
    select count(*) as count_invoices
    from (select invoice_no from retail group by invoice_no) as distinct_invoices
),

lines as (
    select
        count(*) as count_lines,
        coalesce(sum(quantity), 0) as sum_quantity,
        cast(coalesce(sum(quantity * unit_price), 0) as decimal(18, 3)) as sum_amount,
        coalesce(sum(coalesce(customer_id, 0)), 0) as sum_customer_id,
        min(invoice_date) as first_at,
        max(invoice_date) as last_at
    from retail
),

final as (
    select
        lines.count_lines,
        invoices.count_invoices,
        lines.sum_quantity,
        lines.sum_amount,
        lines.sum_customer_id,
        lines.first_at,
        lines.last_at
    from lines
    cross join invoices
)

select * from final
