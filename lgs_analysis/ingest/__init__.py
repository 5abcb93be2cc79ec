"""Ingest: bring retail lines into the warehouse.

Files (``loaders``), the shop's OLTP database (``etl``) and generated demo data
(``demo``) all pass through ``validate`` (bad rows go to quarantine with a reason)
and ``batches`` (atomic, idempotent bulk loads). Imports only the shared ground.
"""
