"""End to end: real papermill runs of the real template, real HTML and PDF.

The demo-data report runs on a fresh DuckDB warehouse; the same report runs on a
real PostgreSQL database and must give identical tables; the real-data report is
checked against figures computed here, independently, with plain pandas.
"""

from __future__ import annotations

import filecmp
import json
import re
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from pypdf import PdfReader

from lgs_analysis.analyses.rfm import SEGMENT_ORDER
from lgs_analysis.exceptions import NoDataError, ParameterError, ReportExecutionError
from lgs_analysis.report.build import build_report

from ..conftest import create_pg_database, drop_pg_database

TABLES = ["monthly", "segments", "customers"]


@pytest.fixture(scope="module")
def demo_report(tmp_path_factory):
    """One demo-data report for 2011 on a fresh DuckDB warehouse (built once per module)."""
    root = tmp_path_factory.mktemp("demo")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("LGS_DATABASE_URL", f"duckdb:///{root / 'warehouse.duckdb'}")
        mp.setenv("LGS_REPORTS_DIR", str(root / "reports"))
        result = build_report("2011")
        yield result, root, mp


def test_build_report_demo_publishes_every_artifact(demo_report):
    result, root, _ = demo_report
    version = result.version_dir
    assert result.created and version.name == "v001"
    for name in [
        "report.ipynb",
        "report.html",
        "report.pdf",
        "metrics.json",
        "manifest.json",
        "tables/monthly.csv",
        "tables/segments.csv",
        "tables/customers.csv",
        "charts/segment_pie.png",
    ]:
        assert (version / name).is_file(), name
    assert (version.parent / "latest").resolve() == version.resolve()
    assert (root / "reports" / "index.html").is_file()
    manifest = json.loads((version / "manifest.json").read_text())
    for key in [
        "period",
        "parameters",
        "data_fingerprint",
        "code_version",
        "template_hash",
        "timings",
        "created_at",
    ]:
        assert key in manifest, key
    assert manifest["parameters"]["rfm_lookback_months"] == 12


def test_build_report_demo_tables_have_documented_columns(demo_report):
    version = demo_report[0].version_dir
    monthly = pd.read_csv(version / "tables" / "monthly.csv")
    assert list(monthly.columns) == [
        "month",
        "complete",
        "invoices",
        "cancelled_invoices",
        "placed_orders",
        "gross_sales",
        "net_sales",
        "sales_growth_pct",
        "sales_growth_yoy_pct",
        "active_customers",
        "new_customers",
        "returning_customers",
        "cancelling_only_customers",
    ]
    # active = new + returning + cancelling only, in every month
    parts = monthly[["new_customers", "returning_customers", "cancelling_only_customers"]]
    assert (parts.sum(axis=1) == monthly["active_customers"]).all()
    assert monthly["month"].tolist() == [f"2011-{m:02d}" for m in range(1, 13)]
    segments = pd.read_csv(version / "tables" / "segments.csv")
    assert list(segments.columns) == [
        "segment",
        "customers",
        "customer_share",
        "revenue",
        "revenue_share",
        "mean_recency",
        "mean_frequency",
        "mean_monetary",
    ]
    customers = pd.read_csv(version / "tables" / "customers.csv")
    assert list(customers.columns) == [
        "customer_id",
        "country",
        "first_purchase",
        "last_purchase",
        "recency_days",
        "invoices",
        "gross_spend",
        "net_spend",
        "predicted_clv_12m",
        "predicted_clv_12m_low",
        "predicted_clv_12m_high",
        "p_purchase_90d",
        "segment",
        "previous_segment",
        "group",
        "r",
        "f",
        "m",
        "top_product_1",
        "top_product_1_description",
        "top_product_2",
        "top_product_2_description",
        "top_product_3",
        "top_product_3_description",
    ]
    assert (customers["net_spend"] > 0).all()
    assert customers["country"].notna().all() and customers["top_product_1"].notna().all()
    # one campaign list per segment with customers: its targets to mail, and its held-out
    # customers apart; together the segment's rows of customers.csv
    assert set(customers["group"]) == {"target", "holdout"}
    for row in segments[segments["customers"] > 0].itertuples():
        slug = "".join(c if c.isalnum() else "_" for c in row.segment.lower())
        listed = pd.read_csv(version / "tables" / f"campaign_{slug}.csv")
        held = pd.read_csv(version / "tables" / f"holdout_{slug}.csv")
        assert len(listed) + len(held) == row.customers, row.segment
        assert set(listed["group"]) <= {"target"} and set(held["group"]) <= {"holdout"}
        assert set(listed["segment"]) | set(held["segment"]) == {row.segment}
        members = customers[customers["segment"] == row.segment]
        assert sorted(listed["customer_id"]) == sorted(
            members[members["group"] == "target"]["customer_id"]
        )
    assert segments["customers"].sum() == len(customers)
    assert segments["customer_share"].sum() == pytest.approx(1.0, abs=1e-5)  # 6-decimal CSV


