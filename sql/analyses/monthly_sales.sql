-- grain: one row per calendar month in [:history_start, :end) that has lines.
-- :history_start is one month before the window, so the first month has a growth figure.
with lines as (
    select
        date_trunc('month', invoice_date) as month_start,
        invoice_no,
        customer_id,
        amount,
        is_cancellation
    from retail_lines
    where invoice_date >= :history_start
        and invoice_date < :end
),

first_purchases as (
    -- a customer's first purchase: their earliest line that is not a cancellation,
    -- anywhere in the warehouse
    select
        customer_id,
        date_trunc('month', min(invoice_date)) as first_month_start
    from retail_lines
    where has_customer
        and not is_cancellation
    group by customer_id
),

new_by_month as (
    select
        first_month_start as month_start,
        count(*) as new_customers
    from first_purchases
    group by first_month_start
),

monthly as (
    select
        month_start,
        count(distinct invoice_no) as invoices,
        count(distinct case when is_cancellation then invoice_no end) as cancelled_invoices,
        count(distinct case when not is_cancellation then invoice_no end) as placed_orders,
        cast(sum(case when amount >= 0 then amount else 0 end) as double precision) as gross_sales,
        cast(sum(amount) as double precision) as net_sales,
        count(distinct customer_id) as active_customers
    from lines
    group by month_start
),

final as (
    select
        monthly.month_start,
        monthly.invoices,
        monthly.cancelled_invoices,
        monthly.placed_orders,
        monthly.gross_sales,
        monthly.net_sales,
        monthly.active_customers,
        coalesce(new_by_month.new_customers, 0) as new_customers
    from monthly
    left join new_by_month on new_by_month.month_start = monthly.month_start
)

select * from final
order by month_start
