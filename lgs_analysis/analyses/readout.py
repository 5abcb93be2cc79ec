"""Did the campaigns work? Targeted against held-out customers, with honest intervals.

A campaign (a recorded list, :mod:`lgs_analysis.report.ledger`) is **measured** once its
response window ``[issued_on, issued_on + window_days)`` has ended within the report's data.
For each, the targeted and the held-out members are compared:

- **response**: a member responds with at least one purchase line in the window. The
  uplift is the difference of the two response rates, in points, with the Newcombe hybrid
  score interval (``statsmodels``' ``confint_proportions_2indep(method="newcomb")``);
- **revenue**: each member's net spend in the window (cancellations count, £0 without a
  line); the uplift per customer has Welch's interval (``CompareMeans.tconfint_diff``
  with unequal variances); **incremental revenue** is that uplift times the number
  targeted, with the interval scaled the same way;
- **detectable effect**: the smallest uplift, in points above the campaign's overall
  response rate, that a two-sided 5% test detects with 80% power at these group sizes
  (``NormalIndPower`` on Cohen's h);
- **verdict**: "worked" when the whole response interval lies above 0, "backfired" when
  below, otherwise inconclusive, naming the effect the sample could not tell.

statsmodels (and scipy under it) load only when a report reads out a campaign.
"""

from __future__ import annotations

import math
from datetime import date, datetime
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy.engine import Connection, Engine

from ..formatting import format_date, format_money, is_missing
from ..warehouse import run_query

__all__ = [
    "READOUT_COLUMNS",
    "POOLED_COLUMNS",
    "LEDGER_COLUMNS",
    "ALPHA",
    "POWER",
    "fetch_campaign_ledger",
    "fetch_campaign_outcomes",
    "empty_outcomes",
    "response_uplift_interval",
    "revenue_uplift_interval",
    "detectable_uplift_pp",
    "verdict",
    "detectable_table",
    "compare_groups",
    "read_out_campaigns",
    "pool_by_segment",
    "campaigns_in_progress",
    "format_points",
    "format_points_interval",
    "format_signed_money",
    "format_money_interval",
    "readout_sentence",
]

ALPHA = 0.05
POWER = 0.80
READOUT_COLUMNS = [
    "campaign_id",
    "period",
    "segment",
    "issued_on",
    "window_days",
    "targeted",
    "held_out",
    "targeted_responders",
    "held_out_responders",
    "response_rate_targeted",
    "response_rate_held_out",
    "uplift_pp",
    "uplift_low_pp",
    "uplift_high_pp",
    "revenue_per_targeted",
    "revenue_per_held_out",
    "revenue_uplift_per_customer",
    "revenue_uplift_low",
    "revenue_uplift_high",
    "incremental_revenue",
    "min_detectable_pp",
    "verdict",
]
_FIGURES = READOUT_COLUMNS[READOUT_COLUMNS.index("targeted") :]
POOLED_COLUMNS = ["segment", "campaigns", "periods", *_FIGURES]
LEDGER_COLUMNS = [
    "campaign_id",
    "period",
    "segment",
    "report_version",
    "issued_on",
    "window_days",
    "window_end",
    "holdout_share",
    "salt",
    "batch_id",
    "targeted",
    "held_out",
]


def _dt(day: date) -> datetime:
    return datetime(day.year, day.month, day.day)


def _days(values: pd.Series) -> pd.Series:
    return pd.to_datetime(values).dt.date


def fetch_campaign_ledger(conn: Connection | Engine) -> pd.DataFrame:
    """Every recorded campaign with its member counts (columns :data:`LEDGER_COLUMNS`),
    by issue date."""
    raw = run_query(conn, "analyses/campaign_ledger")
    if raw.empty:
        return pd.DataFrame({c: pd.Series(dtype="object") for c in LEDGER_COLUMNS})
    out = raw[LEDGER_COLUMNS].copy()
    out["issued_on"] = _days(out["issued_on"])
    out["window_end"] = _days(out["window_end"])
    for column in ("window_days", "batch_id", "targeted", "held_out"):
        out[column] = out[column].astype("int64")
    out["holdout_share"] = out["holdout_share"].astype("float64")
    return out.reset_index(drop=True)


