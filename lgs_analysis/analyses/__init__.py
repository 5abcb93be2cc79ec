"""Analyses: the figures of a report, computed in the warehouse from ``sql/analyses/``.

``sales`` (period totals, months, invoices), ``rfm`` (scores and segments), ``basket``
(products bought together), ``cohorts``, ``clv``, ``migration`` (segment movement) and
``narrative`` (the sentences that sum them up); ``marketing`` runs the marketing ones
for a report. Pandas only ever sees aggregates. Imports only the shared ground.
"""
