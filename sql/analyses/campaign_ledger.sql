-- grain: one row per recorded campaign (tables campaigns and campaign_members): what went
-- out, when, with its response window, and how many members each group has.
with members as (
    select
        campaign_id,
        sum(case when member_group = 'target' then 1 else 0 end) as targeted,
        sum(case when member_group = 'holdout' then 1 else 0 end) as held_out
    from campaign_members
    group by campaign_id
),

final as (
    select
        campaigns.campaign_id,
        campaigns.period,
        campaigns.segment,
        campaigns.report_version,
        campaigns.issued_on,
        campaigns.window_days,
        campaigns.window_end,
        campaigns.holdout_share,
        campaigns.salt,
        campaigns.batch_id,
        coalesce(members.targeted, 0) as targeted,
        coalesce(members.held_out, 0) as held_out
    from campaigns
    left join members on members.campaign_id = campaigns.campaign_id
)

select * from final
order by issued_on, campaign_id
