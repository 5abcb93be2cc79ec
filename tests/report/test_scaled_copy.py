"""Figures at scale are exact: k copies of the real data (customer ids and invoice numbers
shifted, tests/bench/copies.py), loaded as a folder of Parquet files under a small
LGS_MEMORY_LIMIT, give exactly k times the real 2011 figures, computed again with pandas."""

from __future__ import annotations

from datetime import date

import pytest

from lgs_analysis.analyses.sales import fetch_period_summary
from lgs_analysis.ingest.loaders import load_file
from lgs_analysis.warehouse import get_engine
from tests.bench.copies import read_real, write_copies

from .reference import between, customer_counts, net_sales, order_counts

K = 2
START, END = "2011-01-01", "2012-01-01"


@pytest.fixture(scope="module")
def summaries(real_csv, real_duckdb_url, tmp_path_factory) -> tuple[dict, dict]:
    """The 2011 period summary of the real data and of K copies."""
    folder = write_copies(read_real(real_csv), K, tmp_path_factory.mktemp("copies") / "export")
    url = f"duckdb:///{folder.parent / 'copies.duckdb'}"
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("LGS_MEMORY_LIMIT", "512MB")  # DuckDB gets 256 MB and spills past it
        engine = get_engine(url)
        result = load_file(folder, engine, progress=False)
        assert result.count_loaded == K * 541_909
        with engine.connect() as conn:
            scaled = fetch_period_summary(conn, date(2011, 1, 1), date(2012, 1, 1))
        engine.dispose()
    with get_engine(real_duckdb_url).connect() as conn:
        real = fetch_period_summary(conn, date(2011, 1, 1), date(2012, 1, 1))
    return real, scaled


def test_k_copies_give_k_times_the_real_2011_figures(summaries, real_raw):
    real, scaled = summaries
    expected_net = net_sales(real_raw, START, END)  # pandas, from the raw file
    expected_orders = order_counts(real_raw, START, END)["placed_orders"]
    expected_customers = customer_counts(between(real_raw, START, END), set())
    assert real["net_sales"] == pytest.approx(expected_net, abs=0.01)
    assert real["placed_orders"] == expected_orders
    assert real["active_customers"] == expected_customers["active_customers"]
    # exact: counts equal, sums (decimals in the warehouse, rounded to the cent by the
    # report) within the rounding of the real figure times K
    assert scaled["net_sales"] == pytest.approx(K * real["net_sales"], abs=0.005 * K)
    assert scaled["gross_sales"] == pytest.approx(K * real["gross_sales"], abs=0.005 * K)
    assert scaled["placed_orders"] == K * expected_orders
    assert scaled["active_customers"] == K * expected_customers["active_customers"]
    assert scaled["count_lines"] == K * real["count_lines"]
