"""Demo data: determinism, schema, and the real data's shape, checked with plain pandas.

The shape checks run on one generation of the default size (shared by the module);
determinism and chunking use smaller sizes. The load tests use real DuckDB files and,
when reachable, a real PostgreSQL database.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from sqlalchemy import text

from lgs_analysis.exceptions import MixedDataError
from lgs_analysis.ingest.batches import load_batch
from lgs_analysis.ingest.demo import DEFAULT_ROWS, ensure_data, generate_demo, is_demo, load_demo
from lgs_analysis.ingest.validate import QUARANTINE_COLUMNS, RETAIL_SCHEMA
from lgs_analysis.warehouse import get_engine

from ..conftest import assert_derived_current

SERVICE_CODES = {
    "POST": "POSTAGE",
    "DOT": "DOTCOM POSTAGE",
    "M": "Manual",
    "D": "Discount",
    "C2": "CARRIAGE",
    "BANK CHARGES": "Bank Charges",
    "AMAZONFEE": "AMAZON FEE",
    "CRUK": "CRUK Commission",
}
# A known family: the jumbo bags in red retrospot and strawberry are bought together.
BUNDLE_PAIR = ("85099B", "85099F")


def _table(n_rows: int, seed: int = 42, chunk_rows: int = 500_000) -> pa.Table:
    return pa.concat_tables(generate_demo(n_rows, seed=seed, chunk_rows=chunk_rows))


@pytest.fixture(scope="module")
def lines() -> pd.DataFrame:
    """The default demo data as pandas, with the amount and flags computed here."""
    frame = _table(DEFAULT_ROWS).to_pandas()
    frame["amount"] = frame["quantity"] * frame["unit_price"]
    frame["is_cancellation"] = frame["invoice_no"].str.startswith("C")
    frame["is_adjustment"] = frame["invoice_no"].str.startswith("A")
    frame["is_product"] = frame["stock_code"].str.match(r"\d")
    return frame


# --- determinism, schema, size ----------------------------------------------------------------


def test_generate_demo_same_seed_gives_same_lines():
    assert _table(20_000, seed=7).equals(_table(20_000, seed=7))


def test_generate_demo_other_seed_gives_other_lines():
    first, second = _table(20_000, seed=7), _table(20_000, seed=8)
    assert first.num_rows == second.num_rows
    assert not first.equals(second)


def test_generate_demo_chunking_does_not_change_the_lines():
    chunks = list(generate_demo(30_000, seed=3, chunk_rows=7_000))
    assert [c.num_rows for c in chunks] == [7_000] * 4 + [2_000]
    assert pa.concat_tables(chunks).equals(_table(30_000, seed=3))


def test_generate_demo_schema_is_retail_schema():
    for chunk in generate_demo(12_000, chunk_rows=5_000):
        assert chunk.schema == RETAIL_SCHEMA


@pytest.mark.parametrize("n_rows", [1, 10, 4_999, 5_001, 123_457], ids=str)
def test_generate_demo_gives_exactly_n_rows(n_rows):
    assert _table(n_rows).num_rows == n_rows


@pytest.mark.parametrize("n_rows", [0, -5])
def test_generate_demo_rejects_no_rows(n_rows):
    with pytest.raises(ValueError, match="n_rows must be at least 1"):
        next(generate_demo(n_rows))


# --- shape of the default data -------------------------------------------------------------


def test_generate_demo_spans_online_retail_ii(lines):
    assert lines["invoice_date"].min().date() == pd.Timestamp("2009-12-01").date()
    assert lines["invoice_date"].max().date() == pd.Timestamp("2011-12-09").date()


def test_generate_demo_timestamps_in_shop_hours_to_the_minute(lines):
    at = lines["invoice_date"]
    assert (at.dt.second == 0).all()
    assert at.dt.hour.between(6, 21).all()
    assert (at.dt.day_of_week != 5).all()  # closed on Saturdays


def test_generate_demo_about_ninety_percent_uk_lines(lines):
    share = (lines["country"] == "United Kingdom").mean()
    assert 0.85 <= share <= 0.95
    assert lines["country"].nunique() >= 20


def test_generate_demo_november_is_the_top_month_by_revenue(lines):
    month = lines["invoice_date"].dt.to_period("M")
    revenue = lines.groupby(month)["amount"].sum()
    for year in (2010, 2011):
        of_year = revenue[revenue.index.year == year]
        assert of_year.idxmax() == pd.Period(f"{year}-11", "M"), of_year
    autumn = revenue[[pd.Period(f"2011-{m:02d}", "M") for m in (9, 10, 11)]]
    spring = revenue[[pd.Period(f"2011-{m:02d}", "M") for m in (2, 3, 4)]]
    assert autumn.mean() > 1.3 * spring.mean()


def test_generate_demo_quarter_of_lines_without_customer_as_whole_invoices(lines):
    missing = lines["customer_id"].isna()
    assert 0.2 <= missing.mean() <= 0.3
    per_invoice = missing.groupby(lines["invoice_no"]).agg(["min", "max"])
    assert (per_invoice["min"] == per_invoice["max"]).all()


def test_generate_demo_customers_about_four_thousand_five_digit_ids(lines):
    ids = lines["customer_id"].dropna().astype("int64")
    assert 3_500 <= ids.nunique() <= 4_500
    assert ids.between(10_000, 99_999).all()


def test_generate_demo_cancellations_and_adjustments(lines):
    cancel, adjust = lines[lines["is_cancellation"]], lines[lines["is_adjustment"]]
    assert 0.01 <= len(cancel) / len(lines) <= 0.04
    assert (cancel["quantity"] < 0).all()
    assert len(adjust) >= 1
    assert (adjust["stock_code"] == "B").all()
    assert (adjust["description"] == "Adjust bad debt").all()
    assert (adjust["quantity"] == 1).all()
    assert (adjust["unit_price"] < 0).any()
    negative_price = lines[lines["unit_price"] < 0]
    assert negative_price["is_adjustment"].all()
    normal = lines[~lines["is_cancellation"] & ~lines["is_adjustment"]]
    assert (normal["quantity"] > 0).all()


def test_generate_demo_cancellations_undo_earlier_orders(lines):
    cancel = lines[lines["is_cancellation"] & lines["is_product"]]
    orders = lines[~lines["is_cancellation"] & lines["is_product"]]
    earlier = cancel.reset_index().merge(
        orders[["customer_id", "stock_code", "invoice_date", "unit_price", "quantity"]],
        on=["customer_id", "stock_code", "unit_price"],
        suffixes=("", "_order"),
    )
    earlier = earlier[
        (earlier["invoice_date_order"] <= earlier["invoice_date"])
        & (earlier["quantity_order"] >= -earlier["quantity"])
    ]
    assert earlier["index"].nunique() == len(cancel)
    assert cancel["customer_id"].notna().all()


def test_generate_demo_non_product_codes_with_real_descriptions(lines):
    service = lines[~lines["is_product"]]
    found = service.groupby("stock_code")["description"].first().to_dict()
    for code, description in SERVICE_CODES.items():
        assert found.get(code) == description, code


def test_generate_demo_catalogue_of_giftware_with_digit_codes(lines):
    products = lines[lines["is_product"]]
    assert products["stock_code"].str.fullmatch(r"\d{5}[A-Z]?").all()
    assert products["stock_code"].str.fullmatch(r"\d{5}[A-Z]").any()
    assert 2_000 <= products["stock_code"].nunique() <= 5_000
    described = products.groupby("stock_code")["description"].nunique()
    assert (described == 1).all()
    assert products["description"].str.fullmatch(r"[A-Z0-9' ,.+/&-]+").all()
    price = products.loc[products["quantity"] > 0, "unit_price"]
    assert 1.0 <= price.median() <= 4.0
    assert (price > 0).all()


def test_generate_demo_few_customers_hold_most_revenue(lines):
    spend = lines.dropna(subset=["customer_id"]).groupby("customer_id")["amount"].sum()
    spend = spend.sort_values(ascending=False)
    top = spend.head(len(spend) // 10).sum() / spend.sum()
    assert top > 0.5
    # wholesalers buy in bulk
    biggest = lines[lines["customer_id"] == spend.index[0]]
    assert biggest.loc[biggest["quantity"] > 0, "quantity"].median() >= 12


def test_generate_demo_invoices_have_many_lines(lines):
    per_invoice = lines.groupby("invoice_no").size()
    assert per_invoice.median() >= 10
    assert per_invoice.max() >= 100


def test_generate_demo_invoice_numbers_increase_with_time(lines):
    invoices = lines.drop_duplicates("invoice_no")[["invoice_no", "invoice_date"]]
    number = invoices["invoice_no"].str.lstrip("CA")
    assert number.str.fullmatch(r"\d{6}").all()
    ordered = invoices.assign(number=number.astype("int64")).sort_values("number")
    assert ordered["invoice_date"].is_monotonic_increasing


def test_generate_demo_bundle_pair_bought_together(lines):
    baskets = lines[
        lines["is_product"] & ~lines["is_cancellation"] & ~lines["is_adjustment"]
    ].drop_duplicates(["invoice_no", "stock_code"])
    count = baskets["invoice_no"].nunique()
    holders = {
        code: set(baskets.loc[baskets["stock_code"] == code, "invoice_no"]) for code in BUNDLE_PAIR
    }
    first, second = (len(holders[c]) / count for c in BUNDLE_PAIR)
    both = len(holders[BUNDLE_PAIR[0]] & holders[BUNDLE_PAIR[1]]) / count
    assert both / (first * second) > 5
    assert both >= 0.01


def test_generate_demo_customers_vary_in_recency_and_frequency(lines):
    bought = lines[lines["customer_id"].notna() & ~lines["is_cancellation"]]
    invoices = bought.groupby("customer_id")["invoice_no"].nunique()
    assert 0.15 <= (invoices == 1).mean() <= 0.5  # one-time buyers
    in_2011 = bought[bought["invoice_date"].dt.year == 2011]
    months = in_2011.groupby("customer_id")["invoice_date"].agg(lambda d: d.dt.month.nunique())
    assert (months >= 11).sum() >= 5  # buy nearly every month
    last = bought.groupby("customer_id")["invoice_date"].max()
    spend = bought.groupby("customer_id")["amount"].sum()
    lapsed_big = (last < pd.Timestamp("2011-08-01")) & (spend > spend.quantile(0.9))
    assert lapsed_big.sum() >= 10  # big spenders who stopped buying
    first = bought.groupby("customer_id")["invoice_date"].min()
    assert (first >= pd.Timestamp("2011-09-01")).sum() >= 50  # newcomers


# --- the warehouse ---------------------------------------------------------------------------


def _count(engine, sql: str) -> int:
    with engine.connect() as conn:
        return int(conn.execute(text(sql)).scalar_one())


def _load_file_batch(engine):
    frame = _table(2_000, seed=99)
    empty = pd.DataFrame(columns=QUARANTINE_COLUMNS)
    return load_batch(
        engine,
        source_kind="file",
        source_name="some_export.csv",
        fingerprint="file:test",
        chunks=[(frame, empty)],
    )


def test_ensure_data_fills_empty_warehouse_once(duckdb_url, caplog):
    engine = get_engine(duckdb_url)
    caplog.set_level("WARNING", logger="lgs_analysis")
    assert ensure_data(engine) is True
    assert f"loaded {DEFAULT_ROWS:,} rows of demo data" in caplog.text
    assert _count(engine, "select count(*) from retail") == DEFAULT_ROWS
    with engine.connect() as conn:
        assert is_demo(conn)
    caplog.clear()
    assert ensure_data(engine) is True
    assert "demo data" not in caplog.text
    assert _count(engine, "select count(*) from retail") == DEFAULT_ROWS
    assert _count(engine, "select count(*) from load_batches") == 1


def test_ensure_data_keeps_real_data(duckdb_url):
    engine = get_engine(duckdb_url)
    _load_file_batch(engine)
    assert ensure_data(engine) is False
    assert is_demo(engine) is False
    assert _count(engine, "select count(*) from retail") == 2_000


def test_load_demo_refuses_a_warehouse_with_real_data(duckdb_url):
    engine = get_engine(duckdb_url)
    _load_file_batch(engine)
    with pytest.raises(MixedDataError, match="2,000 lines of real data"):
        load_demo(engine, n_rows=10_000)
    assert is_demo(engine) is False


def test_real_load_removes_the_demo_data_in_its_transaction(duckdb_url):
    engine = get_engine(duckdb_url)
    load_demo(engine, n_rows=10_000)
    assert is_demo(engine) is True
    result = _load_file_batch(engine)
    assert result.count_demo_removed == 10_000
    assert "removed the demo data (10,000 generated lines)" in result.summary()
    assert is_demo(engine) is False
    with engine.connect() as conn:
        kinds = [r[0] for r in conn.execute(text("select source_kind from load_batches"))]
        assert conn.execute(text("select count(*) from retail")).scalar_one() == 2_000
    assert kinds == ["file"]


def test_check_not_mixed_names_both_counts_and_the_fix(duckdb_url):
    from lgs_analysis.ingest.demo import check_not_mixed

    engine = get_engine(duckdb_url)
    load_demo(engine, n_rows=10_000)
    with engine.begin() as conn:  # a warehouse filled by hand or an older version
        conn.execute(text("update load_batches set count_loaded = 9000"))
        conn.execute(
            text(
                "insert into load_batches values (999, 'file', 'old.csv', 'x', 1000, 1000, 0, "
                "current_timestamp)"
            )
        )
    with pytest.raises(MixedDataError, match="9,000 demo lines and 1,000 real lines.*drop-demo"):
        check_not_mixed(engine)


def test_load_demo_loads_the_generated_lines_once(duckdb_url):
    engine = get_engine(duckdb_url)
    expected = _table(20_000, seed=5).to_pandas()
    first = load_demo(engine, n_rows=20_000, seed=5)
    assert (first.count_read, first.count_loaded, first.count_quarantined) == (20_000, 20_000, 0)
    again = load_demo(engine, n_rows=20_000, seed=5)
    assert again.skipped
    with engine.connect() as conn:
        row = conn.execute(
            text(
                "select count(*), count(distinct invoice_no), sum(quantity),"
                " sum(quantity * unit_price), count(customer_id) from retail"
            )
        ).one()
    assert row[0] == 20_000
    assert row[1] == expected["invoice_no"].nunique()
    assert row[2] == expected["quantity"].sum()
    assert float(row[3]) == pytest.approx((expected["quantity"] * expected["unit_price"]).sum())
    assert row[4] == expected["customer_id"].notna().sum()
    other = load_demo(engine, n_rows=15_000, seed=5)  # another size replaces the demo batch
    assert not other.skipped
    assert _count(engine, "select count(*) from retail") == 15_000


@pytest.mark.postgres
def test_ensure_data_postgres_loads_once_and_is_demo(pg_url):
    engine = get_engine(pg_url)
    load_demo(engine, n_rows=20_000)
    assert ensure_data(engine) is True
    assert _count(engine, "select count(*) from retail") == 20_000
    with engine.connect() as conn:
        assert is_demo(conn) is True
    expected = _table(20_000).to_pandas()
    total = _count(engine, "select round(sum(quantity * unit_price)) from retail")
    assert total == round((expected["quantity"] * expected["unit_price"]).sum())
    engine.dispose()


def test_generate_demo_prices_have_cents():
    prices = _table(20_000)["unit_price"].to_numpy()
    assert np.allclose(prices, np.round(prices, 2))


@pytest.mark.parametrize("backend", ["postgresql", "duckdb"])
def test_drop_demo_leaves_no_demo_invoice_behind(backend, request):
    from lgs_analysis.ingest.demo import remove_demo

    url = request.getfixturevalue("pg_url" if backend == "postgresql" else "duckdb_url")
    engine = get_engine(url)
    load_demo(engine, n_rows=5_000, seed=3)
    assert remove_demo(engine) == 5_000
    with engine.connect() as conn:
        left = conn.execute(text("select count(*) from retail_invoices")).scalar_one()
    engine.dispose()
    assert left == 0
    assert_derived_current(url)
