-- grain: one row per identified customer whose first purchase falls before
-- :calibration_end, in the shape BG/NBD and Gamma-Gamma expect, in days.
-- A purchase is a customer's day with positive lines (quantity > 0 and unit price > 0)
-- of invoices that are neither cancellations nor adjustments, anywhere in the warehouse
-- before :calibration_end. frequency = purchase days after the first; recency = days
-- from the first to the last purchase day; age = days from the first purchase day to
-- :calibration_end; monetary_value = mean amount of the repeat purchase days (0 without
-- any); holdout_frequency = purchase days in [:calibration_end, :observation_end).
with purchase_days as (
    select
        customer_id,
        cast(date_trunc('day', invoice_date) as date) as purchase_day,
        cast(sum(amount) as double precision) as amount
    from retail_lines
    where has_customer
        and quantity > 0
        and unit_price > 0
        and not is_cancellation
        and not is_adjustment
        and invoice_date < :observation_end
    group by customer_id, cast(date_trunc('day', invoice_date) as date)
),

calibration_days as (
    select
        customer_id,
        purchase_day,
        amount,
        row_number() over (partition by customer_id order by purchase_day) as day_number
    from purchase_days
    where purchase_day < cast(:calibration_end as date)
),

calibration as (
    select
        customer_id,
        count(*) - 1 as frequency,
        min(purchase_day) as first_day,
        max(purchase_day) as last_day,
        sum(case when day_number > 1 then amount else 0 end) as repeat_amount
    from calibration_days
    group by customer_id
),

holdout as (
    select
        customer_id,
        count(*) as holdout_frequency
    from purchase_days
    where purchase_day >= cast(:calibration_end as date)
    group by customer_id
),

final as (
    select
        calibration.customer_id,
        calibration.frequency,
        calibration.last_day - calibration.first_day as recency,
        cast(:calibration_end as date) - calibration.first_day as age,
        case
            when calibration.frequency > 0
                then calibration.repeat_amount / calibration.frequency
            else 0
        end as monetary_value,
        coalesce(holdout.holdout_frequency, 0) as holdout_frequency
    from calibration
    left join holdout on holdout.customer_id = calibration.customer_id
)

select * from final
order by customer_id
