"""Narrative: every figure it states comes from its inputs."""

from __future__ import annotations

import pandas as pd

from lgs_analysis.analyses.narrative import build_narrative


def test_build_narrative_states_revenue_shifts_and_actions():
    shifts = pd.DataFrame(
        {
            "segment": ["Champions", "Can't Lose", "Hibernating"],
            "previous_customers": [10, 5, 20],
            "customers": [12, 9, 8],
            "change": [2, 4, -12],
        }
    )
    matrix = pd.DataFrame(
        {
            "from_segment": ["Champions", "(none)"],
            "to_segment": ["Can't Lose", "Champions"],
            "customers": [3, 7],
        }
    )
    segments = pd.DataFrame(
        {
            "segment": ["Champions", "Can't Lose", "Hibernating"],
            "customers": [12, 9, 8],
            "revenue": [1000.0, 500.0, 80.0],
        }
    )
    clv = pd.DataFrame(
        {
            "segment": ["Champions", "Can't Lose", "Hibernating"],
            "predicted_clv_12m": [2000.0, 300.0, 40.0],
        }
    )
    text = build_narrative(
        period_label="2011-11",
        previous_label="2011-10",
        net_sales=1100.0,
        previous_net_sales=1000.0,
        shifts=shifts,
        migration=matrix,
        segments=segments,
        campaigns={
            "Champions": "Reward them.",
            "Can't Lose": "Win back.",
            "Hibernating": "Coupons.",
        },
        clv_by_segment=clv,
    )
    assert "£1,100" in text and "up 10.0% on £1,000 in 2011-10" in text
    assert text.index("Hibernating shrank from 20 to 8") < text.index("Can't Lose grew from 5 to 9")
    assert "3 customers went from Champions to Can't Lose" in text
    assert (
        "1. **Champions** (12 customers who spent £1,000" in text
        and "£2,000 over the next 12" in text
    )
    assert "3. **Hibernating** (8 customers who spent £80" in text and "Coupons." in text