def fetch_campaign_outcomes(conn: Connection | Engine, cutoff: date) -> pd.DataFrame:
    """One row per member of each campaign whose window ended by ``cutoff``.

    Returns
    -------
    DataFrame
        ``campaign_id``, ``customer_id``, ``member_group`` (target | holdout),
        ``is_responder`` (bool), ``revenue`` (net spend in the window, float).
    """
    raw = run_query(conn, "analyses/campaign_outcomes", cutoff=_dt(cutoff))
    return pd.DataFrame(
        {
            "campaign_id": raw["campaign_id"].astype("object"),
            "customer_id": raw["customer_id"].astype("int64"),
            "member_group": raw["member_group"].astype("object"),
            "is_responder": raw["is_responder"].astype("int64").astype(bool),
            "revenue": raw["revenue"].astype("float64"),
        }
    )


def empty_outcomes() -> pd.DataFrame:
    """The frame of :func:`fetch_campaign_outcomes` without rows."""
    return pd.DataFrame(
        {
            "campaign_id": pd.Series(dtype="object"),
            "customer_id": pd.Series(dtype="int64"),
            "member_group": pd.Series(dtype="object"),
            "is_responder": pd.Series(dtype="bool"),
            "revenue": pd.Series(dtype="float64"),
        }
    )


def response_uplift_interval(
    count1: Any, nobs1: Any, count2: Any, nobs2: Any, alpha: float = ALPHA
) -> tuple[Any, Any]:
    """Newcombe's hybrid score interval for p1 - p2 (works on arrays, element-wise)."""
    from statsmodels.stats.proportion import confint_proportions_2indep

    with np.errstate(divide="ignore", invalid="ignore"):
        return confint_proportions_2indep(
            count1, nobs1, count2, nobs2, method="newcomb", compare="diff", alpha=alpha
        )


def revenue_uplift_interval(
    targeted: np.ndarray, held_out: np.ndarray, alpha: float = ALPHA
) -> tuple[float, float]:
    """Welch's interval for mean(targeted) - mean(held_out); NaN with fewer than two per group."""
    if len(targeted) < 2 or len(held_out) < 2:
        return float("nan"), float("nan")
    from statsmodels.stats.weightstats import CompareMeans

    compare = CompareMeans.from_data(np.asarray(targeted, float), np.asarray(held_out, float))
    if compare.std_meandiff_separatevar == 0:  # both groups constant (e.g. nobody bought)
        diff = float(np.mean(targeted) - np.mean(held_out))
        return diff, diff
    low, high = compare.tconfint_diff(alpha=alpha, usevar="unequal")
    return float(low), float(high)


def detectable_uplift_pp(
    targeted: int, held_out: int, baseline: float, alpha: float = ALPHA, power: float = POWER
) -> float:
    """The smallest response uplift (points above ``baseline``) that a two-sided test at
    ``alpha`` detects with ``power``, with these group sizes (NaN when a group is empty).

    statsmodels' ``NormalIndPower`` solves for Cohen's h = 2 asin(sqrt p1) - 2 asin(sqrt p0);
    the uplift is p1 - p0 at that h (100 points when even p1 = 1 is not enough).
    """
    if targeted < 1 or held_out < 1:
        return float("nan")
    from statsmodels.stats.power import NormalIndPower

    h = NormalIndPower().solve_power(
        effect_size=None,
        nobs1=targeted,
        alpha=alpha,
        power=power,
        ratio=held_out / targeted,
        alternative="two-sided",
    )
    h = float(np.ravel(h)[0])
    base = min(max(float(baseline), 0.0), 1.0)
    angle = math.asin(math.sqrt(base)) + h / 2
    if angle >= math.pi / 2:
        return 100.0
    return (math.sin(angle) ** 2 - base) * 100


def detectable_table(
    sizes: tuple[int, ...] = (100, 300, 1_000, 3_000),
    shares: tuple[float, ...] = (0.05, 0.10, 0.20),
    baseline: float = 0.20,
) -> pd.DataFrame:
    """Detectable uplift (points) for lists of ``sizes`` customers at holdout ``shares``,
    around a ``baseline`` response rate: one row per list size, one column per share.

    The held-out group is ``round(size × share)`` customers (as the bucket rule holds out
    on average), the rest are targeted.
    """
    rows = []
    for size in sizes:
        row: dict[str, Any] = {"list_size": size}
        for share in shares:
            held = int(round(size * share))
            row[f"holdout_{share:.0%}"] = detectable_uplift_pp(size - held, held, baseline)
        rows.append(row)
    return pd.DataFrame(rows)


