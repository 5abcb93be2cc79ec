"""The report's opening narrative, written from the figures (never by hand).

Every sentence names the window its figures cover, and a sentence that would compare
against a baseline the warehouse does not hold says so instead of giving a figure.
"""

from __future__ import annotations

import pandas as pd

from ..escape import markdown_text as md
from .coverage import Comparison

__all__ = ["build_narrative", "campaign_paragraph", "narrative_markdown", "FOCUS"]

FOCUS = ("Champions", "Can't Lose", "Hibernating")


def _money(value: float) -> str:
    return f"£{value:,.0f}"


def _sales_sentence(
    period_label: str, window_text: str, partial_note: str, net_sales: float
) -> str:
    partial = f"; a partial period, {partial_note}" if partial_note else ""
    # the figure comes early in the line: WeasyPrint breaks a line badly when it has to
    # wrap just before a bold figure (the first word stood alone on its line)
    return (
        f"Net sales in {period_label} were **{_money(net_sales)}** ({window_text}{partial}), "
        "cancellations deducted."
    )


def _comparison_sentence(comparison: Comparison, base_net: float | None, now: float) -> str:
    against = "in the previous period" if comparison.kind == "previous" else "a year before"
    if not comparison.comparable or base_net is None:
        return f"There is no comparable baseline {against}: {comparison.reason}."
    if not base_net:
        return f"There is no baseline {against}: {comparison.describe_base()} had no sales."
    pct = (now - base_net) / abs(base_net) * 100
    word = "up" if pct >= 0 else "down"
    lead = "That is" if comparison.kind == "previous" else "Year on year, that is"
    return f"{lead} {word} {abs(pct):.1f}% on {_money(base_net)} in {comparison.describe_base()}."


def _movement_sentences(
    rfm_window_text: str,
    previous_rfm_window_text: str,
    shifts: pd.DataFrame,
    migration: pd.DataFrame,
    movers: pd.DataFrame | None,
    top_shifts: int,
) -> list[str]:
    out = []
    movement = shifts[shifts["change"] != 0].copy()
    if not movement.empty:
        movement["size"] = movement["change"].abs()
        biggest = movement.sort_values(["size", "segment"], ascending=[False, True]).head(
            top_shifts
        )
        parts = [
            f"{md(row.segment)} {'grew' if row.change > 0 else 'shrank'} from "
            f"{row.previous_customers:,} to {row.customers:,} customers"
            for row in biggest.itertuples()
        ]
        out.append(
            f"Scored over {previous_rfm_window_text} and again over {rfm_window_text}, the "
            "biggest segment shifts: " + "; ".join(parts) + "."
        )
    flows = migration[
        (migration["from_segment"] != migration["to_segment"])
        & (migration["from_segment"] != "(none)")
        & (migration["to_segment"] != "(none)")
    ]
    if not flows.empty:
        top = flows.sort_values(["customers", "from_segment"], ascending=[False, True]).iloc[0]
        out.append(
            f"The largest move between segments: {int(top['customers']):,} customers went from "
            f"{md(top['from_segment'])} to {md(top['to_segment'])}."
        )
    if movers is not None and not movers.empty:
        out.append(
            f"{len(movers):,} Champions and Loyal Customers slid into At Risk, Can't Lose or "
            f"Hibernating: they spent {_money(float(movers['previous_monetary'].sum()))} in "
            f"{previous_rfm_window_text} and "
            f"{_money(float(movers['current_monetary'].sum()))} in {rfm_window_text}."
        )
    return out


def campaign_paragraph(readout: pd.DataFrame | None, in_progress: int = 0) -> str:
    """The narrative's paragraph on campaigns ('' when there is none): a sentence per
    campaign issued last among those measured, naming its window."""
    from .readout import readout_sentence

    sentences = []
    if readout is not None and not readout.empty:
        latest = readout[readout["issued_on"] == readout["issued_on"].max()]
        sentences += [readout_sentence(row, escape=md) for row in latest.to_dict("records")]
        if len(readout) > len(latest):
            sentences.append(
                f"The report's section on campaigns reads out all {len(readout):,} measured "
                "campaigns, pooled per segment."
            )
    if in_progress:
        sentences.append(
            f"{in_progress:,} campaigns are still in their response window: no figures yet."
        )
    return " ".join(sentences)


