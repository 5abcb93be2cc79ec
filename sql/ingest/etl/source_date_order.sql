-- dialect: postgresql
-- grain: one row: the evidence of the order of the source's slashed dates, when its
-- invoice_date is text (runs on the OLTP database). A date such as 13/11/2011 can only be
-- day-first, 11/13/2011 only month-first; 05/11/2011 could be either. The ETL reads every
-- slashed date of the source in the one order these decide, never a mix.
with slashed as (
    select
        trim(invoice_date) as written,
        cast(substring(trim(invoice_date) from '^([0-9]{1,2})/') as integer) as first_part,
        cast(substring(trim(invoice_date) from '^[0-9]{1,2}/([0-9]{1,2})/') as integer)
            as second_part
    from retail
    where trim(invoice_date) ~ '^[0-9]{1,2}/[0-9]{1,2}/[0-9]{2,4}'
),

final as (
    select
        count(*) filter (where first_part > 12 and second_part <= 12) as count_day_first,
        min(written) filter (where first_part > 12 and second_part <= 12) as day_first_example,
        count(*) filter (where second_part > 12 and first_part <= 12) as count_month_first,
        min(written) filter (where second_part > 12 and first_part <= 12)
            as month_first_example,
        min(written) filter (
            where first_part <= 12 and second_part <= 12 and first_part <> second_part
        ) as ambiguous_example
    from slashed
)

select * from final
