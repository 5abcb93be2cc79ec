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
from datetime import date, datetime
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
from lgs_analysis.periods import parse_period
from lgs_analysis.report.ledger import campaign_status, record_campaigns
from lgs_analysis.warehouse import execute_sql_file, get_engine, run_query

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
    # a version is whole with its rendered report; the ledger never reads these two
    (version / "report.html").write_text("<html><body>lists only</body></html>")
    (version / "report.pdf").write_bytes(b"%PDF-1.4\n%lists only\n%%EOF\n")
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
        ({"period": "2011-07"}, "newest report of 2011-07 (v001) is damaged"),
    ]
    (env.reports / "2011-07" / "v001").mkdir(parents=True)  # a version with no files
    try:
        for kwargs, words in cases:
            with pytest.raises(CampaignError, match=re.escape(words)):
                record_campaigns(**kwargs)
    finally:
        shutil.rmtree(env.reports / "2011-07")
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


def test_aa_intervals_cover_zero_and_nothing_is_called_a_success(aa, loop):
    data, december = aa
    table = data.extras["campaigns"]["readout"]
    assert sorted(table["period"].unique()) == ["2011-09", "2011-10"] and len(table) == 8
    assert set(table["issued_on"]) == {"2011-10-01", "2011-11-01"}
    assert ((table["uplift_low_pp"] <= 0) & (table["uplift_high_pp"] >= 0)).all()
    assert table["verdict"].str.startswith("inconclusive: too few customers").all()
    pd.testing.assert_frame_equal(december, table)  # windows ended: the same figures
    status, last_day = campaign_status(loop.url)
    assert last_day == date(2011, 12, 9) and set(status["status"]) == {"measurable"}
    pooled = data.extras["campaigns"]["pooled"].set_index("segment")
    assert (pooled["campaigns"] == 2).all()
    assert ((pooled["uplift_low_pp"] <= 0) & (pooled["uplift_high_pp"] >= 0)).all()
    # pooling two months narrows what can be detected
    single = table.groupby("segment")["min_detectable_pp"].min()
    assert (pooled["min_detectable_pp"] < single.reindex(pooled.index)).all()


def test_readout_csv_has_exactly_the_issue_s_columns(aa, tmp_path):
    from lgs_analysis.report.data import export_tables, report_metrics

    data, _ = aa
    export_tables(data, tmp_path)
    table = pd.read_csv(tmp_path / "tables" / "campaign_readout.csv")
    assert list(table.columns) == [
        "campaign_id", "period", "segment", "issued_on", "window_days",
        "targeted", "held_out", "targeted_responders", "held_out_responders",
        "response_rate_targeted", "response_rate_held_out",
        "uplift_pp", "uplift_low_pp", "uplift_high_pp",
        "revenue_per_targeted", "revenue_per_held_out",
        "revenue_uplift_per_customer", "revenue_uplift_low", "revenue_uplift_high",
        "incremental_revenue", "min_detectable_pp", "verdict",
    ]  # fmt: skip
    assert len(table) == 8
    pooled = pd.read_csv(tmp_path / "tables" / "campaign_readout_pooled.csv")
    assert pooled["segment"].tolist() == ["Champions", "At Risk", "Can't Lose", "Hibernating"]
    metrics = json.loads(json.dumps(report_metrics(data), default=str))
    assert len(metrics["campaign_readout"]["campaigns"]) == 8
    assert metrics["campaign_readout"]["narrative"] in metrics["narrative"]


def test_a_changed_salt_is_said(aa, loop, monkeypatch):
    from lgs_analysis.report.data import _campaign_readout
    from lgs_analysis.report.params import load_params

    monkeypatch.setenv("LGS_REPORTS_DIR", str(loop.reports))
    data, _ = aa
    ledger = readout.fetch_campaign_ledger(get_engine(loop.url, read_only=True))
    same = _campaign_readout(
        parse_period("2011-10"),
        load_params("2011-10"),
        ledger,
        readout.empty_outcomes(),
        date(2011, 11, 1),
        [],
    )
    assert same["salt_notes"] == [] and data.extras["campaigns"]["salt_notes"] == []
    other = _campaign_readout(
        parse_period("2011-10"),
        load_params("2011-10", {"holdout_salt": "new-control"}),
        ledger,
        readout.empty_outcomes(),
        date(2011, 11, 1),
        [],
    )
    notes = " ".join(other["salt_notes"])
    assert "differs from the one of v001, the previous version of this report" in notes
    assert "campaigns already issued (lgs-holdout-1)" in notes


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


