-- grain: one row of totals over [:start, :end). Customers as in monthly_sales.sql: an
-- active customer (any line) is new (first purchase anywhere in the warehouse falls in
-- the window), returning (another line that is not a cancellation) or cancelling only.
-- Read from the invoice parts (schema/invoice_parts.sql): line counts and amounts are
-- their sums.
with parts as (
    select * from retail_invoices
    where invoice_date >= :start
        and invoice_date < :end
),

first_purchases as (
    select
        customer_id,
        min(invoice_date) as first_purchase_at
    from retail_invoices
    where has_customer
        and not is_cancellation
    group by customer_id
),

customers as (
    select
        parts.customer_id,
        max(case when parts.is_cancellation then 0 else 1 end) as has_purchase,
        max(
            case
                when first_purchases.first_purchase_at >= :start
                    and first_purchases.first_purchase_at < :end then 1
                else 0
            end
        ) as is_new
    from parts
    left join first_purchases on first_purchases.customer_id = parts.customer_id
    where parts.has_customer
    group by parts.customer_id
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

invoices as (
    -- one row per invoice (its kind comes from its number, the same on all its parts);
    -- grouping first is much faster than count(distinct) on PostgreSQL
    select
        invoice_no,
        max(case when is_cancellation then 1 else 0 end) as is_cancellation,
        max(case when is_adjustment then 1 else 0 end) as is_adjustment
    from parts
    group by invoice_no
),

invoice_counts as (
    select
        count(*) as invoices,
        coalesce(sum(is_cancellation), 0) as cancelled_invoices,
        coalesce(sum(case when is_cancellation = 0 and is_adjustment = 0 then 1 else 0 end), 0)
            as placed_orders,
        coalesce(sum(is_adjustment), 0) as adjustment_invoices
    from invoices
),

line_totals as (
    select
        cast(coalesce(sum(count_lines), 0) as bigint) as count_lines,
        cast(coalesce(sum(gross_amount), 0) as double precision) as gross_sales,
        cast(coalesce(sum(net_amount), 0) as double precision) as net_sales,
        min(invoice_date) as first_at,
        max(invoice_date) as last_at
    from parts
),

totals as (
    select
        line_totals.count_lines,
        invoice_counts.invoices,
        invoice_counts.cancelled_invoices,
        invoice_counts.placed_orders,
        invoice_counts.adjustment_invoices,
        line_totals.gross_sales,
        line_totals.net_sales,
        line_totals.first_at,
        line_totals.last_at
    from line_totals
    cross join invoice_counts
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
