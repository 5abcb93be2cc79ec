-- grain: one row: the warehouse engine's own version (recorded in every report's manifest)
with final as (
    select version() as server_version
)

select * from final