def verdict(low_pp: float, high_pp: float, detectable_pp: float) -> str:
    """The campaign's outcome in words; an interval that holds 0 is never a success."""
    if math.isnan(low_pp) or math.isnan(high_pp):
        return "not measurable: a group has no customers"
    if low_pp > 0:
        return "worked"
    if high_pp < 0:
        return "backfired"
    return f"inconclusive: too few customers to tell an effect under {detectable_pp:.0f} points"


def compare_groups(members: pd.DataFrame, alpha: float = ALPHA, power: float = POWER) -> dict:
    """Every figure of :data:`READOUT_COLUMNS` from ``targeted`` on, for one set of members.

    ``members`` has ``member_group``, ``is_responder`` and ``revenue`` (as from
    :func:`fetch_campaign_outcomes`). Also returns ``incremental_low`` and
    ``incremental_high``, the interval of the incremental revenue.
    """
    target = members[members["member_group"] == "target"]
    held = members[members["member_group"] == "holdout"]
    n1, n2 = len(target), len(held)
    c1, c2 = int(target["is_responder"].sum()), int(held["is_responder"].sum())
    nan = float("nan")
    rate1 = c1 / n1 if n1 else nan
    rate2 = c2 / n2 if n2 else nan
    if n1 and n2:
        low, high = (float(v) * 100 for v in response_uplift_interval(c1, n1, c2, n2, alpha))
        mde = detectable_uplift_pp(n1, n2, (c1 + c2) / (n1 + n2), alpha, power)
    else:
        low = high = mde = nan
    rev1 = float(target["revenue"].mean()) if n1 else nan
    rev2 = float(held["revenue"].mean()) if n2 else nan
    rev_low, rev_high = revenue_uplift_interval(
        target["revenue"].to_numpy(), held["revenue"].to_numpy(), alpha
    )
    uplift_revenue = rev1 - rev2
    return {
        "targeted": n1,
        "held_out": n2,
        "targeted_responders": c1,
        "held_out_responders": c2,
        "response_rate_targeted": rate1,
        "response_rate_held_out": rate2,
        "uplift_pp": (rate1 - rate2) * 100,
        "uplift_low_pp": low,
        "uplift_high_pp": high,
        "revenue_per_targeted": rev1,
        "revenue_per_held_out": rev2,
        "revenue_uplift_per_customer": uplift_revenue,
        "revenue_uplift_low": rev_low,
        "revenue_uplift_high": rev_high,
        "incremental_revenue": uplift_revenue * n1,
        "incremental_low": rev_low * n1,
        "incremental_high": rev_high * n1,
        "min_detectable_pp": mde,
        "verdict": verdict(low, high, mde),
    }


def read_out_campaigns(ledger: pd.DataFrame, outcomes: pd.DataFrame) -> pd.DataFrame:
    """One row per measured campaign (those with members in ``outcomes``), by issue date.

    Returns
    -------
    DataFrame
        Columns :data:`READOUT_COLUMNS` (``issued_on`` as ``YYYY-MM-DD``), plus
        ``window_end``, ``incremental_low`` and ``incremental_high``.
    """
    extra = ["window_end", "incremental_low", "incremental_high"]
    measured = ledger[ledger["campaign_id"].isin(set(outcomes["campaign_id"]))]
    if measured.empty:
        return pd.DataFrame({c: pd.Series(dtype="object") for c in READOUT_COLUMNS + extra})
    by_campaign = dict(tuple(outcomes.groupby("campaign_id", sort=False)))
    rows = []
    for campaign in measured.itertuples():
        rows.append(
            {
                "campaign_id": campaign.campaign_id,
                "period": campaign.period,
                "segment": campaign.segment,
                "issued_on": campaign.issued_on.isoformat(),
                "window_days": int(campaign.window_days),
                "window_end": campaign.window_end.isoformat(),
                **compare_groups(by_campaign[campaign.campaign_id]),
            }
        )
    return pd.DataFrame(rows)[READOUT_COLUMNS + extra]


