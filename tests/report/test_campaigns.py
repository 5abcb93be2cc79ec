"""Closing the loop (issue 19): holdouts, the campaign ledger and the readout, proven.

On the real data LGS never ran these campaigns, so an honest readout finds no effect
(A/A): the 2011-09 and 2011-10 lists are recorded as issued on the first of the next month
and read out by the 2011-11 and 2011-12 reports, and over 1,000 salts the response
interval covers 0 about 95% of the time. A generated warehouse with a known effect (0.30
against 0.20) shows the interval finds it. Every readout figure is recomputed here from
the raw lines with pandas and textbook formulas (not statsmodels), the ledger is the same
on DuckDB, PostgreSQL and Spark, and a killed or doubled ``make campaign`` records once.
"""

from __future__ import annotations

import json
import math
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
from datetime import date, datetime, timedelta
from pathlib import Path
from statistics import NormalDist
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
from sqlalchemy.engine import make_url

from lgs_analysis.analyses import holdout, readout
from lgs_analysis.config import PROJECT_ROOT
from lgs_analysis.escape import write_csv
from lgs_analysis.exceptions import CampaignError
from lgs_analysis.report.ledger import campaign_status, record_campaigns
from lgs_analysis.warehouse import get_engine, run_query

pytestmark = pytest.mark.realdata

EMAIL_SEGMENTS = ["Champions", "At Risk", "Can't Lose", "Hibernating"]


def publish_lists(engine, period: str, reports: Path, overrides: dict | None = None) -> Path:
    """A version of ``period`` as the notebook leaves it: tables, metrics.json, manifest."""
    from lgs_analysis.report.data import collect_report_data, export_tables, report_metrics
    from lgs_analysis.report.params import load_params

    params = load_params(period, overrides)
    data = collect_report_data(period, params, engine)
    version = reports / period / "v001"
    export_tables(data, version)
    (version / "metrics.json").write_text(json.dumps(report_metrics(data), default=str))
    (version / "manifest.json").write_text(json.dumps({"period": period, "parameters": params}))
    return version


@pytest.fixture(scope="module")
def loop(real_duckdb_url, tmp_path_factory):
    """A copy of the real warehouse and the 2011-09 and 2011-10 lists published beside it."""
    root = tmp_path_factory.mktemp("loop")
    shutil.copy(make_url(real_duckdb_url).database, root / "warehouse.duckdb")
    url = f"duckdb:///{root / 'warehouse.duckdb'}"
    reports = root / "reports"
    engine = get_engine(url)
    versions = {p: publish_lists(engine, p, reports) for p in ("2011-09", "2011-10")}
    engine.dispose()
    return SimpleNamespace(root=root, url=url, reports=reports, versions=versions)


@pytest.fixture
def env(loop, monkeypatch):
    monkeypatch.setenv("LGS_DATABASE_URL", loop.url)
    monkeypatch.setenv("LGS_REPORTS_DIR", str(loop.reports))
    return loop


def _ledger(url: str) -> pd.DataFrame:
    engine = get_engine(url, read_only=True)
    try:
        with engine.connect() as conn:
            return readout.fetch_campaign_ledger(conn)
    finally:
        engine.dispose()


def _members(url: str) -> pd.DataFrame:
    engine = get_engine(url, read_only=True)
    try:
        with engine.connect() as conn:
            return run_query(conn, "analyses/campaign_outcomes", cutoff=datetime(2100, 1, 1))
    finally:
        engine.dispose()


# --- the lists ------------------------------------------------------------------------------


def test_lists_hold_out_the_hashed_tenth_and_never_mail_it(loop):
    version = loop.versions["2011-09"]
    customers = pd.read_csv(version / "tables" / "customers.csv")
    buckets = holdout.holdout_buckets(customers["customer_id"], "lgs-holdout-1")
    want = np.where(buckets < 1000, "holdout", "target")
    assert customers["group"].tolist() == want.tolist()
    assert 0.08 < (customers["group"] == "holdout").mean() < 0.12
    metrics = json.loads((version / "metrics.json").read_text())
    for action in metrics["actions"]:
        listed = pd.read_csv(version / action["list_file"])
        held = pd.read_csv(version / action["holdout_file"])
        assert set(listed["group"]) <= {"target"} and set(held["group"]) <= {"holdout"}
        assert (len(listed), len(held)) == (action["targeted"], action["held_out"])
    # the same customer is held out next month too, whatever their segment then
    october = pd.read_csv(loop.versions["2011-10"] / "tables" / "customers.csv")
    both = customers.merge(october, on="customer_id", suffixes=("_sep", "_oct"))
    assert (both["group_sep"] == both["group_oct"]).all()
    assert (both["segment_sep"] != both["segment_oct"]).sum() > 500


