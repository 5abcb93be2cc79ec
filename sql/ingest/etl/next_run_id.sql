-- grain: one row: a new run id, which is also the batch_id of the rows the run brings
with final as (
    select nextval('lgs_batch_seq') as run_id
)

select * from final
