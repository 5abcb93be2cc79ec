-- grain: one row per member of each campaign whose response window ended by :cutoff
-- (window_end <= :cutoff): whether they responded and what they spent in the window.
-- A responder has at least one purchase line (quantity > 0 and unit_price > 0) in
-- [issued_on, window_end). revenue is their net spend in that window: the amount of all
-- their lines, cancellations included, adjustments excluded; 0 for a member without any.
-- Read from the invoice parts (schema/invoice_parts.sql).
with measured as (
    select
        campaign_id,
        cast(issued_on as timestamp) as starts_at,
        cast(window_end as timestamp) as ends_at
    from campaigns
    where cast(window_end as timestamp) <= :cutoff
),

members as (
    select
        campaign_members.campaign_id,
        campaign_members.customer_id,
        campaign_members.member_group,
        measured.starts_at,
        measured.ends_at
    from campaign_members
    inner join measured on measured.campaign_id = campaign_members.campaign_id
),

activity as (
    select
        members.campaign_id,
        members.customer_id,
        sum(parts.count_purchase_lines) as count_purchase_lines,
        sum(parts.net_amount) as net_amount
    from members
    inner join retail_invoices as parts
        on parts.customer_id = members.customer_id
        and parts.invoice_date >= members.starts_at
        and parts.invoice_date < members.ends_at
        and not parts.is_adjustment
    group by members.campaign_id, members.customer_id
),

final as (
    select
        members.campaign_id,
        members.customer_id,
        members.member_group,
        case when coalesce(activity.count_purchase_lines, 0) > 0 then 1 else 0 end
            as is_responder,
        cast(coalesce(activity.net_amount, 0) as double precision) as revenue
    from members
    left join activity
        on activity.campaign_id = members.campaign_id
        and activity.customer_id = members.customer_id
)

select * from final
order by campaign_id, customer_id
