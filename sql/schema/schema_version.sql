-- grain: one row: the hash of the schema files that last ran (see warehouse.ensure_schema),
-- so that a read-only report can tell a current schema without writing
create table if not exists lgs_schema (
    schema_hash varchar not null,
    updated_at timestamp not null
);

delete from lgs_schema;

insert into lgs_schema (schema_hash, updated_at) values (:schema_hash, current_timestamp)
