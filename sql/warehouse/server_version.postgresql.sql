-- grain: one row: the server's version, without the build details version() adds
with final as (
    select current_setting('server_version') as server_version
)

select * from final
