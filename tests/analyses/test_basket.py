"""Basket analysis: hand-made baskets, and a pair's support counted from the raw file."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import pytest

from lgs_analysis.analyses import basket, rfm
from lgs_analysis.warehouse import get_engine


def _items(baskets: dict[str, list[str]]) -> pd.DataFrame:
    rows = [(inv, code) for inv, codes in baskets.items() for code in codes]
    return pd.DataFrame(rows, columns=["invoice_no", "stock_code"])


def test_mine_rules_counts_baskets_without_items():
    items = _items({"1": ["A", "B"], "2": ["A", "B"], "3": ["A"], "4": ["C"]})
    # 10 baskets in all: support is over all of them, not only those listed
    rules = basket.mine_rules(items, 10, {"A": "apple", "B": "bread"}, 0.2, 0.5, 1.0, 10)
    ab = rules[(rules["antecedent_codes"] == "A") & (rules["consequent_codes"] == "B")].iloc[0]
    assert ab["support"] == pytest.approx(0.2)
    assert ab["confidence"] == pytest.approx(2 / 3)
    assert ab["lift"] == pytest.approx((2 / 3) / 0.2)
    assert ab["antecedents"] == "apple" and ab["consequents"] == "bread"
    assert list(rules.columns) == basket.RULE_COLUMNS


def test_mine_rules_empty_when_nothing_qualifies():
    rules = basket.mine_rules(_items({"1": ["A"], "2": ["B"]}), 2, None, 0.5, 0.5, 1.0, 10)
    assert rules.empty and list(rules.columns) == basket.RULE_COLUMNS


def test_mine_rules_rejects_bad_threshold():
    with pytest.raises(ValueError, match="min_support must be in"):
        basket.mine_rules(_items({"1": ["A"]}), 1, None, 0.0)


def test_rank_top_products_keeps_any_top_n():
    products = pd.DataFrame(
        {
            "stock_code": ["a", "b", "c"],
            "description": ["A", "B", "C"],
            "invoices": [10, 5, 1],
            "net_quantity": [1, 2, 100],
            "net_revenue": [1.0, 50.0, 2.0],
            # gross values never rank: "a" sold 1,000 units but 999 were cancelled
            "gross_quantity": [1000, 2, 100],
            "gross_revenue": [999.0, 50.0, 2.0],
        }
    )
    top = basket.rank_top_products(products, 1)
    assert sorted(top["stock_code"]) == ["a", "b", "c"]
    ranked = top.set_index("stock_code")
    assert ranked.loc["c", "rank_by_quantity"] == 1
    assert ranked.loc["b", "rank_by_revenue"] == 1


def test_select_promotion_pairs_one_direction_per_pair():
    rules = pd.DataFrame(
        {
            "antecedent_codes": ["A", "B", "A|B"],
            "consequent_codes": ["B", "A", "C"],
            "antecedents": ["a", "b", "a|b"],
            "consequents": ["b", "a", "c"],
            "support": [0.2, 0.2, 0.1],
            "confidence": [0.6, 0.9, 0.9],
            "lift": [3.0, 3.0, 4.0],
        }
    )
    pairs = basket.select_promotion_pairs(rules)
    assert pairs[["antecedent_codes", "consequent_codes"]].values.tolist() == [["B", "A"]]


def test_pick_segment_products_prefers_what_the_segment_buys_more():
    scored = pd.DataFrame({"customer_id": [1, 2, 3, 4], "segment": ["S", "S", "T", "T"]})
    bought = pd.DataFrame(
        {"customer_id": [1, 2, 1, 3, 4, 3], "stock_code": ["x", "x", "y", "y", "y", "z"]}
    )
    picked = basket.pick_segment_products(bought, scored, ["S"], min_buyer_share=0.1)
    assert picked["stock_code"].tolist() == ["x"]
    assert picked["buyer_share"].iloc[0] == 1.0


@pytest.fixture(scope="module")
def real_rules(real_duckdb_url):
    engine = get_engine(real_duckdb_url)
    with engine.connect() as conn:
        products, count = basket.fetch_products(conn, date(2011, 1, 1), date(2012, 1, 1))
        items = basket.fetch_basket_items(conn, date(2011, 1, 1), date(2012, 1, 1), 0.02)
    names = products.set_index("stock_code")["description"]
    return basket.mine_rules(items, count, names, 0.02, 0.5, 5.0, 30), products, count


def _raw_baskets(frame: pd.DataFrame) -> pd.DataFrame:
    when = pd.to_datetime(frame["InvoiceDate"], format="mixed")
    keep = (
        (when >= "2011-01-01")
        & (when < "2012-01-01")
        & ~frame["InvoiceNo"].str.startswith(("C", "A"))
        & frame["StockCode"].str[:1].str.isdigit()
        & (frame["Quantity"].astype(int) > 0)
        & (frame["UnitPrice"].astype(float) > 0)  # a £0 stock correction buys nothing
    )
    return frame.loc[keep, ["InvoiceNo", "StockCode"]].drop_duplicates()


def test_mine_rules_real_pair_support_matches_raw_count(real_rules, real_frame):
    rules, _, count = real_rules
    assert 10 <= len(rules) <= 40
    lines = _raw_baskets(real_frame)
    baskets = lines["InvoiceNo"].nunique()
    assert count == baskets
    holders = lines.groupby("StockCode")["InvoiceNo"].apply(set)
    pairs = basket.select_promotion_pairs(rules)
    assert len(pairs) >= 5
    for row in pairs.head(5).itertuples():
        both = holders[row.antecedent_codes] & holders[row.consequent_codes]
        assert row.support == pytest.approx(len(both) / baskets)
        assert row.confidence == pytest.approx(len(both) / len(holders[row.antecedent_codes]))


def test_fetch_products_real_top_invoices_match_raw(real_rules, real_frame):
    _, products, _ = real_rules
    lines = _raw_baskets(real_frame)
    expected = lines.groupby("StockCode")["InvoiceNo"].nunique()
    got = products.set_index("stock_code")["invoices"]
    top = expected.sort_values(ascending=False).head(10)
    assert got.reindex(top.index).tolist() == top.tolist()


def test_pick_segment_products_real_focus_segments(real_duckdb_url):
    engine = get_engine(real_duckdb_url)
    with engine.connect() as conn:
        bought = basket.fetch_customer_products(conn, date(2011, 1, 1), date(2012, 1, 1))
        basis, _ = rfm.fetch_rfm_basis(conn, date(2011, 1, 1), date(2012, 1, 1))
    scored = rfm.score_rfm(basis)
    picked = basket.pick_segment_products(
        bought, scored, ["Champions", "Can't Lose", "Hibernating"]
    )
    assert set(picked["segment"]) == {"Champions", "Can't Lose", "Hibernating"}
    assert (picked["index_vs_others"].dropna() > 1).all()


@pytest.mark.parametrize(
    ("start", "end", "max_len"),
    [
        (date(2011, 1, 1), date(2012, 1, 1), 4),
        (date(2011, 11, 1), date(2011, 12, 1), 3),
        (date(2011, 11, 1), date(2011, 12, 1), 4),
    ],
    ids=["2011-sets-of-4", "2011-11-sets-of-3", "2011-11-sets-of-4"],
)
def test_mine_rules_equals_mlxtend_on_real_data(real_duckdb_url, start, end, max_len):
    """The exact counter gives mlxtend's fpgrowth + association_rules result, rule for rule."""
    import math

    import numpy as np
    from mlxtend.frequent_patterns import association_rules, fpgrowth

    engine = get_engine(real_duckdb_url)
    with engine.connect() as conn:
        _, count = basket.fetch_products(conn, start, end)
        items = basket.fetch_basket_items(conn, start, end, 0.02)
    ours = basket.mine_rules(items, count, None, 0.02, 0.5, 5.0, 10**6, max_len)
    pairs = items.drop_duplicates()
    baskets, codes = pd.Categorical(pairs["invoice_no"]), pd.Categorical(pairs["stock_code"])
    onehot = np.zeros((len(baskets.categories), len(codes.categories)), dtype=bool)
    onehot[baskets.codes, codes.codes] = True
    rows, least = onehot.shape[0], math.ceil(0.02 * count - 1e-9)
    frequent = fpgrowth(
        pd.DataFrame(onehot, columns=[str(c) for c in codes.categories]),
        min_support=(least - 0.5) / rows,
        use_colnames=True,
        max_len=max_len,
    )
    frequent["support"] = frequent["support"] * rows / count
    reference = association_rules(frequent, num_itemsets=count, min_threshold=0.5)
    reference = reference[reference["lift"] >= 5.0]
    want = {
        ("|".join(sorted(a)), "|".join(sorted(c))): (s, f, lift)
        for a, c, s, f, lift in zip(
            reference["antecedents"],
            reference["consequents"],
            reference["support"],
            reference["confidence"],
            reference["lift"],
            strict=True,
        )
    }
    got = {
        (r.antecedent_codes, r.consequent_codes): (r.support, r.confidence, r.lift)
        for r in ours.itertuples()
    }
    assert got.keys() == want.keys() and len(got) >= 50
    for key, values in got.items():
        assert values == pytest.approx(want[key], rel=1e-12), key


