"""The report's opening narrative, written from the figures (never by hand)."""

from __future__ import annotations

from typing import Any

import pandas as pd

__all__ = ["build_narrative"]

_FOCUS = ("Champions", "Can't Lose", "Hibernating")


def _money(value: float) -> str:
    return f"£{value:,.0f}"


def _change(now: float, before: float) -> str:
    if not before:
        return "with no sales to compare against"
    pct = (now - before) / abs(before) * 100
    word = "up" if pct >= 0 else "down"
    return f"{word} {abs(pct):.1f}% on {_money(before)}"


def build_narrative(
    *,
    period_label: str,
    previous_label: str,
    net_sales: float,
    previous_net_sales: float,
    shifts: pd.DataFrame,
    migration: pd.DataFrame,
    segments: pd.DataFrame,
    campaigns: dict[str, str],
    movers: pd.DataFrame | None = None,
    clv_by_segment: pd.DataFrame | None = None,
    previous_note: str = "",
    top_shifts: int = 3,
) -> str:
    """Markdown summary: revenue and its change, the biggest segment shifts, three actions.

    Parameters
    ----------
    shifts : DataFrame
        ``segment``, ``previous_customers``, ``customers``, ``change``
        (:func:`lgs_analysis.analyses.migration.summarize_shifts`).
    migration : DataFrame
        The migration matrix (``from_segment``, ``to_segment``, ``customers``).
    segments : DataFrame
        ``segment``, ``customers``, ``revenue`` of the current RFM window.
    campaigns : dict
        Segment -> recommended campaign.
    movers : DataFrame, optional
        Champions and Loyal Customers who slid (``previous_monetary``).
    clv_by_segment : DataFrame, optional
        ``segment``, ``predicted_clv_12m``; adds the predicted value at stake.
    previous_note : str
        Said after the previous period's name (e.g. that its data is partial).

    Returns
    -------
    str
        Markdown.
    """
    lines = ["## Summary", ""]
    lines.append(
        f"Net sales in {period_label} were **{_money(net_sales)}**, "
        f"{_change(net_sales, previous_net_sales)} in {previous_label}{previous_note}."
    )
    movement = shifts[shifts["change"] != 0].copy()
    if not movement.empty:
        movement["size"] = movement["change"].abs()
        biggest = movement.sort_values(["size", "segment"], ascending=[False, True]).head(
            top_shifts
        )
        parts = [
            f"{row.segment} {'grew' if row.change > 0 else 'shrank'} from "
            f"{row.previous_customers:,} to {row.customers:,} customers"
            for row in biggest.itertuples()
        ]
        lines.append("")
        lines.append("The biggest segment shifts: " + "; ".join(parts) + ".")
    flows = migration[
        (migration["from_segment"] != migration["to_segment"])
        & (migration["from_segment"] != "(none)")
        & (migration["to_segment"] != "(none)")
    ]
    if not flows.empty:
        top = flows.sort_values(["customers", "from_segment"], ascending=[False, True]).iloc[0]
        lines.append(
            f"The largest move between segments: {int(top['customers']):,} customers went from "
            f"{top['from_segment']} to {top['to_segment']}."
        )
    if movers is not None and not movers.empty:
        lines.append(
            f"{len(movers):,} Champions and Loyal Customers slid into At Risk, Can't Lose or "
            f"Hibernating; they had spent {_money(float(movers['previous_monetary'].sum()))} "
            f"in {previous_label}."
        )
    lines += ["", "**Recommended actions**", ""]
    seg = segments.set_index("segment")
    clv = (
        clv_by_segment.set_index("segment")["predicted_clv_12m"]
        if clv_by_segment is not None and not clv_by_segment.empty
        else None
    )
    for number, name in enumerate(_FOCUS, start=1):
        customers = int(seg["customers"].get(name, 0))
        revenue = float(seg["revenue"].get(name, 0.0))
        stake = f"{customers:,} customers who spent {_money(revenue)} in the RFM window"
        if clv is not None and name in clv.index:
            stake += f", predicted to be worth {_money(float(clv[name]))} over the next 12 months"
        lines.append(f"{number}. **{name}** ({stake}): {campaigns.get(name, '')}")
    return "\n".join(lines) + "\n"


def narrative_inputs(extras: dict[str, Any]) -> dict[str, Any]:
    """The keyword arguments :func:`build_narrative` takes from the marketing extras."""
    return {
        "shifts": extras["shifts"],
        "migration": extras["migration"],
        "movers": extras["movers"],
        "clv_by_segment": extras.get("clv_by_segment"),
    }
