-- grain: one row per reason a batch quarantined rows, most rows first: how many, and the
-- first source line each reason stopped (what a failed load names).
with reasons as (
    select reason, count(*) as count_rows, min(line_no) as first_line_no
    from quarantine
    where batch_id = :batch_id
    group by reason
),

final as (
    select reason, count_rows, first_line_no
    from reasons
)

select * from final
order by count_rows desc, reason
