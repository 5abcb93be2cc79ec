-- grain: one row per quarantine reason, over every load
with final as (
    select reason, count(*) as count_rows
    from quarantine
    group by reason
)

select * from final
order by count_rows desc, reason
