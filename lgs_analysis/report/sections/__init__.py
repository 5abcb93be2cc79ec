"""What a template shows, one ``show_*`` function per section (display only).

Templates call ``sections.show_<name>(data, ...)``; every figure was computed by
:mod:`lgs_analysis.report.data` before.
"""

from .campaigns import show_campaign_readout
from .marketing import (
    show_cohorts,
    show_customer_value,
    show_narrative,
    show_products,
    show_segment_movement,
)
from .overview import (
    show_actions,
    show_definitions,
    show_focus_segments,
    show_headline,
    show_invoice_distribution,
    show_monthly,
    show_segments,
    show_title,
)

__all__ = [
    "show_actions",
    "show_campaign_readout",
    "show_cohorts",
    "show_customer_value",
    "show_definitions",
    "show_focus_segments",
    "show_headline",
    "show_invoice_distribution",
    "show_monthly",
    "show_narrative",
    "show_products",
    "show_segment_movement",
    "show_segments",
    "show_title",
]
