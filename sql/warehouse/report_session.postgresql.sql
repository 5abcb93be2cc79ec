-- Settings for a report's read-only session: sorts and hashes stay in memory, no JIT
-- compilation per query (it costs more than it saves on queries of a second), and hash or
-- merge joins, never nested loops over the derived flags the planner cannot estimate.
set work_mem = '256MB';
set jit = off;
set enable_nestloop = off
