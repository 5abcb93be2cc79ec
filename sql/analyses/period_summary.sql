-- grain: one row of totals over [:start, :end). Customers as in monthly_sales.sql: an
-- active customer (any line) is new (first purchase anywhere in the warehouse falls in
-- the window), returning (another line that is not a cancellation) or cancelling only.
with lines as (
    select * from retail_lines
    where invoice_date >= :start
        and invoice_date < :end
),

first_purchases as (
    select
        customer_id,
        min(invoice_date) as first_purchase_at
    from retail_lines
    where has_customer
        and not is_cancellation
    group by customer_id
),

customers as (
    select
        lines.customer_id,
        max(case when lines.is_cancellation then 0 else 1 end) as has_purchase,
        max(
            case
                when first_purchases.first_purchase_at >= :start
                    and first_purchases.first_purchase_at < :end then 1
                else 0
            end
        ) as is_new
    from lines
    left join first_purchases on first_purchases.customer_id = lines.customer_id
    where lines.has_customer
    group by lines.customer_id
),

customer_counts as (
    select
        count(*) as active_customers,
        coalesce(sum(is_new), 0) as new_customers,
        coalesce(sum(case when has_purchase = 1 and is_new = 0 then 1 else 0 end), 0)
            as returning_customers,
        coalesce(sum(case when has_purchase = 0 then 1 else 0 end), 0)
            as cancelling_only_customers
    from customers
),

totals as (
    select
        count(*) as count_lines,
        count(distinct invoice_no) as invoices,
        count(distinct case when is_cancellation then invoice_no end) as cancelled_invoices,
        count(distinct case when not is_cancellation and not is_adjustment then invoice_no end)
            as placed_orders,
        count(distinct case when is_adjustment then invoice_no end) as adjustment_invoices,
        cast(coalesce(sum(case when amount >= 0 then amount else 0 end), 0) as double precision)
            as gross_sales,
        cast(coalesce(sum(amount), 0) as double precision) as net_sales,
        min(invoice_date) as first_at,
        max(invoice_date) as last_at
    from lines
),

final as (
    select
        totals.*,
        customer_counts.active_customers,
        customer_counts.new_customers,
        customer_counts.returning_customers,
        customer_counts.cancelling_only_customers
    from totals
    cross join customer_counts
)

select * from final