def pool_by_segment(
    ledger: pd.DataFrame, outcomes: pd.DataFrame, segment_order: list[str] | None = None
) -> pd.DataFrame:
    """Per segment, every measured campaign pooled: a customer in several campaigns counts
    once per campaign. Columns :data:`POOLED_COLUMNS` (plus the incremental interval)."""
    extra = ["incremental_low", "incremental_high"]
    if outcomes.empty:
        return pd.DataFrame({c: pd.Series(dtype="object") for c in POOLED_COLUMNS + extra})
    info = ledger.set_index("campaign_id")
    joined = outcomes.join(info[["segment", "period"]], on="campaign_id")
    order = {name: i for i, name in enumerate(segment_order or [])}
    segments = sorted(joined["segment"].unique(), key=lambda s: (order.get(s, len(order)), s))
    rows = []
    for segment in segments:
        members = joined[joined["segment"] == segment]
        periods = sorted(members["period"].unique())
        rows.append(
            {
                "segment": segment,
                "campaigns": int(members["campaign_id"].nunique()),
                "periods": ", ".join(periods),
                **compare_groups(members),
            }
        )
    return pd.DataFrame(rows)[POOLED_COLUMNS + extra]


def campaigns_in_progress(ledger: pd.DataFrame, cutoff: date) -> pd.DataFrame:
    """Campaigns issued before ``cutoff`` whose window is still open at it, with the days left.

    Campaigns issued on or after ``cutoff`` (beyond the data) are not listed.
    """
    if ledger.empty:
        return ledger.assign(days_left=pd.Series(dtype="int64"))
    open_ = ledger[(ledger["issued_on"] < cutoff) & (ledger["window_end"] > cutoff)].copy()
    open_["days_left"] = [(end - cutoff).days for end in open_["window_end"]]
    return open_.reset_index(drop=True)


# ---------------------------------------------------------------- in words


def format_points(value: Any) -> str:
    """An uplift in percentage points with its sign: ``+2.3``, ``-0.4`` (``n/a``)."""
    return "n/a" if is_missing(value) else f"{float(value):+.1f}"


def format_points_interval(low: Any, high: Any) -> str:
    """``-10.2 to +12.1`` (points)."""
    if is_missing(low) or is_missing(high):
        return "n/a"
    return f"{format_points(low)} to {format_points(high)}"


def format_signed_money(value: Any) -> str:
    """Whole pounds with a sign: ``+£30``, ``-£12``, ``£0``."""
    if is_missing(value) or round(float(value)) <= 0:
        return format_money(value)
    return "+" + format_money(value)


def format_money_interval(low: Any, high: Any) -> str:
    """``-£12 to +£30``."""
    if is_missing(low) or is_missing(high):
        return "n/a"
    return f"{format_signed_money(low)} to {format_signed_money(high)}"


def _day(value: Any) -> date:
    return date.fromisoformat(value) if isinstance(value, str) else value


def readout_sentence(row: Any, escape: Any = str) -> str:
    """One measured campaign in a sentence that names its window.

    ``row`` is a record of :func:`read_out_campaigns` (a mapping or a named tuple, dates
    as ``date`` or ``YYYY-MM-DD``); ``escape`` is applied to the segment's name (e.g.
    :func:`lgs_analysis.escape.markdown_text` for Markdown).
    """
    get = row.get if hasattr(row, "get") else lambda k: getattr(row, k)
    issued = _day(get("issued_on"))
    last = issued + pd.Timedelta(days=int(get("window_days")) - 1)
    return (
        f"The {escape(get('segment'))} campaign of {get('period')} (issued {format_date(issued)}; "
        f"purchases from {format_date(issued)} to {format_date(last)}): "
        f"{float(get('response_rate_targeted')):.1%} of its {int(get('targeted')):,} targeted "
        f"customers bought against {float(get('response_rate_held_out')):.1%} of its "
        f"{int(get('held_out')):,} held out, {format_points(get('uplift_pp'))} points (95% "
        f"interval {format_points_interval(get('uplift_low_pp'), get('uplift_high_pp'))}): "
        f"{get('verdict')}."
    )
