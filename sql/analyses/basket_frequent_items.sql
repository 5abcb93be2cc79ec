-- grain: one row per frequent item of [:start, :end): a stock code found in at least
-- :min_support of the window's baskets (invoices that are neither cancellations nor
-- adjustments, with a product purchase line: positive quantity and price), numbered
-- item_number 1, 2, ... in stock-code order, as basket_item_stream.sql numbers them;
-- count_baskets_total (the same on every row) is support's denominator.
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
    select stock_code, count(*) as count_baskets
    from basket_items
    group by stock_code
    having count(*) >= :min_support * (select count_baskets_total from baskets)
),

final as (
    select
        dense_rank() over (order by frequent_items.stock_code) as item_number,
        frequent_items.stock_code,
        frequent_items.count_baskets,
        baskets.count_baskets_total
    from frequent_items
    cross join baskets
)

select * from final
order by item_number
