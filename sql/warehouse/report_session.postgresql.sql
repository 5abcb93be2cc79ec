-- Settings for a report's read-only session: no JIT compilation per query (it costs more
-- than it saves on queries of a second), and hash or merge joins, never nested loops over
-- the derived flags the planner cannot estimate. work_mem comes from LGS_MEMORY_LIMIT, set
-- on every session as it connects (lgs_analysis/warehouse/memory.py).
set jit = off;
set enable_nestloop = off