# --- the ledger: refusals, repeats, replacement ------------------------------------------------


def test_bad_campaigns_are_refused_and_change_nothing(env):
    from click.testing import CliRunner

    from lgs_analysis.cli import cli

    cases = [
        ({"period": "2011-09", "segments": ["Loyal"]}, "unknown segment 'Loyal'"),
        ({"period": "2011-08"}, "no published report for 2011-08"),
        ({"period": "2011-09", "on": "2011-09-30"}, "before the end of 2011-09"),
        ({"period": "2011-09", "on": "2012-12-10"}, "more than a year after the data's end"),
        ({"period": "2011-09", "on": "1 Oct"}, "is not a date"),
    ]
    for kwargs, words in cases:
        with pytest.raises(CampaignError, match=re.escape(words)):
            record_campaigns(**kwargs)
    done = CliRunner().invoke(cli, ["campaign", "--period", "2011-09", "--segments", "Loyal"])
    assert isinstance(done.exception, CampaignError) and done.exception.exit_code == 2
    assert _ledger(env.url).empty and _members(env.url).empty


def test_a_recorded_campaign_is_recorded_once_and_replaced_only_when_asked(env):
    first = record_campaigns("2011-09", on="2011-10-01")
    assert first.recorded == [f"2011-09/{s}" for s in EMAIL_SEGMENTS]
    again = record_campaigns("2011-09", on="2011-10-01")
    assert again.recorded == [] and "already recorded" in again.summary()
    with pytest.raises(CampaignError, match="REPLACE=1"):
        record_campaigns("2011-09", on="2011-10-03")
    record_campaigns("2011-09", segments=["At Risk"], on="2011-10-03", replace=True)
    ledger = _ledger(env.url).set_index("campaign_id")
    assert ledger.loc["2011-09/At Risk", "issued_on"] == date(2011, 10, 3)
    record_campaigns("2011-09", segments=["At Risk"], on="2011-10-01", replace=True)
    ledger = _ledger(env.url).set_index("campaign_id")
    assert len(ledger) == 4 and set(ledger["issued_on"]) == {date(2011, 10, 1)}
    assert set(ledger["window_end"]) == {date(2011, 10, 31)}
    # the members are exactly the published lists, targets and held out
    members = _members(env.url)
    metrics = json.loads((env.versions["2011-09"] / "metrics.json").read_text())
    for action in metrics["actions"]:
        if action["segment"] not in EMAIL_SEGMENTS:
            continue
        mine = members[members["campaign_id"] == f"2011-09/{action['segment']}"]
        for key, group in (("list_file", "target"), ("holdout_file", "holdout")):
            listed = pd.read_csv(env.versions["2011-09"] / action[key])["customer_id"]
            got = mine[mine["member_group"] == group]["customer_id"]
            assert sorted(got) == sorted(listed), (action["segment"], group)


# --- A/A on the real data: no campaign ran, so no effect may show -----------------------------


@pytest.fixture(scope="module")
def aa(loop):
    """2011-09 lists issued 1 Oct 2011, 2011-10 lists issued 1 Nov: the 2011-11 report."""
    from lgs_analysis.report.data import collect_report_data
    from lgs_analysis.report.params import load_params

    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("LGS_REPORTS_DIR", str(loop.reports))
        record_campaigns("2011-09", on="2011-10-01", database_url=loop.url)
        record_campaigns("2011-10", database_url=loop.url)  # default: the day after
        engine = get_engine(loop.url, read_only=True)
        data = collect_report_data("2011-11", load_params("2011-11"), engine)
        with engine.connect() as conn:  # the 2011-12 report's readout: data through 9 Dec
            ledger = readout.fetch_campaign_ledger(conn)
            december = readout.read_out_campaigns(
                ledger, readout.fetch_campaign_outcomes(conn, date(2011, 12, 10))
            )
        engine.dispose()
    return data, december


