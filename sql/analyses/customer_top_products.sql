-- grain: one row per (identified customer, rank) for the three products each customer
-- bought in most baskets in [:start, :end) (ties: more units, then stock code), with the
-- product's most frequent description in the window. Baskets and items as in
-- basket_products.sql.
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
        ranked.product_rank,
        ranked.stock_code,
        coalesce(descriptions.description, ranked.stock_code) as description,
        ranked.count_baskets
    from ranked
    left join descriptions
        on descriptions.stock_code = ranked.stock_code
        and descriptions.description_rank = 1
    where ranked.product_rank <= 3
)

select * from final
order by customer_id, product_rank