def test_mine_basket_rules_ranks_names_and_counts_like_the_full_list():
    # 400 baskets from 12 products, some always bought together: thousands of rules
    rng = np.random.default_rng(7)
    rows = []
    for invoice in range(400):
        bundle = ["A", "B", "C", "D"] if invoice % 3 == 0 else []
        extra = list(rng.choice(list("EFGHIJKL"), size=rng.integers(1, 6), replace=False))
        rows += [(f"{invoice}", code) for code in bundle + extra]
    items = pd.DataFrame(rows, columns=["invoice_no", "stock_code"])
    every = basket.mine_rules(items, 420, None, 0.02, 0.1, 1.0, 10**9, 4)
    mined = basket.mine_basket_rules(items, 420, None, 0.02, 0.1, 1.0, 7, 4)
    assert mined.count_rules == len(every) > 1000
    pd.testing.assert_frame_equal(mined.rules, every.head(7))
    one_to_one = every[
        ~every["antecedent_codes"].str.contains("|", regex=False)
        & ~every["consequent_codes"].str.contains("|", regex=False)
    ].reset_index(drop=True)
    pd.testing.assert_frame_equal(mined.pair_rules, one_to_one)


@pytest.mark.parametrize("count", [40, 5_000])
def test_strongest_rules_are_those_a_full_sort_ranks_first(count):
    from lgs_analysis.analyses.basket import _RuleArrays

    rng = np.random.default_rng(count)
    lift = rng.choice([5.0, 6.0, 7.5, 9.25, 10.0], count) + rng.choice([0, 1e-12], count)
    confidence = rng.choice([0.5, 0.6, 0.75, 1.0], count)
    blank = np.zeros(count, dtype=int)
    rules = _RuleArrays(np.zeros(count), confidence, lift, blank, blank, [])
    lifts, confidences = np.round(lift, 9), np.round(confidence, 9)
    for max_rules in (1, 7, 30, count - 1):
        last = np.lexsort((-confidences, -lifts))[max_rules - 1]
        expected = np.flatnonzero(
            (lifts > lifts[last]) | ((lifts == lifts[last]) & (confidences >= confidences[last]))
        )
        assert np.array_equal(rules.strongest(max_rules), expected)


