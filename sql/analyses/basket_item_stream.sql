-- grain: one row per (basket, frequent item) of [:start, :end), as numbers only: baskets
-- holding a frequent item numbered basket_number 1, 2, ... in invoice order, items
-- numbered item_number as in basket_frequent_items.sql. Sorted by basket, so a reader
-- can take the baskets in blocks of consecutive numbers without holding them all.
with basket_items as (
    select invoice_no, stock_code
    from retail_lines
    where invoice_date >= :start
        and invoice_date < :end
        and is_basket_item
    group by invoice_no, stock_code
),

baskets as (
    select count(*) as count_baskets_total
    from (select invoice_no from basket_items group by invoice_no) as invoices
),

frequent_items as (
    select
        stock_code,
        dense_rank() over (order by stock_code) as item_number
    from basket_items
    group by stock_code
    having count(*) >= :min_support * (select count_baskets_total from baskets)
),

final as (
    select
        dense_rank() over (order by basket_items.invoice_no) as basket_number,
        frequent_items.item_number
    from basket_items
    inner join frequent_items on frequent_items.stock_code = basket_items.stock_code
)

select * from final
order by basket_number, item_number