def test_build_report_demo_html_is_self_contained_and_says_demo(demo_report):
    html = (demo_report[0].version_dir / "report.html").read_text()
    assert "DEMO DATA" in html.upper()
    assert "<script" not in html.lower()
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", html)
    assert not re.search(r"url\(\s*['\"]?(https?:)?//", html)
    assert "data:image/png;base64," in html
    assert "sections.show_" not in html  # code is hidden


def test_build_report_demo_pdf_holds_segment_names(demo_report):
    pdf = PdfReader(demo_report[0].version_dir / "report.pdf")
    text = " ".join(page.extract_text() for page in pdf.pages)
    text = re.sub(r"\s+", " ", text).replace("’", "'")
    for name in SEGMENT_ORDER:
        assert name in text, name
    assert "demo data" in text.lower()


def test_build_report_rerun_is_up_to_date_and_force_makes_next_version(demo_report):
    result, _, _ = demo_report
    again = build_report("2011")
    assert not again.created
    assert again.version_dir == result.version_dir.resolve()
    forced = build_report("2011", force=True)
    assert forced.created and forced.version_dir.name == "v002"
    assert (result.version_dir / "report.pdf").is_file()  # older versions stay


def test_build_report_failure_publishes_nothing_and_keeps_notebook(
    demo_report, tmp_path, monkeypatch
):
    import nbformat

    from lgs_analysis.report import build

    _, root, _ = demo_report
    nb = nbformat.read(build.TEMPLATES_DIR / "rfm_report.ipynb", as_version=4)
    nb.cells.insert(3, nbformat.v4.new_code_cell("raise ValueError('a cell without a segment')"))
    nbformat.write(nb, tmp_path / "rfm_report.ipynb")
    monkeypatch.setattr(build, "TEMPLATES_DIR", tmp_path)
    before = sorted(p.name for p in (root / "reports" / "2011").iterdir())
    with pytest.raises(ReportExecutionError, match=r"cell \d+.*ValueError.*without a segment"):
        build_report("2011", force=True)
    after = sorted(p.name for p in (root / "reports" / "2011").iterdir())
    assert after == before
    failed = list((root / "reports" / "_failed").glob("2011-*.ipynb"))
    assert len(failed) == 1


def test_build_report_template_is_a_name_never_a_path(demo_report):
    with pytest.raises(ParameterError, match="letters, digits"):
        build_report("2011", template="../../tmp/evil")


def test_build_report_period_without_data_names_warehouse_range(demo_report):
    with pytest.raises(NoDataError, match=r"2005.*2009-12-01 to 2011-12-09"):
        build_report("2005")


def _cli(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "lgs_analysis.cli", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )


@pytest.mark.parametrize("period", ["2011-13", "11/2011", "2011-Q5", "20111", "abc", ""])
def test_cli_report_bad_period_exits_before_work(tmp_path, period):
    import os

    env = {
        **os.environ,
        "LGS_DATABASE_URL": f"duckdb:///{tmp_path / 'w.duckdb'}",
        "LGS_REPORTS_DIR": str(tmp_path / "reports"),
    }
    done = _cli("report", "--period", period, env=env)
    assert done.returncode == 2
    assert "YYYY-Qn" in done.stderr and "YYYY-MM" in done.stderr
    assert not (tmp_path / "w.duckdb").exists()
    assert not (tmp_path / "reports").exists()


