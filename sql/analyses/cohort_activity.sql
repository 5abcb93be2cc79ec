-- grain: one row per (cohort month, months since the first purchase) with at least one
-- active customer. A customer's cohort is the month of their first purchase (earliest
-- line that is not a cancellation, anywhere in the warehouse); cohorts start in
-- [:cohort_start, :end). Active in a month: at least one line that is not a
-- cancellation in that month, up to :end. Read from the invoice parts
-- (schema/invoice_parts.sql).
with purchases as (
    select
        customer_id,
        date_trunc('month', invoice_date) as month_start
    from retail_invoices
    where has_customer
        and not is_cancellation
        and invoice_date < :end
),

first_purchases as (
    select
        customer_id,
        min(month_start) as cohort_month
    from purchases
    group by customer_id
),

cohort_members as (
    select customer_id, cohort_month
    from first_purchases
    where cohort_month >= :cohort_start
),

activity as (
    select distinct
        cohort_members.cohort_month,
        purchases.customer_id,
        (extract(year from purchases.month_start) - extract(year from cohort_members.cohort_month))
        * 12
        + extract(month from purchases.month_start)
        - extract(month from cohort_members.cohort_month) as months_since_first
    from purchases
    inner join cohort_members on cohort_members.customer_id = purchases.customer_id
),

final as (
    select
        cohort_month,
        cast(months_since_first as integer) as months_since_first,
        count(*) as active_customers
    from activity
    group by cohort_month, months_since_first
)

select * from final
order by cohort_month, months_since_first
