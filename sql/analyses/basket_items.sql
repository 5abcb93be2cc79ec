-- grain: one row per (basket, item) whose item is frequent: a distinct (invoice_no,
-- stock_code) of a product purchase line (positive quantity and price), in an invoice of
-- [:start, :end) that is neither a cancellation nor an adjustment, keeping only stock
-- codes found in at least :min_support of those baskets (no itemset with a rarer item
-- can be frequent).
-- Every pair at once, for tests and small windows; reports stream basket_item_stream.sql.
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
    select stock_code
    from basket_items
    group by stock_code
    having count(*) >= :min_support * (select count_baskets_total from baskets)
),

final as (
    select basket_items.invoice_no, basket_items.stock_code
    from basket_items
    inner join frequent_items on frequent_items.stock_code = basket_items.stock_code
)

select * from final