@pytest.mark.parametrize("max_len", [4, 20])  # 20: item keys overflow, the slow path
def test_frequent_itemsets_count_every_itemset_a_brute_force_finds(max_len):
    from itertools import combinations

    rng = np.random.default_rng(max_len)
    onehot = rng.random((120, 15)) < 0.35
    expected = {}
    for size in range(1, min(max_len, 15) + 1):
        for itemset in combinations(range(15), size):
            count = int(onehot[:, list(itemset)].all(axis=1).sum())
            if count >= 4:
                expected[itemset] = count
    assert basket.frequent_itemsets(onehot, 4, max_len) == expected
    assert max(map(len, expected)) >= 4  # the data reaches the levels the miner extends


@pytest.mark.parametrize(
    "block_bytes", [5 * 15 * 16, 5 * 15 * 50, 1 << 20], ids=["16", "50", "all"]
)
def test_frequent_itemsets_in_blocks_count_what_a_brute_force_finds(block_bytes):
    """Baskets counted 16 or 50 at a time give the counts of a brute force over all."""
    from itertools import combinations

    from lgs_analysis.analyses.itemsets import MiningBudget

    rng = np.random.default_rng(3)
    onehot = rng.random((203, 15)) < 0.4
    expected = {
        itemset: count
        for size in range(1, 5)
        for itemset in combinations(range(15), size)
        if (count := int(onehot[:, list(itemset)].all(axis=1).sum())) >= 6
    }
    budget = MiningBudget(10**6, 10**6, block_bytes)
    assert basket.frequent_itemsets(onehot, 6, 4, budget) == expected


