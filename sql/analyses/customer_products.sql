-- grain: one row per (identified customer, product) bought in a basket in [:start, :end):
-- how many of the customer's baskets (invoices that are neither cancellations nor
-- adjustments) hold a purchase line (positive quantity and price) of that stock code.
with basket_lines as (
    select customer_id, invoice_no, stock_code
    from retail_lines
    where invoice_date >= :start
        and invoice_date < :end
        and has_customer
        and is_basket_item
),

held as (
    select customer_id, stock_code, invoice_no
    from basket_lines
    group by customer_id, stock_code, invoice_no
),

final as (
    select
        customer_id,
        stock_code,
        count(*) as count_baskets
    from held
    group by customer_id, stock_code
)

select * from final
