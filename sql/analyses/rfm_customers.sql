-- grain: one row per identified customer with at least one purchase line (quantity > 0
-- and unit_price > 0) in [:start, :end). A purchase line is never a cancellation (those
-- have negative quantities) and never an adjustment (those have no customer).
-- gross_spend: the amount of the customer's purchase lines in the window.
-- net_spend: the amount of all the customer's lines in the window, cancellation lines
-- included and adjustments excluded: what the customer really spent.
-- Read from the invoice parts (schema/invoice_parts.sql): amounts are their sums.
with window_parts as (
    select customer_id, invoice_no, invoice_date, count_purchase_lines, purchase_amount, net_amount
    from retail_invoices
    where invoice_date >= :start
        and invoice_date < :end
        and has_customer
        and not is_adjustment
),

purchase_invoices as (
    -- one row per customer and invoice with a purchase line
    select
        customer_id,
        invoice_no,
        max(invoice_date) as last_at,
        sum(purchase_amount) as amount
    from window_parts
    where count_purchase_lines > 0
    group by customer_id, invoice_no
),

purchases as (
    select
        customer_id,
        max(last_at) as last_purchase_at,
        count(*) as frequency,
        cast(sum(amount) as double precision) as gross_spend
    from purchase_invoices
    group by customer_id
),

net as (
    select
        customer_id,
        cast(sum(net_amount) as double precision) as net_spend
    from window_parts
    group by customer_id
),

final as (
    select
        purchases.customer_id,
        purchases.last_purchase_at,
        purchases.frequency,
        purchases.gross_spend,
        net.net_spend
    from purchases
    inner join net on net.customer_id = purchases.customer_id
)

select * from final
order by customer_id
