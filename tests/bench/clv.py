"""Benchmark: what the CLV skill checks and intervals cost, and whether the intervals cover.

1. On the real data's 2011 report: the Customer value section as it is (fit, 80%
   intervals, P(alive) rule, holdout scored against the baselines, calibration chart)
   against what it did before (fit, predict, one holdout total); the difference is what
   this work adds (budget: 1 s).
2. Coverage: 200 customer bases of 3,000 customers drawn from known BG/NBD and
   Gamma-Gamma parameters; the 80% interval of the expected total 12-month value, fitted on
   each base, should cover the true expected total (under the known parameters) in 75% to
   85% of them.
"""

from __future__ import annotations

import io
import os
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

import numpy as np

from lgs_analysis.analyses import clv, clv_intervals, marketing, rfm
from lgs_analysis.periods import parse_period
from lgs_analysis.report import charts
from lgs_analysis.report.params import load_params
from lgs_analysis.warehouse import get_engine

from ..analyses.clv_simulation import BGNBD, GAMMA_GAMMA, simulate_base
from ..conftest import REAL_CSV

BASES = int(os.environ.get("LGS_BENCH_CLV_BASES", "200"))
CUSTOMERS = 3_000


def _before(conn, snapshot: date, params: dict) -> None:
    """The section's work before this change: fit, predict, one holdout total."""
    summary = clv.fetch_clv_summary(conn, snapshot)
    fit = clv.fit_clv(summary)
    clv.predict_clv(summary, fit, horizon_months=int(params["clv_horizon_months"]))
    calibration_end = snapshot - timedelta(days=91)
    cal = clv.fetch_clv_summary(conn, calibration_end, snapshot)
    cal_fit = clv.fit_clv(cal)
    clv.expected_purchases(cal_fit, 91, cal["frequency"], cal["recency"], cal["age"])


def _now(conn, snapshot: date, params: dict, scored) -> dict:
    out = marketing._customer_value(conn, snapshot, params, scored)
    evaluation = out["clv_holdout"]
    fig = charts.plot_clv_calibration(evaluation.calibration, evaluation.check["holdout_days"])
    fig.savefig(io.BytesIO(), format="png", dpi=100)
    return out


def _steps(conn, snapshot: date, params: dict, scored) -> dict[str, float]:
    """Best time of each step this work added, on summaries already fetched and fitted."""
    from lgs_analysis.analyses import clv_holdout

    summary = clv.fetch_clv_summary(conn, snapshot)
    fit = clv.fit_clv(summary)
    predicted = clv.predict_clv(summary, fit, scored)
    end, days = clv_holdout._holdout_dates(snapshot, int(params["clv_holdout_months"]))
    cal = clv.fetch_clv_summary(
        conn, end, snapshot, end - timedelta(days=days), end + timedelta(days=90)
    )
    cal_fit = clv.fit_clv(cal)
    steps = {
        "P(alive) rule": lambda: clv.identify_dropout(summary, fit),
        "p_purchase_90d": lambda: clv.probability_purchase(
            fit, 90, summary["frequency"], summary["recency"], summary["age"]
        ),
        "parameter draws": lambda: clv_intervals.draw_parameters(summary, fit),
        "values under the draws": lambda: clv_intervals.add_intervals(
            predicted,
            clv_intervals.draw_values(
                summary, predicted, clv_intervals.draw_parameters(summary, fit, draws=100), 12
            ),
        ),
        "holdout scores": lambda: clv_holdout.score_methods(
            clv_holdout.predict_methods(cal, cal_fit, days), days
        ),
        "calibration chart": lambda: charts.plot_clv_calibration(
            clv_holdout.decile_table(
                cal["customer_id"], cal["frequency"], cal["holdout_net_spend"], ("a", "b")
            ).rename(columns={"a": "mean_predicted_spend", "b": "mean_actual_spend"}),
            days,
        ).savefig(io.BytesIO(), format="png", dpi=100),
    }
    best = {}
    for name, step in steps.items():
        best[name] = float("inf")
        for _ in range(3):
            started = time.perf_counter()
            step()
            best[name] = min(best[name], time.perf_counter() - started)
    best["values under the draws"] -= best["parameter draws"]
    return best


