"""Benchmark: how honest the campaign readout's intervals are, and what a list can detect.

A/A on the real data: the 2011-09 lists (the four email segments) are recorded as issued on
1 Oct 2011, then split again under 1,000 salts (a 10% holdout each time). No campaign ran,
so the true uplift is 0: the share of salts whose 95% interval holds 0 is its coverage.
The response interval (Newcombe) must cover about 95%; the revenue interval (Welch) is
measured too, with statsmodels' own CompareMeans, salt by salt. Then the table of
detectable effects printed in the README (80% power, 5% two-sided, around a 20% response).
"""

from __future__ import annotations

import tempfile
import time
from datetime import date
from pathlib import Path

import numpy as np

from lgs_analysis.analyses import holdout, readout
from lgs_analysis.ingest.loaders import load_file
from lgs_analysis.report.ledger import record_campaigns
from lgs_analysis.warehouse import get_engine

from ..conftest import REAL_CSV

SALTS = 1000


def run() -> list[str]:
    """A/A coverage over 1,000 salts, and the detectable-effect table."""
    from statsmodels.stats.weightstats import CompareMeans

    from tests.report.test_campaigns import _salted_buckets, publish_lists

    lines = []
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        url = f"duckdb:///{root / 'warehouse.duckdb'}"
        engine = get_engine(url)
        load_file(REAL_CSV, engine, progress=False)
        publish_lists(engine, "2011-09", root / "reports")
        engine.dispose()
        record_campaigns(
            "2011-09",
            on="2011-10-01",
            version_dir=root / "reports" / "2011-09" / "v001",
            database_url=url,
        )
        engine = get_engine(url, read_only=True)
        with engine.connect() as conn:
            members = readout.fetch_campaign_outcomes(conn, date(2011, 11, 1))
            ledger = readout.fetch_campaign_ledger(conn).set_index("campaign_id")
        engine.dispose()
    members = members.join(ledger["segment"], on="campaign_id")
    started = time.perf_counter()
    buckets = _salted_buckets(members["customer_id"].to_numpy(), SALTS)
    held = (buckets < holdout.holdout_limit(0.10)).astype(np.int64)
    lines.append(
        f"buckets for {SALTS:,} salts x {len(members):,} members in "
        f"{time.perf_counter() - started:.2f} s (DuckDB md5)"
    )
    responded = members["is_responder"].to_numpy().astype(np.int64)
    revenue = members["revenue"].to_numpy()
    for segment in ("Champions", "At Risk", "Can't Lose", "Hibernating"):
        mask = (members["segment"] == segment).to_numpy()
        n2 = held[:, mask].sum(axis=1)
        c2 = held[:, mask] @ responded[mask]
        n1, c1 = mask.sum() - n2, responded[mask].sum() - c2
        low, high = readout.response_uplift_interval(c1, n1, c2, n2)
        response = np.mean((low <= 0) & (high >= 0))
        covered = measured = 0
        for row in held[:, mask].astype(bool):
            target, control = revenue[mask][~row], revenue[mask][row]
            if len(control) < 2:
                continue
            lo, hi = CompareMeans.from_data(target, control).tconfint_diff(usevar="unequal")
            measured += 1
            covered += lo <= 0 <= hi
        lines.append(
            f"{segment}: {int(mask.sum()):,} customers, {int(responded[mask].sum()):,} bought "
            f"in the window; response interval covers 0 in {response:.1%} of {SALTS:,} salts; "
            f"Welch revenue interval in {covered / measured:.1%} of {measured:,}"
        )
    table = readout.detectable_table()
    lines.append("detectable uplift in points (80% power, 5% two-sided, 20% response):")
    lines.append(
        "  list size | " + " | ".join(c.removeprefix("holdout_") for c in table.columns[1:])
    )
    for row in table.itertuples(index=False):
        lines.append(f"  {row[0]:>9,} | " + " | ".join(f"{v:.1f}" for v in row[1:]))
    return lines
