"""Narrative: every figure it states comes from its inputs, with the window it covers."""

from __future__ import annotations

from datetime import date

import pandas as pd

from lgs_analysis.analyses.coverage import compare_window, data_span
from lgs_analysis.analyses.narrative import build_narrative
from lgs_analysis.escape import markdown_plain
from lgs_analysis.periods import parse_period

SHIFTS = pd.DataFrame(
    {
        "segment": ["Champions", "Can't Lose", "Hibernating"],
        "previous_customers": [10, 5, 20],
        "customers": [12, 9, 8],
        "change": [2, 4, -12],
    }
)
MATRIX = pd.DataFrame(
    {
        "from_segment": ["Champions", "(none)"],
        "to_segment": ["Can't Lose", "Champions"],
        "customers": [3, 7],
    }
)
SEGMENTS = pd.DataFrame(
    {
        "segment": ["Champions", "Can't Lose", "Hibernating"],
        "customers": [12, 9, 8],
        "revenue": [1000.0, 500.0, 80.0],
    }
)
CLV = pd.DataFrame(
    {
        "segment": ["Champions", "Can't Lose", "Hibernating"],
        "predicted_clv_12m": [2000.0, 300.0, 40.0],
    }
)
MOVERS = pd.DataFrame({"previous_monetary": [300.0, 200.0], "current_monetary": [50.0, 10.0]})
CAMPAIGNS = {"Champions": "Reward them.", "Can't Lose": "Win back.", "Hibernating": "Coupons."}


def _narrative(span_end: str, period: str = "2011-11", **kwargs) -> str:
    span = data_span(date(2010, 12, 1), span_end)
    p = parse_period(period)
    comparisons = [(compare_window(p, span, "previous"), 1000.0)]
    args = {
        "period_label": period,
        "window_text": "1 Nov 2011 to 30 Nov 2011",
        "partial_note": "",
        "net_sales": 1100.0,
        "comparisons": comparisons,
        "rfm_window_text": "the 12 months to 30 Nov 2011",
        "previous_rfm_window_text": "the 12 months to 31 Oct 2011",
        "movement_comparable": True,
        "movement_reason": "",
        "shifts": SHIFTS,
        "migration": MATRIX,
        "segments": SEGMENTS,
        "campaigns": CAMPAIGNS,
        "movers": MOVERS,
        "clv_by_segment": CLV,
        **kwargs,
    }
    return markdown_plain("\n\n".join(build_narrative(**args)))


def test_build_narrative_states_revenue_shifts_and_actions_with_their_windows():
    text = _narrative("2011-12-09")
    assert "Net sales in 2011-11 were £1,100 (1 Nov 2011 to 30 Nov 2011), cancellations" in text
    assert "up 10.0% on £1,000 in 2011-10" in text
    assert text.index("Hibernating shrank from 20 to 8") < text.index("Can't Lose grew from 5 to 9")
    assert "Scored over the 12 months to 31 Oct 2011 and again over the 12 months to 30 Nov" in text
    assert "3 customers went from Champions to Can't Lose" in text
    # the movers' spend names both windows, never a single month
    assert "they spent £500 in the 12 months to 31 Oct 2011 and £60 in the 12 months to 30 Nov" in (
        text
    )
    assert (
        "1. Champions (12 customers who spent £1,000 (net) in the 12 months to 30 Nov 2011" in text
    )
    assert "£2,000 over the next 12" in text
    assert "3. Hibernating (8 customers who spent £80 (net)" in text and "Coupons." in text


def test_build_narrative_partial_period_compares_the_same_days():
    span = data_span(date(2010, 12, 1), date(2011, 12, 9))
    p = parse_period("2011-12")
    comparison = compare_window(p, span, "previous")
    text = _narrative(
        "2011-12-09",
        period="2011-12",
        window_text="1 Dec 2011 to 9 Dec 2011",
        partial_note=span.partial_note(p.start, p.end),
        comparisons=[(comparison, 1000.0)],
    )
    assert "(1 Dec 2011 to 9 Dec 2011; a partial period, data through 9 Dec 2011)" in text
    assert "in the same days of 2011-11 (1 Nov 2011 to 9 Nov 2011)" in text


def test_build_narrative_period_the_data_starts_in_says_so():
    # 2010 holds December only: the data starts inside the year, it does not stop there
    span = data_span(date(2010, 12, 1), date(2011, 12, 9))
    p = parse_period("2010")
    comparison = compare_window(p, span, "previous")
    assert span.partial_note(p.start, p.end) == "data from 1 Dec 2010"
    text = _narrative(
        "2011-12-09",
        period="2010",
        window_text="1 Dec 2010 to 31 Dec 2010",
        partial_note=span.partial_note(p.start, p.end),
        comparisons=[(comparison, None)],
    )
    assert "(1 Dec 2010 to 31 Dec 2010; a partial period, data from 1 Dec 2010)" in text
    assert "data through" not in text and "last day of data" not in text
    assert "There is no comparable baseline in the previous period: 2010 starts before" in text


def test_build_narrative_without_baseline_says_so_and_shows_no_growth():
    span = data_span(date(2010, 12, 1), date(2011, 12, 9))
    comparison = compare_window(parse_period("2011"), span, "previous")
    assert not comparison.comparable
    text = _narrative(
        "2011-12-09",
        period="2011",
        comparisons=[(comparison, None)],
        movement_comparable=False,
        movement_reason="the warehouse covers 8% of 2010 against 94% of 2011",
    )
    assert "There is no comparable baseline in the previous period" in text
    assert "%" not in text.split("Segment movement")[0].split("baseline")[0]
    assert "Segment movement is not shown: the warehouse covers 8% of 2010" in text
    assert "grew from" not in text and "slid into" not in text


def test_build_narrative_counts_refunded_customers():
    refunded = pd.DataFrame({"gross_spend": [168469.6, 77183.6], "net_spend": [0.0, -1.0]})
    text = _narrative("2011-12-09", refunded=refunded)
    assert "2 customers bought in the 12 months to 30 Nov 2011 and then cancelled everything" in (
        text
    )
    assert "(£245,653 ordered" in text and "they are not scored" in text