def test_cli_report_unknown_parameter_exits_before_work(tmp_path):
    import os

    env = {
        **os.environ,
        "LGS_DATABASE_URL": f"duckdb:///{tmp_path / 'w.duckdb'}",
        "LGS_REPORTS_DIR": str(tmp_path / "reports"),
    }
    done = _cli("report", "--period", "2011", "-p", "lookback=3", env=env)
    assert done.returncode == 2
    assert "unknown parameter 'lookback'" in done.stderr
    assert not (tmp_path / "w.duckdb").exists()


# --- PostgreSQL: the same report, identical tables -------------------------------------------


@pytest.mark.postgres
def test_build_report_postgres_tables_identical_to_duckdb(demo_report, pg_server):
    from lgs_analysis.ingest.demo import load_demo
    from lgs_analysis.warehouse import get_engine

    duck = demo_report[0].version_dir
    url = create_pg_database(pg_server, "lgs_t_report")
    secret = "s3cret-pw-never-shown"
    url_with_password = url.replace("postgres@", f"postgres:{secret}@")
    try:
        load_demo(get_engine(url_with_password))
        with pytest.MonkeyPatch.context() as mp:
            mp.setenv("LGS_DATABASE_URL", url_with_password)
            mp.setenv("LGS_REPORTS_DIR", str(duck.parents[2] / "reports_pg"))
            pg = build_report("2011").version_dir
    finally:
        drop_pg_database(url)
    _assert_same_tables(duck, pg, "postgresql")
    for path in pg.rglob("*"):
        if path.is_file() and path.suffix in {".json", ".html", ".ipynb", ".csv"}:
            assert secret not in path.read_text(errors="ignore"), path
    assert secret.encode() not in (pg / "report.pdf").read_bytes()


def _assert_same_tables(left: Path, right: Path, engine: str) -> None:
    """Every tables/*.csv of two report versions, byte for byte."""
    files = sorted(p.name for p in (left / "tables").glob("*.csv"))
    assert {f"{name}.csv" for name in TABLES} <= set(files)
    assert sorted(p.name for p in (right / "tables").glob("*.csv")) == files, engine
    for file in files:
        same = filecmp.cmp(left / "tables" / file, right / "tables" / file, shallow=False)
        assert same, f"{engine}: tables/{file} differs from DuckDB's"


def test_build_report_spark_tables_identical_to_duckdb(demo_report, spark_server, tmp_path):
    """The demo report on a Spark warehouse (demo data loaded by the build itself)."""
    duck = demo_report[0].version_dir
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("LGS_DATABASE_URL", spark_server)
        mp.setenv("LGS_SPARK_WAREHOUSE", str(tmp_path / "spark-warehouse"))
        mp.setenv("LGS_REPORTS_DIR", str(tmp_path / "reports_spark"))
        result = build_report("2011")
    assert result.created
    spark = result.version_dir
    assert json.loads((spark / "metrics.json").read_text())["is_demo"]
    _assert_same_tables(duck, spark, "spark")


# --- what a person sees: pages that fit, a quiet terminal ------------------------------------


def test_demo_report_pages_fit_and_keep_headings_with_content(demo_report):
    from tests.report.layout import check_pdf_layout

    assert check_pdf_layout(demo_report[0].version_dir / "report.pdf") == []


def test_cli_first_month_report_is_quiet_unpadded_and_fits(demo_report):
    """The warehouse's first month (Dec 2009) on the command line, as a user runs it."""
    import json
    import os

    from tests.report.layout import check_pdf_layout

    _, root, _ = demo_report
    env = {
        **os.environ,
        "LGS_DATABASE_URL": f"duckdb:///{root / 'warehouse.duckdb'}",
        "LGS_REPORTS_DIR": str(root / "reports"),
    }
    done = _cli("report", "--period", "2009", env=env)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert re.fullmatch(r"report 2009: published v001 in \d+\.\d s", lines[0]), lines
    assert [line.split(":")[0].strip() for line in lines[1:]] == ["HTML", "PDF"]
    assert done.stderr == "", done.stderr  # no kernel warning, no log line repeated
    again = _cli("report", "--period", "2009", env=env)
    assert again.stdout.splitlines()[0] == "report 2009: up to date (v001), nothing to do"
    version = root / "reports" / "2009" / "v001"
    monthly = pd.read_csv(version / "tables" / "monthly.csv")
    assert monthly["month"].tolist() == ["2009-12"]  # no rows of £0 for Jan-Nov 2009
    assert monthly["new_customers"].isna().all()  # everyone looks new in the first month
    metrics = json.loads((version / "metrics.json").read_text())
    assert metrics["new_customers"] is None and metrics["sales_growth_pct"] is None
    assert check_pdf_layout(version / "report.pdf") == []