def test_aa_intervals_cover_zero_and_nothing_is_called_a_success(aa):
    data, december = aa
    table = data.extras["campaigns"]["readout"]
    assert sorted(table["period"].unique()) == ["2011-09", "2011-10"] and len(table) == 8
    assert set(table["issued_on"]) == {"2011-10-01", "2011-11-01"}
    assert ((table["uplift_low_pp"] <= 0) & (table["uplift_high_pp"] >= 0)).all()
    assert table["verdict"].str.startswith("inconclusive: too few customers").all()
    pd.testing.assert_frame_equal(december, table)  # windows ended: the same figures
    pooled = data.extras["campaigns"]["pooled"].set_index("segment")
    assert (pooled["campaigns"] == 2).all()
    assert ((pooled["uplift_low_pp"] <= 0) & (pooled["uplift_high_pp"] >= 0)).all()
    # pooling two months narrows what can be detected
    single = table.groupby("segment")["min_detectable_pp"].min()
    assert (pooled["min_detectable_pp"] < single.reindex(pooled.index)).all()


def _wilson(count, n, z):
    p = count / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return centre - half, centre + half


def test_every_readout_figure_matches_pandas_on_the_raw_lines(aa, real_raw, loop):
    from scipy import stats

    data, _ = aa
    table = data.extras["campaigns"]["readout"]
    z, z_power = NormalDist().inv_cdf(0.975), NormalDist().inv_cdf(0.80)
    lines = real_raw[real_raw["CustomerID"].notna() & ~real_raw["is_a"]]
    for row in table.itertuples():
        version = loop.versions[row.period]
        metrics = json.loads((version / "metrics.json").read_text())
        action = next(a for a in metrics["actions"] if a["segment"] == row.segment)
        issued = pd.Timestamp(row.issued_on)
        window = lines[
            (lines["InvoiceDate"] >= issued)
            & (lines["InvoiceDate"] < issued + pd.Timedelta(days=row.window_days))
        ]
        bought = set(window[(window["Quantity"] > 0) & (window["UnitPrice"] > 0)]["CustomerID"])
        spent = window.groupby("CustomerID")["amount"].sum()
        groups = {}
        for key in ("list_file", "holdout_file"):
            ids = pd.read_csv(version / action[key])["customer_id"]
            groups[key] = (
                np.array([c in bought for c in ids]),
                ids.map(spent).fillna(0.0).to_numpy(),
            )
        (r1, v1), (r2, v2) = groups["list_file"], groups["holdout_file"]
        n1, n2, c1, c2 = len(r1), len(r2), int(r1.sum()), int(r2.sum())
        p1, p2 = c1 / n1, c2 / n2
        assert (row.targeted, row.held_out) == (n1, n2)
        assert (row.targeted_responders, row.held_out_responders) == (c1, c2)
        assert row.response_rate_targeted == pytest.approx(p1)
        assert row.response_rate_held_out == pytest.approx(p2)
        # Newcombe (1998), method 10: hybrid of the two Wilson score intervals
        l1, u1 = _wilson(c1, n1, z)
        l2, u2 = _wilson(c2, n2, z)
        low = p1 - p2 - math.sqrt((p1 - l1) ** 2 + (u2 - p2) ** 2)
        high = p1 - p2 + math.sqrt((u1 - p1) ** 2 + (p2 - l2) ** 2)
        assert row.uplift_pp == pytest.approx((p1 - p2) * 100)
        assert (row.uplift_low_pp, row.uplift_high_pp) == pytest.approx((low * 100, high * 100))
        # Welch: separate variances, Satterthwaite's degrees of freedom
        m1, m2 = v1.mean(), v2.mean()
        s1, s2 = v1.var(ddof=1) / n1, v2.var(ddof=1) / n2
        dof = (s1 + s2) ** 2 / (s1**2 / (n1 - 1) + s2**2 / (n2 - 1))
        half = stats.t.ppf(0.975, dof) * math.sqrt(s1 + s2)
        assert (row.revenue_per_targeted, row.revenue_per_held_out) == pytest.approx((m1, m2))
        assert row.revenue_uplift_per_customer == pytest.approx(m1 - m2)
        assert (row.revenue_uplift_low, row.revenue_uplift_high) == pytest.approx(
            (m1 - m2 - half, m1 - m2 + half)
        )
        assert row.incremental_revenue == pytest.approx((m1 - m2) * n1)
        # detectable: Cohen's h at 80% power and 5% two-sided, around the overall rate
        base = (c1 + c2) / (n1 + n2)
        h = (z + z_power) * math.sqrt(1 / n1 + 1 / n2)
        detectable = (math.sin(math.asin(math.sqrt(base)) + h / 2) ** 2 - base) * 100
        assert row.min_detectable_pp == pytest.approx(detectable, abs=0.01)