def _bundles(seed: int, baskets: int, products: int, size: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    rows = [
        (str(b), f"P{p:03d}")
        for b in range(baskets)
        for p in rng.choice(products, size=rng.integers(1, size), replace=False)
    ]
    return pd.DataFrame(rows, columns=["invoice_no", "stock_code"])


@pytest.mark.parametrize(
    ("seed", "products", "size", "what"),
    [
        (1, 150, 12, "candidates (sets of 2"),  # too many products for their pairs
        (2, 40, 30, "(sets of 3"),  # large baskets: the sets of 3 overflow
        (3, 60, 25, "(sets of"),
    ],
)
def test_mine_basket_rules_past_its_memory_names_the_smallest_min_support(
    seed, products, size, what
):
    """A min_support finding more than LGS_MEMORY_LIMIT holds stops (exit 2), naming the
    smallest min_support that fits: that one mines, one basket fewer does not."""
    import math

    from lgs_analysis.exceptions import ParameterError

    items = _bundles(seed, 400, products, size)
    limit = 256 * 1024  # a budget of 1,000 itemsets and 1,000 candidates
    with pytest.raises(ParameterError, match=r"min_support=0\.01 finds more than") as caught:
        basket.mine_basket_rules(items, 400, None, 0.01, 0.5, 1.0, 10, 4, memory_limit=limit)
    message = str(caught.value)
    assert what in message and "LGS_MEMORY_LIMIT=0.0 GB" in message and caught.value.exit_code == 2
    fits = float(message.split("smallest min_support that fits is ")[1].split(" ")[0])
    least = math.ceil(fits * 400 - 1e-9)
    basket.mine_basket_rules(items, 400, None, fits, 0.5, 1.0, 10, 4, memory_limit=limit)
    with pytest.raises(ParameterError):
        basket.mine_basket_rules(
            items, 400, None, (least - 1) / 400, 0.5, 1.0, 10, 4, memory_limit=limit
        )


@pytest.mark.parametrize(
    ("start", "end", "limit"),
    [
        (date(2011, 1, 1), date(2012, 1, 1), 256 * 1024**2),  # 4 blocks of 4,000 baskets
        (date(2011, 11, 1), date(2011, 12, 1), 40 * 1024**2),  # 21 blocks of 140
    ],
    ids=["2011-4-blocks", "2011-11-21-blocks"],
)
def test_mine_warehouse_rules_streams_the_rules_of_the_whole_frame(
    real_duckdb_url, start, end, limit
):
    """Baskets streamed from the warehouse in blocks give exactly the rules of the whole
    (basket, item) frame, which the mlxtend test checks against fpgrowth."""
    engine = get_engine(real_duckdb_url)
    with engine.connect() as conn:
        products, count = basket.fetch_products(conn, start, end)
        items = basket.fetch_basket_items(conn, start, end, 0.02)
        streamed = basket.mine_warehouse_rules(
            conn, start, end, 0.02, 0.5, 5.0, 10**6, 4, memory_limit=limit
        )
    whole = basket.mine_basket_rules(items, count, None, 0.02, 0.5, 5.0, 10**6, 4)
    assert streamed.count_rules == whole.count_rules >= 50
    assert streamed.count_frequent_items == items["stock_code"].nunique()
    pd.testing.assert_frame_equal(streamed.rules, whole.rules)
    pd.testing.assert_frame_equal(streamed.pair_rules, whole.pair_rules)
    names = products.set_index("stock_code")["description"]
    described = basket.mine_basket_rules(items, count, names, 0.02, 0.5, 5.0, 10**6, 4)
    pd.testing.assert_frame_equal(streamed.described(names).rules, described.rules)


@pytest.mark.postgres
def test_mine_warehouse_rules_streams_from_postgres_as_from_duckdb(real_duckdb_url, real_pg_url):
    """A server-side cursor on PostgreSQL streams the same baskets, in 21 blocks."""
    start, end = date(2011, 11, 1), date(2011, 12, 1)
    mined = {}
    for url in (real_duckdb_url, real_pg_url):
        engine = get_engine(url)
        with engine.connect() as conn:
            mined[url] = basket.mine_warehouse_rules(
                conn, start, end, 0.02, 0.5, 5.0, 10**6, 4, memory_limit=40 * 1024**2
            )
        engine.dispose()
    duck, pg = mined[real_duckdb_url], mined[real_pg_url]
    assert pg.count_rules == duck.count_rules >= 50
    pd.testing.assert_frame_equal(pg.rules, duck.rules)
