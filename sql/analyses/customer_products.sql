-- grain: one row per (identified customer, product) bought in a basket in [:start, :end):
-- count_baskets = how many of the customer's baskets (invoices that are neither
-- cancellations nor adjustments) hold a purchase line (positive quantity and price) of
-- that stock code, quantity = the units of those lines. product_rank = the product's place
-- among the customer's (most baskets first; ties: more units, then stock code); the top
-- three carry the stock code's most frequent description in the window (else null).
with basket_lines as (
    select customer_id, invoice_no, stock_code, description, quantity
    from retail_lines
    where invoice_date >= :start
        and invoice_date < :end
        and has_customer
        and is_basket_item
),

descriptions as (
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

held as (
    select customer_id, stock_code, invoice_no, sum(quantity) as quantity
    from basket_lines
    group by customer_id, stock_code, invoice_no
),

customer_products as (
    select
        customer_id,
        stock_code,
        count(*) as count_baskets,
        sum(quantity) as quantity
    from held
    group by customer_id, stock_code
),

ranked as (
    select
        customer_id,
        stock_code,
        count_baskets,
        quantity,
        row_number() over (
            partition by customer_id order by count_baskets desc, quantity desc, stock_code
        ) as product_rank
    from customer_products
),

final as (
    select
        ranked.customer_id,
        ranked.stock_code,
        ranked.count_baskets,
        ranked.quantity,
        ranked.product_rank,
        case
            when ranked.product_rank <= 3
                then coalesce(descriptions.description, ranked.stock_code)
        end as description
    from ranked
    left join descriptions
        on descriptions.stock_code = ranked.stock_code
        and descriptions.description_rank = 1
        and ranked.product_rank <= 3
)

select * from final
