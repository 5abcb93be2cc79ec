-- grain: one row: the date range and size of the fact table
with final as (
    select
        min(invoice_date) as first_at,
        max(invoice_date) as last_at,
        count(*) as count_lines
    from retail
)

select * from final
