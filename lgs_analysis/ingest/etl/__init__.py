"""Incremental sync from the shop's OLTP PostgreSQL database (``make etl``).

``source`` reads the OLTP database, ``sync`` replaces the window in the warehouse in
one transaction, ``runs`` records what each run did. See :mod:`.sync` for the design.
"""

from .runs import STATUS_COLUMNS, EtlResult, etl_status, format_etl_status
from .source import source_key
from .sync import ensure_etl_schema, run_etl

__all__ = [
    "STATUS_COLUMNS",
    "EtlResult",
    "run_etl",
    "etl_status",
    "format_etl_status",
    "source_key",
    "ensure_etl_schema",
]