def time_section(url: str, label: str = "2011", runs: int = 3) -> list[str]:
    period = parse_period(label)
    params = load_params(label)
    with get_engine(url).connect() as conn:
        basis, snapshot = rfm.fetch_rfm_basis(
            conn, period.lookback_start(int(params["rfm_lookback_months"])), period.end
        )
        scored = rfm.score_rfm(basis)
        _now(conn, snapshot, params, scored)  # warm: imports, caches
        before, now, out = float("inf"), float("inf"), {}
        for _ in range(runs):
            started = time.perf_counter()
            _before(conn, snapshot, params)
            before = min(before, time.perf_counter() - started)
            started = time.perf_counter()
            out = _now(conn, snapshot, params, scored)
            now = min(now, time.perf_counter() - started)
        steps = _steps(conn, snapshot, params, scored)
    scores = out["clv_holdout"].scores.set_index("method")
    low, high = out["clv_total_interval"]
    total = out["clv"]["predicted_clv_12m"].sum()
    lines = [
        f"Customer value section, real data, {label}: {now:.2f}s now, {before:.2f}s before: "
        f"adds {now - before:.2f}s (budget 1 s)",
        f"  added steps, best of 3: {sum(steps.values()):.2f}s = "
        + ", ".join(f"{name} {seconds:.2f}s" for name, seconds in steps.items()),
        f"  total £{total:,.0f}, 80% interval £{low:,.0f} to £{high:,.0f}; effective draws "
        f"{out['clv_draws'].effective}; dropout {out['clv_dropout']}",
    ]
    for method, row in scores.iterrows():
        lines.append(
            f"  {method}: MAE purchases {row.mae_purchases:.3f}, MAE spend £{row.mae_spend:,.0f}, "
            f"RMSE spend £{row.rmse_spend:,.0f}, Spearman {row.spearman_spend:.3f}, top decile "
            f"{row.top_decile_capture:.1%}, totals {row.total_ratio_purchases:.2f}/"
            f"{row.total_ratio_spend:.2f}, Brier 90d {row.brier_90d:.4f}"
        )
    return lines


def coverage(bases: int = BASES, customers: int = CUSTOMERS, seed: int = 2011) -> dict:
    """Share of simulated bases whose fitted 80% interval covers the true expected total."""
    rng = np.random.default_rng(seed)
    truth = clv.ClvFit(np.array(BGNBD), np.array(GAMMA_GAMMA), customers, 0)
    covered, widths = 0, []
    for _ in range(bases):
        base = simulate_base(customers, rng)
        fit = clv.fit_clv(base)
        predicted = clv.predict_clv(base, fit)
        true_total = float(clv.predict_clv(base, truth)["predicted_clv_12m"].sum())
        draws = clv_intervals.draw_parameters(base, fit)
        values = clv_intervals.draw_values(base, predicted, draws, 12)
        low, high = clv_intervals.total_interval(values)
        covered += low <= true_total <= high
        widths.append((high - low) / true_total)
    return {"bases": bases, "covered": covered, "mean_width": float(np.mean(widths))}


def run() -> list[str]:
    lines = []
    if REAL_CSV.exists():
        from lgs_analysis.ingest.loaders import load_file

        with tempfile.TemporaryDirectory() as tmp:
            url = f"duckdb:///{Path(tmp) / 'w.duckdb'}"
            load_file(REAL_CSV, get_engine(url), progress=False)
            lines += time_section(url)
    else:
        lines.append(f"real data: skipped, {REAL_CSV} not found")
    started = time.perf_counter()
    result = coverage()
    share = result["covered"] / result["bases"]
    lines.append(
        f"coverage: the 80% interval covers the true expected total in {result['covered']} of "
        f"{result['bases']} bases of {CUSTOMERS:,} customers ({share:.1%}; target 75-85%), "
        f"mean width {result['mean_width']:.1%} of the total "
        f"({time.perf_counter() - started:.0f}s)"
    )
    return lines


if __name__ == "__main__":
    print("\n".join(run()))
