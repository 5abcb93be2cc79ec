-- grain: one row per identified customer whose first purchase falls before
-- :calibration_end, in the shape BG/NBD and Gamma-Gamma expect, in days.
-- A purchase is a customer's day with positive lines (quantity > 0 and unit price > 0)
-- of invoices that are neither cancellations nor adjustments, anywhere in the warehouse
-- before :calibration_end. frequency = purchase days after the first; recency = days
-- from the first to the last purchase day; age = days from the first purchase day to
-- :calibration_end; holdout_frequency = purchase days in [:calibration_end,
-- :observation_end); holdout_net_spend = the net amount of their lines (cancellations
-- included, adjustments excluded) in that holdout; bought_by_probability_end = 1 when they
-- have a purchase day in [:calibration_end, :probability_end); window_frequency and
-- window_net_spend = the same counts in [:window_start, :calibration_end), the window of the
-- holdout's length just before the calibration end.
-- monetary_value = the customer's net spend per repeat purchase: the amount of all their
-- lines (cancellations included, adjustments excluded) dated from their second purchase
-- day up to :calibration_end, divided by frequency (0 without a repeat purchase). It is 0
-- or less when the customer cancelled what they bought again.
-- Read from the invoice parts (schema/invoice_parts.sql): amounts are their sums.
with purchase_days as (
    select
        customer_id,
        cast(date_trunc('day', invoice_date) as date) as purchase_day
    from retail_invoices
    where has_customer
        and count_purchase_lines > 0
        and not is_cancellation
        and not is_adjustment
        and invoice_date < :observation_end
    group by customer_id, cast(date_trunc('day', invoice_date) as date)
),

calibration_days as (
    select
        customer_id,
        purchase_day,
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
        min(case when day_number = 2 then purchase_day end) as second_day
    from calibration_days
    group by customer_id
),

repeat_spend as (
    -- every line of a repeat customer from their second purchase day on, cancellations
    -- included: what the repeat purchases were finally worth
    select
        parts.customer_id,
        cast(sum(parts.net_amount) as double precision) as repeat_net_spend
    from retail_invoices as parts
    inner join calibration on calibration.customer_id = parts.customer_id
    where parts.has_customer
        and not parts.is_adjustment
        and parts.invoice_date < :calibration_end
        and calibration.second_day is not null
        and cast(date_trunc('day', parts.invoice_date) as date) >= calibration.second_day
    group by parts.customer_id
),

holdout as (
    select
        customer_id,
        count(*) as holdout_frequency,
        max(case when purchase_day < cast(:probability_end as date) then 1 else 0 end)
            as bought_by_probability_end
    from purchase_days
    where purchase_day >= cast(:calibration_end as date)
    group by customer_id
),

window_days as (
    select
        customer_id,
        count(*) as window_frequency
    from calibration_days
    where purchase_day >= cast(:window_start as date)
    group by customer_id
),

spend_by_window as (
    -- net amounts (decimal sums, cast once) in the last window and in the holdout
    select
        customer_id,
        cast(sum(case when invoice_date < :calibration_end then net_amount else 0 end)
            as double precision) as window_net_spend,
        cast(sum(case when invoice_date >= :calibration_end then net_amount else 0 end)
            as double precision) as holdout_net_spend
    from retail_invoices
    where has_customer
        and not is_adjustment
        and invoice_date >= :window_start
        and invoice_date < :observation_end
    group by customer_id
),

final as (
    select
        calibration.customer_id,
        calibration.frequency,
        date_diff('day', calibration.first_day, calibration.last_day) as recency,
        date_diff('day', calibration.first_day, cast(:calibration_end as date)) as age,
        case
            when calibration.frequency > 0
                then coalesce(repeat_spend.repeat_net_spend, 0) / calibration.frequency
            else 0
        end as monetary_value,
        coalesce(holdout.holdout_frequency, 0) as holdout_frequency,
        coalesce(spend_by_window.holdout_net_spend, 0) as holdout_net_spend,
        coalesce(holdout.bought_by_probability_end, 0) as bought_by_probability_end,
        coalesce(window_days.window_frequency, 0) as window_frequency,
        coalesce(spend_by_window.window_net_spend, 0) as window_net_spend
    from calibration
    left join repeat_spend on repeat_spend.customer_id = calibration.customer_id
    left join holdout on holdout.customer_id = calibration.customer_id
    left join window_days on window_days.customer_id = calibration.customer_id
    left join spend_by_window on spend_by_window.customer_id = calibration.customer_id
)

select * from final
order by customer_id