def test_narrative_names_each_window_and_matches_the_table(aa):
    from lgs_analysis.escape import markdown_plain

    data, _ = aa
    table = data.extras["campaigns"]["readout"].set_index("campaign_id")
    paragraphs = [markdown_plain(p) for p in data.narrative]
    text = next(p for p in paragraphs if p.startswith("The ") and " campaign of " in p)
    found = re.findall(
        r"The ([\w' ]+?) campaign of (\d{4}-\d\d) \(issued (.+?); purchases from (.+?) to (.+?)\): "
        r"([\d.]+)% of its ([\d,]+) targeted customers bought against ([\d.]+)% of its "
        r"([\d,]+) held out, ([+-][\d.]+) points \(95% interval ([+-][\d.]+) to "
        r"([+-][\d.]+)\): (.+?)\.",
        text,
    )
    assert len(found) == 4  # the campaigns issued last (2011-10)
    for segment, period, issued, start, end, r1, n1, r2, n2, up, lo, hi, verdict in found:
        row = table.loc[f"{period}/{segment}"]
        assert (issued, start, end) == ("1 Nov 2011", "1 Nov 2011", "30 Nov 2011")
        assert float(r1) == pytest.approx(row["response_rate_targeted"] * 100, abs=0.05)
        assert float(r2) == pytest.approx(row["response_rate_held_out"] * 100, abs=0.05)
        assert (int(n1.replace(",", "")), int(n2.replace(",", ""))) == (
            row["targeted"],
            row["held_out"],
        )
        for shown, value in ((up, "uplift_pp"), (lo, "uplift_low_pp"), (hi, "uplift_high_pp")):
            assert float(shown) == pytest.approx(row[value], abs=0.05)
        assert verdict == row["verdict"] and "worked" not in verdict
    assert "all 8 measured campaigns" in text


def test_aa_coverage_over_1000_salts_on_the_2011_09_lists(aa, loop):
    """The 95% response interval covers the true 0 in 93-97% of 1,000 random holdouts."""
    import duckdb

    engine = get_engine(loop.url, read_only=True)
    with engine.connect() as conn:
        members = readout.fetch_campaign_outcomes(conn, date(2011, 11, 1))
        ledger = readout.fetch_campaign_ledger(conn).set_index("campaign_id")
    engine.dispose()
    members = members.join(ledger["segment"], on="campaign_id")
    buckets = _salted_buckets(members["customer_id"].to_numpy(), 1000)
    held = (buckets < holdout.holdout_limit(0.10)).astype(np.int64)
    responded = members["is_responder"].to_numpy().astype(np.int64)
    coverage = {}
    for segment in EMAIL_SEGMENTS:
        mask = (members["segment"] == segment).to_numpy()
        n2 = held[:, mask].sum(axis=1)
        c2 = held[:, mask] @ responded[mask]
        n1, c1 = mask.sum() - n2, responded[mask].sum() - c2
        low, high = readout.response_uplift_interval(c1, n1, c2, n2)
        coverage[segment] = (int(mask.sum()), float(np.mean((low <= 0) & (high >= 0))))
    print("A/A coverage of the 95% response interval, 1,000 salts:", coverage)
    for segment, (size, share) in coverage.items():
        if size >= 300:
            assert 0.93 <= share <= 0.97, (segment, size, share)
        else:
            assert share >= 0.93, (segment, size, share)
    assert min(size for size, _ in coverage.values()) < 300 <= max(s for s, _ in coverage.values())
    del duckdb


def _salted_buckets(customer_ids: np.ndarray, salts: int) -> np.ndarray:
    """Buckets under salts ``aa-0`` ... in one DuckDB query (the md5 of holdout.py, in C),
    checked against :func:`holdout.holdout_buckets` on two salts."""
    import duckdb

    frame = pd.DataFrame({"k": np.arange(len(customer_ids)), "customer_id": customer_ids})
    salt = pd.DataFrame({"i": np.arange(salts), "salt": [f"aa-{s}" for s in range(salts)]})
    con = duckdb.connect()
    con.register("members", frame)
    con.register("salts", salt)
    found = con.execute(
        "select cast(('0x' || substr(md5(salt || ':' || cast(customer_id as varchar)), 1, 8))"
        " as ubigint) % 10000 as bucket from salts cross join members order by i, k"
    ).fetchnumpy()["bucket"]
    con.close()
    buckets = np.asarray(found, dtype=np.int64).reshape(salts, len(customer_ids))
    for s in (0, salts - 1):
        assert (buckets[s] == holdout.holdout_buckets(customer_ids, f"aa-{s}")).all()
    return buckets