# --- faults: a killed run records nothing, two runs at once record once ----------------------


def _lgs(url: str, reports: Path, *args: str, delay: float = 0) -> subprocess.Popen:
    env = dict(os.environ, LGS_DATABASE_URL=url, LGS_REPORTS_DIR=str(reports))
    if delay:
        env["LGS_CAMPAIGN_TEST_DELAY_SECONDS"] = str(delay)
    return subprocess.Popen(
        [sys.executable, "-c", "from lgs_analysis.cli import main; main()", *args],
        cwd=PROJECT_ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _wait_for_line(process: subprocess.Popen, words: str, timeout: float = 120) -> None:
    seen: list[str] = []
    done = threading.Event()

    def read() -> None:
        for line in process.stderr:
            seen.append(line)
            if words in line:
                break
        done.set()

    threading.Thread(target=read, daemon=True).start()
    done.wait(timeout)
    assert any(words in line for line in seen), "".join(seen)


def test_a_campaign_killed_mid_write_records_nothing(loop, real_duckdb_url, tmp_path):
    shutil.copy(make_url(real_duckdb_url).database, tmp_path / "warehouse.duckdb")
    url = f"duckdb:///{tmp_path / 'warehouse.duckdb'}"
    process = _lgs(url, loop.reports, "campaign", "--period", "2011-09", delay=60)
    try:
        _wait_for_line(process, "campaign rows written")  # inside its transaction
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == -signal.SIGKILL
    assert _ledger(url).empty and _members(url).empty
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("LGS_REPORTS_DIR", str(loop.reports))
        assert len(record_campaigns("2011-09", database_url=url).recorded) == 4


# --- engines: the same ledger and readout on DuckDB, PostgreSQL and Spark -------------------


@pytest.mark.postgres
def test_ledger_and_readout_are_byte_identical_on_every_engine(
    loop, aa, real_pg_url, real_spark_warehouse, spark_server, tmp_path, monkeypatch
):
    # the session's PostgreSQL warehouse, its campaigns removed afterwards; a copy of Spark's
    try:
        _on_every_engine(
            loop, real_pg_url, real_spark_warehouse, spark_server, tmp_path, monkeypatch
        )
    finally:
        engine = get_engine(real_pg_url)
        with engine.begin() as conn:
            for campaign in readout.fetch_campaign_ledger(conn)["campaign_id"]:
                execute_sql_file(conn, "report/campaign_delete", campaign_id=campaign)
        engine.dispose()


def _on_every_engine(loop, pg_url, real_spark_warehouse, spark_server, tmp_path, monkeypatch):
    # two runs at once (PostgreSQL: an advisory lock), each holding its transaction open
    runs = [
        _lgs(pg_url, loop.reports, "campaign", "--period", "2011-09", "--on", "2011-10-01", delay=2)
        for _ in range(2)
    ]
    outputs = [run.communicate(timeout=180) for run in runs]
    assert [run.returncode for run in runs] == [0, 0], outputs
    said = "".join(out for out, _ in outputs)
    assert said.count("recorded 2011-09/") == 4 and said.count("already recorded") == 4
    spark_dir = tmp_path / "spark-warehouse"
    shutil.copytree(real_spark_warehouse, spark_dir)
    monkeypatch.setenv("LGS_SPARK_WAREHOUSE", str(spark_dir))
    monkeypatch.setenv("LGS_REPORTS_DIR", str(loop.reports))
    record_campaigns("2011-10", database_url=pg_url)
    record_campaigns("2011-09", on="2011-10-01", database_url=spark_server)
    record_campaigns("2011-10", database_url=spark_server)
    folders = {}
    for name, url in [("duckdb", loop.url), ("postgresql", pg_url), ("spark", spark_server)]:
        folders[name] = tmp_path / name
        folders[name].mkdir()
        engine = get_engine(url)
        with engine.connect() as conn:
            ledger = readout.fetch_campaign_ledger(conn)
            members = run_query(conn, "analyses/campaign_outcomes", cutoff=datetime(2100, 1, 1))
            outcomes = readout.fetch_campaign_outcomes(conn, date(2011, 12, 1))
            buckets = holdout.fetch_holdout_buckets(
                conn, date(2010, 12, 1), date(2011, 12, 1), "A b.c:d-1"
            )
        engine.dispose()
        assert (buckets.to_numpy() == holdout.holdout_buckets(buckets.index, "A b.c:d-1")).all()
        write_csv(ledger.drop(columns=["batch_id"]), folders[name] / "campaigns.csv")
        write_csv(
            members[["campaign_id", "customer_id", "member_group"]],
            folders[name] / "campaign_members.csv",
        )
        table = readout.read_out_campaigns(ledger, outcomes)[readout.READOUT_COLUMNS]
        write_csv(table, folders[name] / "campaign_readout.csv")
    assert len(pd.read_csv(folders["duckdb"] / "campaign_readout.csv")) == 8
    for name in ("postgresql", "spark"):
        for file in ("campaigns.csv", "campaign_members.csv", "campaign_readout.csv"):
            left = (folders["duckdb"] / file).read_bytes()
            assert left == (folders[name] / file).read_bytes(), f"{name}: {file} differs"


# --- a known effect: 0.30 against 0.20 ------------------------------------------------------


def _known_effect_warehouse(root: Path) -> tuple[str, Path]:
    """5,000 members of an At Risk list; targeted ones buy in the window with probability
    0.30, held-out ones 0.20, spending £50 on average (gamma); everyone also buys before
    and after the window, which must not count. 20% held out."""
    import pyarrow as pa

    from lgs_analysis.ingest.batches import load_batch

    rng = np.random.default_rng(19)
    ids = np.arange(100_000, 105_000)
    group = np.where(holdout.holdout_buckets(ids, "known-effect") < 2000, "holdout", "target")
    buys = rng.random(len(ids)) < np.where(group == "target", 0.30, 0.20)
    day = pd.Timestamp("2011-10-01") + pd.to_timedelta(rng.integers(0, 30, len(ids)), "D")
    price = np.round(rng.gamma(2.0, 25.0, len(ids)), 2) + 0.01
    rows = [
        (f"K{c}", "22960", "JAM MAKING SET", 1, d + pd.Timedelta(hours=10), p, c, "UK")
        for c, d, p, b in zip(ids, day, price, buys, strict=True)
        if b
    ]
    rows += [
        (f"B{c}", "22960", "JAM", 2, pd.Timestamp("2011-09-20 09:00"), 9.5, c, "UK") for c in ids
    ]
    rows += [
        (f"A{c}", "22960", "JAM", 3, pd.Timestamp("2011-10-31 09:00"), 7.0, c, "UK") for c in ids
    ]
    lines = pd.DataFrame(
        rows,
        columns=[
            "invoice_no",
            "stock_code",
            "description",
            "quantity",
            "invoice_date",
            "unit_price",
            "customer_id",
            "country",
        ],
    )
    table = pa.Table.from_pandas(lines, preserve_index=False).cast(
        pa.schema(
            [
                ("invoice_no", pa.string()),
                ("stock_code", pa.string()),
                ("description", pa.string()),
                ("quantity", pa.int32()),
                ("invoice_date", pa.timestamp("us")),
                ("unit_price", pa.decimal128(12, 3)),
                ("customer_id", pa.int32()),
                ("country", pa.string()),
            ]
        )
    )
    url = f"duckdb:///{root / 'known.duckdb'}"
    engine = get_engine(url)
    load_batch(
        engine,
        source_kind="file",
        source_name="known-effect",
        fingerprint="known-effect-19",
        chunks=[(table, pd.DataFrame(columns=["line_no", "reason", "raw_row"]))],
    )
    engine.dispose()
    version = root / "reports" / "2011-09" / "v001"
    (version / "tables").mkdir(parents=True)
    members = pd.DataFrame({"customer_id": ids, "segment": "At Risk", "group": group})
    members[group == "target"].to_csv(version / "tables" / "campaign_at_risk.csv", index=False)
    members[group == "holdout"].to_csv(version / "tables" / "holdout_at_risk.csv", index=False)
    action = {
        "segment": "At Risk",
        "customers": len(ids),
        "email_list": True,
        "list_file": "tables/campaign_at_risk.csv",
        "holdout_file": "tables/holdout_at_risk.csv",
    }
    (version / "metrics.json").write_text(json.dumps({"actions": [action], "holdout": {}}))
    params = {"holdout_share": 0.2, "holdout_salt": "known-effect", "response_window_days": 30}
    (version / "manifest.json").write_text(json.dumps({"parameters": params}))
    return url, version


def test_a_known_effect_is_found_with_its_size(tmp_path):
    url, version = _known_effect_warehouse(tmp_path)
    record_campaigns("2011-09", on="2011-10-01", version_dir=version, database_url=url)
    engine = get_engine(url, read_only=True)
    with engine.connect() as conn:
        ledger = readout.fetch_campaign_ledger(conn)
        table = readout.read_out_campaigns(
            ledger, readout.fetch_campaign_outcomes(conn, date(2011, 11, 1))
        )
    engine.dispose()
    row = table.iloc[0]
    assert row["targeted"] + row["held_out"] == 5000 and 900 < row["held_out"] < 1100
    assert row["uplift_low_pp"] <= 10 <= row["uplift_high_pp"]
    assert row["uplift_low_pp"] > 0 and row["verdict"] == "worked"
    # revenue: 0.30 x £50 against 0.20 x £50, £5 per customer; the lines before and after
    # the window count for nothing
    assert row["revenue_uplift_low"] <= 5.0 <= row["revenue_uplift_high"]
    assert row["revenue_uplift_low"] > 0
    assert row["incremental_revenue"] == pytest.approx(
        row["revenue_uplift_per_customer"] * row["targeted"]
    )
    assert row["min_detectable_pp"] < 5


def test_the_uplift_interval_covers_a_known_effect_95_times_in_100():
    """2,000 simulated campaigns of 4,000 targeted (0.30) and 1,000 held out (0.20)."""
    rng = np.random.default_rng(2011)
    c1 = rng.binomial(4000, 0.30, 2000)
    c2 = rng.binomial(1000, 0.20, 2000)
    low, high = readout.response_uplift_interval(c1, 4000, c2, 1000)
    covered = np.mean((low <= 0.10) & (high >= 0.10))
    assert 0.93 <= covered <= 0.97, covered
    assert np.mean(low > 0) > 0.99  # and nearly always tells it from no effect


# --- make monthly records what it emailed, and a dry run nothing ---------------------------


def test_monthly_records_the_lists_it_emailed(loop, real_duckdb_url, tmp_path, monkeypatch):
    from lgs_analysis.delivery import monthly
    from lgs_analysis.report.build import BuildResult
    from tests.delivery.test_delivery import PDF_BYTES, Inbox, smtp_server

    shutil.copy(make_url(real_duckdb_url).database, tmp_path / "warehouse.duckdb")
    url = f"duckdb:///{tmp_path / 'warehouse.duckdb'}"
    reports = tmp_path / "reports"
    version = reports / "2011-10" / "v001"
    shutil.copytree(loop.versions["2011-10"], version)
    (version / "report.pdf").write_bytes(PDF_BYTES)
    params = tmp_path / "params"
    shutil.copytree(PROJECT_ROOT / "params", params)
    (params / "delivery.yaml").write_text(
        "sender: reports@lgs.test\nrecipients: [marketing@lgs.test]\n"
        "attach_campaign_csvs: true\nmax_attempts: 1\n"
    )
    built = BuildResult(parse_period("2011-10"), version, created=False)
    monkeypatch.setattr("lgs_analysis.report.build.build_report", lambda *a, **k: built)
    for name, value in {
        "LGS_DATABASE_URL": url,
        "LGS_REPORTS_DIR": str(reports),
        "LGS_PARAMS_DIR": str(params),
        "LGS_SMTP_HOST": "127.0.0.1",
        "LGS_SMTP_TLS": "none",
    }.items():
        monkeypatch.setenv(name, value)
    inbox = Inbox()
    with smtp_server(inbox) as port:
        monkeypatch.setenv("LGS_SMTP_PORT", str(port))
        dry = monthly.run_monthly("2011-10", dry_run=True)
        assert dry.delivery.status == "dry-run" and _ledger(url).empty
        sent = monthly.run_monthly("2011-10")
    assert sent.delivery.status == "sent" and "recorded 2011-10/At Risk" in sent.summary()
    message = inbox.parsed(0)
    attached = sorted(p.get_filename() for p in message.walk() if p.get_filename())
    assert not [name for name in attached if name.startswith("holdout_")]
    ledger = _ledger(url)
    assert sorted(ledger["segment"]) == sorted(EMAIL_SEGMENTS)
    assert set(ledger["issued_on"]) == {date(2011, 11, 1)}  # replaying 2011: the scheduled day
    text = next(p for p in message.walk() if p.get_content_type() == "text/plain").get_content()
    assert "Did the campaigns work?" in text and "held out" in text
