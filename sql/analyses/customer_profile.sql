-- grain: one row per identified customer with a line in [:start, :end): the country of
-- most of their lines in the window (ties: alphabetical), their first purchase ever (the
-- earliest line that is not a cancellation, anywhere in the warehouse before :end) and
-- their last purchase in the window (a line with quantity > 0 and unit_price > 0).
-- Read from the invoice parts (schema/invoice_parts.sql): a part's lines share its date,
-- customer and country.
with window_parts as (
    select customer_id, country, invoice_date, count_lines, count_purchase_lines
    from retail_invoices
    where invoice_date >= :start
        and invoice_date < :end
        and has_customer
),

countries as (
    select
        customer_id,
        country,
        row_number() over (
            partition by customer_id order by sum(count_lines) desc, country
        ) as country_rank
    from window_parts
    where country is not null
    group by customer_id, country
),

first_purchases as (
    select
        customer_id,
        min(invoice_date) as first_purchase_at
    from retail_invoices
    where has_customer
        and not is_cancellation
        and invoice_date < :end
    group by customer_id
),

last_purchases as (
    select
        customer_id,
        max(invoice_date) as last_purchase_at
    from window_parts
    where count_purchase_lines > 0
    group by customer_id
),

customers as (
    select distinct customer_id
    from window_parts
),

final as (
    select
        customers.customer_id,
        countries.country,
        first_purchases.first_purchase_at,
        last_purchases.last_purchase_at
    from customers
    left join countries
        on countries.customer_id = customers.customer_id
        and countries.country_rank = 1
    left join first_purchases on first_purchases.customer_id = customers.customer_id
    left join last_purchases on last_purchases.customer_id = customers.customer_id
)

select * from final
order by customer_id
