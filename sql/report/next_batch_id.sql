-- grain: one row: a new id from the warehouse's batch sequence (a campaign's rows carry it)
with final as (
    select nextval('lgs_batch_seq') as batch_id
)

select * from final
