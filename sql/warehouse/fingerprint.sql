-- grain: one row summarising the whole fact table; hashed into the data fingerprint
with final as (
    select
        count(*) as count_lines,
        count(distinct invoice_no) as count_invoices,
        coalesce(sum(quantity), 0) as sum_quantity,
        cast(coalesce(sum(quantity * unit_price), 0) as decimal(18, 3)) as sum_amount,
        coalesce(sum(coalesce(customer_id, 0)), 0) as sum_customer_id,
        min(invoice_date) as first_at,
        max(invoice_date) as last_at
    from retail
)

select * from final
