-- grain: one row per line of retail, with the derived amount and flags every
-- analysis uses. The rules here are the report's written definitions.
create or replace view retail_lines as
with source as (
    select * from retail
),

final as (
    select
        invoice_no,
        stock_code,
        description,
        quantity,
        invoice_date,
        unit_price,
        customer_id,
        country,
        quantity * unit_price as amount,
        invoice_no like 'C%' as is_cancellation,
        invoice_no like 'A%' as is_adjustment,
        substr(stock_code, 1, 1) between '0' and '9' as is_product,
        customer_id is not null as has_customer,
        -- a basket item: a product purchase line (positive quantity and price) on an
        -- invoice that is neither a cancellation nor an adjustment; stock corrections
        -- at a price of 0 (damaged, lost or found goods) are no purchase
        substr(stock_code, 1, 1) between '0' and '9'
            and quantity > 0
            and unit_price > 0
            and invoice_no not like 'C%'
            and invoice_no not like 'A%' as is_basket_item
    from source
)

select * from final