def build_narrative(
    *,
    period_label: str,
    window_text: str,
    partial_note: str,
    net_sales: float,
    comparisons: list[tuple[Comparison, float | None]],
    rfm_window_text: str,
    previous_rfm_window_text: str,
    movement_comparable: bool,
    movement_reason: str,
    shifts: pd.DataFrame,
    migration: pd.DataFrame,
    segments: pd.DataFrame,
    campaigns: dict[str, str],
    movers: pd.DataFrame | None = None,
    clv_by_segment: pd.DataFrame | None = None,
    refunded: pd.DataFrame | None = None,
    monetary_rule: str = "net",
    top_shifts: int = 3,
    campaign_readout: pd.DataFrame | None = None,
    campaigns_in_progress: int = 0,
    clv_caveat: str | None = None,
) -> list[str]:
    """The summary as Markdown paragraphs: sales and their change, shifts, actions.

    Parameters
    ----------
    window_text : str
        The days the period's figures cover (``1 Nov 2011 to 30 Nov 2011``).
    partial_note : str
        '' for a complete period; otherwise which side the data misses (``data through
        9 Dec 2011``, ``data from 1 Dec 2010``: see ``DataSpan.partial_note``).
    comparisons : list of (Comparison, float or None)
        Each baseline comparison with the baseline's net sales (None: not comparable).
    rfm_window_text, previous_rfm_window_text : str
        The RFM windows of this period and of the previous one (``the 12 months to ...``).
    movement_comparable : bool
        Whether segment movement has a comparable baseline; ``movement_reason`` says why
        not.
    shifts, migration, movers : DataFrame
        As from :mod:`lgs_analysis.analyses.migration`.
    segments : DataFrame
        ``segment``, ``customers``, ``revenue`` of the current RFM window.
    campaigns : dict
        Segment -> recommended action, for the segments the summary names, in order
        (default: Champions, Can't Lose and Hibernating without an action).
    clv_by_segment : DataFrame, optional
        ``segment``, ``predicted_clv_12m`` (and its 80% interval,
        ``predicted_clv_12m_low`` and ``_high``); adds the predicted value at stake.
    refunded : DataFrame, optional
        Customers who bought in the RFM window and cancelled everything
        (``gross_spend``).
    monetary_rule : {'net', 'gross'}
        Which spend scores customers; named in the actions.
    campaign_readout : DataFrame, optional
        :func:`lgs_analysis.analyses.readout.read_out_campaigns`: the campaigns issued
        last among those measured get a sentence each (all are in the report's section).
    campaigns_in_progress : int
        Campaigns whose window is still open (named, without figures).
    clv_caveat : str, optional
        Said after the actions when predicted value did not beat the past-rate baseline
        (:func:`lgs_analysis.analyses.clv_holdout.skill_caveat`).

    Returns
    -------
    list of str
        Markdown paragraphs (a numbered list for the actions), each sentence naming
        the window of its figures.
    """
    paragraphs = [
        " ".join(
            [
                _sales_sentence(period_label, window_text, partial_note, net_sales),
                *(_comparison_sentence(c, base, net_sales) for c, base in comparisons),
            ]
        )
    ]
    if movement_comparable:
        moves = _movement_sentences(
            rfm_window_text, previous_rfm_window_text, shifts, migration, movers, top_shifts
        )
        if moves:
            paragraphs.append(" ".join(moves))
    else:
        paragraphs.append(f"Segment movement is not shown: {movement_reason}.")
    if refunded is not None and not refunded.empty:
        scored = "are not scored" if monetary_rule == "net" else "are scored on gross spend"
        paragraphs.append(
            f"{len(refunded):,} customers bought in {rfm_window_text} and then cancelled "
            f"everything ({_money(float(refunded['gross_spend'].sum()))} ordered, net spend "
            f"£0 or less): they {scored} and are listed in `tables/refunded_customers.csv`."
        )
    readout = campaign_paragraph(campaign_readout, campaigns_in_progress)
    if readout:
        paragraphs.append(readout)
    if int(segments["customers"].sum()) == 0:  # only cancellations, or no customer number
        paragraphs.append(
            f"There is no one to score: no customer has a positive {monetary_rule} spend in "
            f"{rfm_window_text}, so this report gives no segments, campaign lists or customer "
            "values, and recommends no campaign."
        )
        return paragraphs
    seg = segments.set_index("segment")
    clv = (
        clv_by_segment.set_index("segment")
        if clv_by_segment is not None and not clv_by_segment.empty
        else None
    )
    actions = ["**Recommended actions**", ""]
    for number, name in enumerate(campaigns or dict.fromkeys(FOCUS, ""), start=1):
        customers = int(seg["customers"].get(name, 0))
        revenue = float(seg["revenue"].get(name, 0.0))
        stake = (
            f"{customers:,} customers who spent {_money(revenue)} ({monetary_rule}) in "
            f"{rfm_window_text}"
        )
        if clv is not None and name in clv.index:
            row = clv.loc[name]
            stake += f", predicted to be worth {_money(float(row['predicted_clv_12m']))}"
            if "predicted_clv_12m_low" in row:
                low, high = row["predicted_clv_12m_low"], row["predicted_clv_12m_high"]
                stake += f" (80% interval {_money(float(low))} to {_money(float(high))})"
            stake += " over the next 12 months"
        action = md(campaigns.get(name, ""))
        actions.append(f"{number}. **{md(name)}** ({stake}): {action}")
    paragraphs.append("\n".join(actions))
    if clv_caveat and clv is not None:
        paragraphs.append(md(clv_caveat))
    return paragraphs


def narrative_markdown(paragraphs: list[str]) -> str:
    """The narrative under its heading, as one Markdown block."""
    return "## Summary\n\n" + "\n\n".join(paragraphs) + "\n"
