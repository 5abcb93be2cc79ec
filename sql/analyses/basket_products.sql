-- grain: one row per product (stock code) bought in a basket in [:start, :end).
-- A basket is an invoice that is neither a cancellation nor an adjustment with at least
-- one product purchase line (positive quantity and price); its items are the stock codes
-- of those lines. count_baskets_total
-- (the same on every row) is the number of baskets in the window: support's denominator.
-- gross_quantity and gross_revenue sum the product's basket lines; net_quantity and
-- net_revenue add the window's cancellation lines of the same stock code (negative), so
-- an order cancelled in the window counts for nothing.
with basket_lines as (
    select invoice_no, stock_code, description, quantity, amount
    from retail_lines
    where invoice_date >= :start
        and invoice_date < :end
        and is_basket_item
),

cancellation_lines as (
    select stock_code, quantity, amount
    from retail_lines
    where invoice_date >= :start
        and invoice_date < :end
        and is_cancellation
        and is_product
),

baskets as (
    select count(*) as count_baskets_total
    from (select invoice_no from basket_lines group by invoice_no) as basket_invoices
),

product_baskets as (
    select stock_code, count(*) as count_baskets
    from (select stock_code, invoice_no from basket_lines group by stock_code, invoice_no) as held
    group by stock_code
),

descriptions as (
    -- the most frequent description of a stock code in the window (ties: alphabetical)
    select
        stock_code,
        description,
        row_number() over (
            partition by stock_code order by count(*) desc, description
        ) as description_rank
    from basket_lines
    where description is not null and description <> ''
    group by stock_code, description
),

products as (
    select
        basket_lines.stock_code,
        max(product_baskets.count_baskets) as count_baskets,
        sum(basket_lines.quantity) as gross_quantity,
        cast(sum(basket_lines.amount) as double precision) as gross_revenue
    from basket_lines
    inner join product_baskets on product_baskets.stock_code = basket_lines.stock_code
    group by basket_lines.stock_code
),

cancelled as (
    select
        stock_code,
        sum(quantity) as cancelled_quantity,
        cast(sum(amount) as double precision) as cancelled_revenue
    from cancellation_lines
    group by stock_code
),

final as (
    select
        products.stock_code,
        coalesce(descriptions.description, products.stock_code) as description,
        products.count_baskets,
        products.gross_quantity,
        products.gross_revenue,
        products.gross_quantity + coalesce(cancelled.cancelled_quantity, 0) as net_quantity,
        products.gross_revenue + coalesce(cancelled.cancelled_revenue, 0) as net_revenue,
        baskets.count_baskets_total
    from products
    cross join baskets
    left join cancelled on cancelled.stock_code = products.stock_code
    left join descriptions
        on descriptions.stock_code = products.stock_code
        and descriptions.description_rank = 1
)

select * from final
order by stock_code
