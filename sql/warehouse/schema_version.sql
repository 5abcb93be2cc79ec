-- grain: at most one row: the schema hash recorded by the last ensure_schema
select schema_hash from lgs_schema