def test_metrics_scrap_reads_back_with_scrapbook(demo_report):
    """The kernel glues the metrics without importing scrapbook; scrapbook still reads them."""
    import scrapbook as sb

    version = demo_report[0].version_dir
    scraps = sb.read_notebook(str(version / "report.ipynb")).scraps
    assert scraps["metrics"].data == json.loads((version / "metrics.json").read_text())
    assert scraps["metrics"].encoder == "json"


def test_prepare_refills_invoice_parts_after_a_hand_edit_of_retail(pg_url, caplog):
    import logging

    from sqlalchemy import text

    from lgs_analysis.ingest.loaders import load_file
    from lgs_analysis.report.build import prepare_warehouse
    from lgs_analysis.warehouse import derived_mismatch, get_engine

    from ..conftest import assert_derived_current
    from ..ingest.test_loaders import SAMPLE_CSV

    caplog.set_level(logging.WARNING, logger="lgs_analysis")  # whatever earlier tests set
    engine = get_engine(pg_url)
    load_file(SAMPLE_CSV, engine, progress=False)
    prepare_warehouse(pg_url)  # current: nothing to do
    assert "refilling" not in caplog.text
    with engine.begin() as conn:  # an operator's hand edit, outside lgs
        conn.execute(
            text(
                "insert into retail (invoice_no, stock_code, description, quantity,"
                " invoice_date, unit_price, customer_id, country, batch_id) values"
                " ('999999', '85123A', 'HEART', 2, '2011-06-01 10:00', 2.55, 17850,"
                " 'United Kingdom', 1)"
            )
        )
    assert "its invoice parts" in derived_mismatch(engine)
    engine.dispose()
    prepare_warehouse(pg_url)
    assert "refilling the invoice parts" in caplog.text
    assert_derived_current(pg_url)


def test_a_changed_package_version_makes_a_new_version_that_names_it(
    demo_report, tmp_path, monkeypatch
):
    """A copy of pandas' metadata with another version, first on the path: the next run
    publishes a new version whose reason (manifest and index) says pandas changed."""
    from importlib import metadata

    result, root, _ = demo_report
    build_report("2011")  # whatever earlier tests left: the latest version is current
    real = metadata.version("pandas")
    manifest = json.loads((root / "reports/2011/latest/manifest.json").read_text())
    assert manifest["environment"]["pandas"] == real
    assert manifest["environment"]["warehouse"].startswith("duckdb v")
    assert manifest["environment"]["python"] == ".".join(map(str, sys.version_info[:3]))
    for name in ["numpy", "duckdb", "sqlglot", "scipy", "matplotlib", "weasyprint", "papermill"]:
        assert manifest["environment"][name] == metadata.version(name), name
    assert not build_report("2011").created  # same versions: up to date

    fake = tmp_path / "site" / "pandas-99.0.0.dist-info"
    fake.mkdir(parents=True)
    (fake / "METADATA").write_text("Metadata-Version: 2.1\nName: pandas\nVersion: 99.0.0\n")
    monkeypatch.syspath_prepend(str(fake.parent))
    assert metadata.version("pandas") == "99.0.0"
    again = build_report("2011")
    assert again.created
    newer = json.loads((again.version_dir / "manifest.json").read_text())
    assert newer["reason"] == f"new package versions (pandas {real} -> 99.0.0)"
    index = (root / "reports" / "index.html").read_text()
    assert f"pandas {real} -&gt; 99.0.0" in index
