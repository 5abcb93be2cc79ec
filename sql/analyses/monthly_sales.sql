-- grain: one row per calendar month in [:history_start, :end) that has lines.
-- :history_start is one month before the window, so the first month has a growth figure.
-- A customer active in a month (any line, cancellations included) is exactly one of:
-- new (their first purchase, the earliest line that is not a cancellation anywhere in the
-- warehouse, falls in the month), returning (another line that is not a cancellation in
-- the month), or cancelling only (their only lines in the month are cancellations).
-- Read from the invoice parts (schema/invoice_parts.sql): amounts are their sums.
with parts as (
    select
        date_trunc('month', invoice_date) as month_start,
        invoice_no,
        customer_id,
        gross_amount,
        net_amount,
        is_cancellation,
        is_adjustment
    from retail_invoices
    where invoice_date >= :history_start
        and invoice_date < :end
),

first_purchases as (
    select
        customer_id,
        date_trunc('month', min(invoice_date)) as first_month_start
    from retail_invoices
    where has_customer
        and not is_cancellation
    group by customer_id
),

customer_months as (
    select
        parts.month_start,
        parts.customer_id,
        max(case when parts.is_cancellation then 0 else 1 end) as has_purchase,
        max(case when first_purchases.first_month_start = parts.month_start then 1 else 0 end)
            as is_new
    from parts
    left join first_purchases on first_purchases.customer_id = parts.customer_id
    where parts.customer_id is not null
    group by parts.month_start, parts.customer_id
),

customers_by_month as (
    select
        month_start,
        count(*) as active_customers,
        sum(is_new) as new_customers,
        sum(case when has_purchase = 1 and is_new = 0 then 1 else 0 end) as returning_customers,
        sum(case when has_purchase = 0 then 1 else 0 end) as cancelling_only_customers
    from customer_months
    group by month_start
),

invoices as (
    -- one row per invoice and month (grouping first: faster than count(distinct))
    select
        month_start,
        invoice_no,
        max(case when is_cancellation then 1 else 0 end) as is_cancellation,
        max(case when is_adjustment then 1 else 0 end) as is_adjustment
    from parts
    group by month_start, invoice_no
),

invoices_by_month as (
    select
        month_start,
        count(*) as invoices,
        sum(is_cancellation) as cancelled_invoices,
        sum(case when is_cancellation = 0 and is_adjustment = 0 then 1 else 0 end)
            as placed_orders
    from invoices
    group by month_start
),

amounts_by_month as (
    select
        month_start,
        cast(sum(gross_amount) as double precision) as gross_sales,
        cast(sum(net_amount) as double precision) as net_sales
    from parts
    group by month_start
),

monthly as (
    select
        invoices_by_month.month_start,
        invoices_by_month.invoices,
        invoices_by_month.cancelled_invoices,
        invoices_by_month.placed_orders,
        amounts_by_month.gross_sales,
        amounts_by_month.net_sales
    from invoices_by_month
    inner join amounts_by_month on amounts_by_month.month_start = invoices_by_month.month_start
),

final as (
    select
        monthly.month_start,
        monthly.invoices,
        monthly.cancelled_invoices,
        monthly.placed_orders,
        monthly.gross_sales,
        monthly.net_sales,
        coalesce(customers_by_month.active_customers, 0) as active_customers,
        coalesce(customers_by_month.new_customers, 0) as new_customers,
        coalesce(customers_by_month.returning_customers, 0) as returning_customers,
        coalesce(customers_by_month.cancelling_only_customers, 0) as cancelling_only_customers
    from monthly
    left join customers_by_month on customers_by_month.month_start = monthly.month_start
)

select * from final
order by month_start
