"""Products bought together: top products, frequent itemsets and association rules.

A **basket** is an invoice of the window that is neither a cancellation (``C...``) nor
an adjustment (``A...``) with at least one product purchase line (positive quantity and
price); its **items** are the stock codes of those lines (``is_basket_item`` in
``sql/schema/retail_lines.sql``). The **support** of an itemset is the share of baskets
that hold it. :func:`mine_warehouse_rules` streams the baskets' frequent items from the warehouse in
blocks (``sql/analyses/basket_item_stream.sql``), and :mod:`.itemsets` counts every
frequent itemset exactly (level-wise, numpy) within a budget from ``LGS_MEMORY_LIMIT``;
the rules' confidence and lift follow from those counts. The result is the same as
mlxtend's fpgrowth and association_rules (a test compares them on the real data), in a
small fraction of the time.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime
from itertools import chain, combinations

import numpy as np
import pandas as pd
from sqlalchemy.engine import Connection, Engine

from ..config import get_settings
from ..exceptions import ParameterError
from ..warehouse import run_query, stream_query
from .itemsets import MiningBudget, TooManyItemsets, blocks_of, count_itemsets

__all__ = [
    "PRODUCT_COLUMNS",
    "TOP_PRODUCT_COLUMNS",
    "RULE_COLUMNS",
    "SEGMENT_PRODUCT_COLUMNS",
    "fetch_products",
    "fetch_basket_items",
    "fetch_customer_products",
    "rank_top_products",
    "mine_rules",
    "RuleMining",
    "mine_basket_rules",
    "mine_warehouse_rules",
    "frequent_itemsets",
    "select_promotion_pairs",
    "pick_segment_products",
]

PRODUCT_COLUMNS = [
    "stock_code",
    "description",
    "invoices",
    "net_quantity",
    "net_revenue",
    "gross_quantity",
    "gross_revenue",
]
TOP_PRODUCT_COLUMNS = [
    *PRODUCT_COLUMNS,
    "rank_by_invoices",
    "rank_by_quantity",
    "rank_by_revenue",
]
RULE_COLUMNS = [
    "antecedent_codes",
    "consequent_codes",
    "antecedents",
    "consequents",
    "support",
    "confidence",
    "lift",
]
SEGMENT_PRODUCT_COLUMNS = [
    "segment",
    "stock_code",
    "description",
    "buyers",
    "buyer_share",
    "purchase_share",
    "others_purchase_share",
    "index_vs_others",
    "promote_stock_code",
    "promote_description",
    "promote_confidence",
]
_RANKS = {
    "rank_by_invoices": "invoices",
    "rank_by_quantity": "net_quantity",
    "rank_by_revenue": "net_revenue",
}

Conn = Connection | Engine


def _dt(day: date) -> datetime:
    return datetime(day.year, day.month, day.day)


def _check_columns(frame: pd.DataFrame, columns: list[str], what: str) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise ValueError(f"{what} lacks column(s) {missing}; it has {list(frame.columns)}")


def _check_fraction(name: str, value: float) -> None:
    if not 0 < value <= 1:
        raise ValueError(f"{name} must be in (0, 1], got {value!r}")


def fetch_products(conn: Conn, start: date, end: date) -> tuple[pd.DataFrame, int]:
    """Every product bought in a basket in [start, end), and the number of baskets.

    Returns
    -------
    products : DataFrame
        Columns :data:`PRODUCT_COLUMNS`: ``invoices`` = baskets holding the product;
        ``gross_quantity`` and ``gross_revenue`` = units and amount of its basket lines;
        ``net_quantity`` and ``net_revenue`` = the same plus the window's cancellation
        lines of the stock code; ``description`` is the stock code's most frequent
        description in the window.
    count_baskets : int
        Baskets in the window (0 when there is none).
    """
    raw = run_query(conn, "analyses/basket_products", start=_dt(start), end=_dt(end))
    total = int(raw["count_baskets_total"].iloc[0]) if len(raw) else 0
    products = pd.DataFrame(
        {
            "stock_code": raw["stock_code"].astype(str),
            "description": raw["description"].astype(str),
            "invoices": raw["count_baskets"].astype("int64"),
            "net_quantity": raw["net_quantity"].astype("int64"),
            "net_revenue": raw["net_revenue"].astype("float64"),
            "gross_quantity": raw["gross_quantity"].astype("int64"),
            "gross_revenue": raw["gross_revenue"].astype("float64"),
        }
    )
    return products, total


def fetch_basket_items(conn: Conn, start: date, end: date, min_support: float) -> pd.DataFrame:
    """The (invoice_no, stock_code) pairs of the baskets whose item has ``min_support``.

    Every pair at once: for tests and small windows. Reports mine with
    :func:`mine_warehouse_rules`, which never holds them."""
    _check_fraction("min_support", min_support)
    raw = run_query(
        conn,
        "analyses/basket_items",
        start=_dt(start),
        end=_dt(end),
        min_support=float(min_support),
    )
    return pd.DataFrame(
        {"invoice_no": raw["invoice_no"].astype(str), "stock_code": raw["stock_code"].astype(str)}
    )


def fetch_customer_products(conn: Conn, start: date, end: date) -> pd.DataFrame:
    """One row per (customer_id, stock_code) bought in [start, end).

    Columns ``count_baskets`` (the customer's baskets holding it), ``quantity`` (units),
    ``product_rank`` (its place among the customer's: most baskets, then units, then
    stock code) and ``description`` (on the top three only, else None).
    """
    raw = run_query(conn, "analyses/customer_products", start=_dt(start), end=_dt(end))
    return pd.DataFrame(
        {
            "customer_id": raw["customer_id"].astype("int64"),
            "stock_code": raw["stock_code"].astype(str),
            "count_baskets": raw["count_baskets"].astype("int64"),
            "quantity": raw["quantity"].astype("int64"),
            "product_rank": raw["product_rank"].astype("int64"),
            "description": raw["description"].astype("object"),
        }
    )


def rank_top_products(products: pd.DataFrame, top_n: int = 10) -> pd.DataFrame:
    """The products in the top ``top_n`` by invoices, by net quantity or by net revenue.

    Returns
    -------
    DataFrame
        Columns :data:`TOP_PRODUCT_COLUMNS` (ranks are 1 = most; ties by stock code),
        sorted by rank by invoices. Quantity and revenue ranks use the net values, so an
        order cancelled in the window does not make a top product.
    """
    _check_columns(products, PRODUCT_COLUMNS, "products")
    if products.empty:
        return pd.DataFrame({c: pd.Series(dtype="object") for c in TOP_PRODUCT_COLUMNS})
    frame = products[PRODUCT_COLUMNS].sort_values("stock_code", ignore_index=True)
    for rank, measure in _RANKS.items():
        frame[rank] = frame[measure].rank(ascending=False, method="first").astype("int64")
    keep = (frame[list(_RANKS)] <= top_n).any(axis=1)
    return frame[keep].sort_values("rank_by_invoices", ignore_index=True)[TOP_PRODUCT_COLUMNS]


def _empty_rules() -> pd.DataFrame:
    frame = pd.DataFrame({c: pd.Series(dtype="object") for c in RULE_COLUMNS[:4]})
    for c in RULE_COLUMNS[4:]:
        frame[c] = pd.Series(dtype="float64")
    return frame


def mine_rules(
    items: pd.DataFrame,
    count_baskets: int,
    descriptions: pd.Series | dict[str, str] | None = None,
    min_support: float = 0.02,
    min_confidence: float = 0.5,
    min_lift: float = 5.0,
    max_rules: int = 30,
    max_len: int = 4,
) -> pd.DataFrame:
    """Association rules among the baskets' items (exact frequent itemsets, then rules).

    Parameters
    ----------
    items : DataFrame
        Columns ``invoice_no`` and ``stock_code``, one row per item of a basket. Baskets
        without any row here still count through ``count_baskets``.
    count_baskets : int
        All baskets of the window: the denominator of support.
    descriptions : Series or dict, optional
        Stock code -> description (default: the code itself).
    min_support : float (default: 0.02)
        Least share of baskets holding the whole rule (antecedents and consequents).
    min_confidence : float (default: 0.5)
        Least share of the baskets with the antecedents that also hold the consequents.
    min_lift : float (default: 5.0)
        Least ratio of the confidence to the consequents' own support.
    max_rules : int (default: 30)
        Rules kept, strongest lift first.
    max_len : int (default: 4)
        Largest itemset mined.

    Returns
    -------
    DataFrame
        Columns :data:`RULE_COLUMNS`: codes and descriptions joined with ``|`` in
        stock-code order; sorted by lift, then confidence, descending. Empty with those
        columns when nothing qualifies.

    Raises
    ------
    ValueError
        If a threshold is out of range or ``items`` lacks a column.
    """
    return mine_basket_rules(
        items,
        count_baskets,
        descriptions,
        min_support,
        min_confidence,
        min_lift,
        max_rules,
        max_len,
    ).rules


@dataclass(frozen=True)
class RuleMining:
    """What :func:`mine_basket_rules` found.

    ``rules``: the ``max_rules`` strongest rules (columns :data:`RULE_COLUMNS`);
    ``pair_rules``: every qualifying rule of one product to one product, in the same
    order; ``count_rules``: how many rules qualify in all; ``count_frequent_items``: the
    products in at least ``min_support`` of the baskets.
    """

    rules: pd.DataFrame
    pair_rules: pd.DataFrame
    count_rules: int
    count_frequent_items: int = 0

    def described(self, descriptions: pd.Series | dict[str, str]) -> RuleMining:
        """The same rules with ``antecedents`` and ``consequents`` named by ``descriptions``."""
        names = dict(descriptions)

        def name(frame: pd.DataFrame) -> pd.DataFrame:
            frame = frame.copy()
            for codes, text in (
                ("antecedent_codes", "antecedents"),
                ("consequent_codes", "consequents"),
            ):
                frame[text] = [
                    "|".join(names.get(c, c) for c in value.split("|")) for value in frame[codes]
                ]
            return frame

        return RuleMining(
            name(self.rules), name(self.pair_rules), self.count_rules, self.count_frequent_items
        )


def _check_thresholds(
    min_support: float, min_confidence: float, min_lift: float, max_rules: int, max_len: int
) -> None:
    _check_fraction("min_support", min_support)
    _check_fraction("min_confidence", min_confidence)
    if min_lift < 0 or max_rules < 0 or max_len < 2:
        raise ValueError(
            f"need min_lift >= 0, max_rules >= 0 and max_len >= 2; "
            f"got {min_lift!r}, {max_rules!r}, {max_len!r}"
        )


def mine_basket_rules(
    items: pd.DataFrame,
    count_baskets: int,
    descriptions: pd.Series | dict[str, str] | None = None,
    min_support: float = 0.02,
    min_confidence: float = 0.5,
    min_lift: float = 5.0,
    max_rules: int = 30,
    max_len: int = 4,
    memory_limit: int | None = None,
) -> RuleMining:
    """Mine the rules once; name only the strongest, the one-to-one ones, and count them all.

    Parameters and rules as for :func:`mine_rules`; ``memory_limit`` (default:
    ``LGS_MEMORY_LIMIT``) bounds the mining (:class:`~.itemsets.MiningBudget`). A month
    of wholesale baskets can hold millions of qualifying rules (2011-01 of the real data:
    6.5 million at the default thresholds); they are ranked on their numbers, and only
    the rules returned are turned into text.

    Returns
    -------
    RuleMining

    Raises
    ------
    ParameterError
        When ``min_support`` finds more itemsets than the budget holds; it names the
        smallest ``min_support`` that fits.
    """
    _check_columns(items, ["invoice_no", "stock_code"], "basket items")
    _check_thresholds(min_support, min_confidence, min_lift, max_rules, max_len)
    pairs = items[["invoice_no", "stock_code"]].drop_duplicates()
    if pairs.empty or count_baskets <= 0:
        return RuleMining(_empty_rules(), _empty_rules(), 0)
    if pairs["invoice_no"].nunique() > count_baskets:
        raise ValueError(
            f"count_baskets={count_baskets} is less than the {pairs['invoice_no'].nunique()} "
            "baskets in items"
        )
    basket = pd.Categorical(pairs["invoice_no"])
    item = pd.Categorical(pairs["stock_code"])
    order = np.argsort(basket.codes, kind="stable")
    numbers = (basket.codes[order].astype(np.int64), item.codes[order].astype(np.int64))
    n_items = len(item.categories)
    limit = memory_limit or get_settings().memory_limit
    budget = MiningBudget.from_memory(limit, max_len)

    def blocks() -> Iterable[np.ndarray]:
        return blocks_of([numbers], n_items, budget.block_baskets(n_items))

    counts = _count_within(blocks, n_items, count_baskets, min_support, max_len, budget, limit)
    codes_of = [str(c) for c in item.categories]
    return _mine_counts(
        counts, codes_of, count_baskets, descriptions, min_confidence, min_lift, max_rules
    )


def mine_warehouse_rules(
    conn: Conn,
    start: date,
    end: date,
    min_support: float = 0.02,
    min_confidence: float = 0.5,
    min_lift: float = 5.0,
    max_rules: int = 30,
    max_len: int = 4,
    memory_limit: int | None = None,
) -> RuleMining:
    """:func:`mine_basket_rules` over the baskets of [start, end), streamed from the
    warehouse in blocks: Python never holds the (basket, item) pairs, only one block of
    baskets, the itemsets and one level's candidates (bounded by ``memory_limit``).

    The warehouse numbers the baskets and frequent items
    (``sql/analyses/basket_frequent_items.sql``, ``basket_item_stream.sql``); each itemset
    size reads the baskets once more. The rules name products by stock code: give them
    descriptions with :meth:`RuleMining.described`.

    Raises
    ------
    ParameterError
        As :func:`mine_basket_rules`.
    """
    _check_thresholds(min_support, min_confidence, min_lift, max_rules, max_len)
    window = {"start": _dt(start), "end": _dt(end), "min_support": float(min_support)}
    frequent = run_query(conn, "analyses/basket_frequent_items", **window)
    if frequent.empty:
        return RuleMining(_empty_rules(), _empty_rules(), 0)
    count_baskets = int(frequent["count_baskets_total"].iloc[0])
    codes_of = frequent.sort_values("item_number")["stock_code"].astype(str).tolist()
    n_items = len(codes_of)
    limit = memory_limit or get_settings().memory_limit
    budget = MiningBudget.from_memory(limit, max_len)
    chunk_rows = max(10_000, budget.block_bytes // 64)

    def blocks() -> Iterable[np.ndarray]:
        chunks = (
            (
                chunk["basket_number"].to_numpy(np.int64) - 1,
                chunk["item_number"].to_numpy(np.int64) - 1,
            )
            for chunk in stream_query(conn, "analyses/basket_item_stream", chunk_rows, **window)
        )
        return blocks_of(chunks, n_items, budget.block_baskets(n_items))

    counts = _count_within(blocks, n_items, count_baskets, min_support, max_len, budget, limit)
    return _mine_counts(counts, codes_of, count_baskets, None, min_confidence, min_lift, max_rules)


_SEARCH_TRIES = 6  # minings at a higher least count to find the smallest that fits


def _count_within(
    blocks: Callable[[], Iterable[np.ndarray]],
    n_items: int,
    count_baskets: int,
    min_support: float,
    max_len: int,
    budget: MiningBudget,
    memory_limit: int,
) -> dict[tuple, int]:
    """The exact itemset counts, or ParameterError naming the smallest ``min_support``
    that fits ``budget`` (found by mining again at each bound the overflow gives)."""
    min_count = math.ceil(min_support * count_baskets - 1e-9)  # exact, whatever the float
    try:
        return count_itemsets(blocks, n_items, max(min_count, 1), max_len, budget)
    except TooManyItemsets as first:
        overflow = first
    least, exact = overflow.at_least, False
    for _ in range(_SEARCH_TRIES):
        try:
            count_itemsets(blocks, n_items, least, max_len, budget)
        except TooManyItemsets as again:
            least = max(again.at_least, least + 1)
            continue
        exact = True
        break
    fits = _support_for(least, count_baskets)
    raise ParameterError(
        f"min_support={min_support:g} finds more than {overflow.limit:,} {overflow.what} "
        f"(sets of {overflow.size} products here) in {count_baskets:,} baskets: more than "
        f"the basket mining may hold, a quarter of LGS_MEMORY_LIMIT="
        f"{memory_limit / 1024**3:.1f} GB. The smallest min_support that fits is "
        f"{'' if exact else 'at least '}{fits} (max_itemset_size={max_len}); raise "
        "min_support, lower max_itemset_size or raise LGS_MEMORY_LIMIT"
    )


def _support_for(least: int, count_baskets: int) -> str:
    """The shortest decimal whose least basket count is ``least``."""
    for digits in range(2, 12):
        text = f"{least / count_baskets:.{digits}g}"
        if math.ceil(float(text) * count_baskets - 1e-9) == least:
            return text
    return repr(least / count_baskets)


def _mine_counts(
    counts: dict[tuple, int],
    codes_of: list[str],
    count_baskets: int,
    descriptions: pd.Series | dict[str, str] | None,
    min_confidence: float,
    min_lift: float,
    max_rules: int,
) -> RuleMining:
    """The rules of the exact itemset ``counts`` (items numbered as in ``codes_of``)."""
    found = _RuleArrays.from_counts(counts, count_baskets, min_confidence, min_lift)
    if found is None:  # item numbers too large for integer keys: count in Python
        rules = _rules_from_counts(counts, count_baskets, min_confidence, min_lift)
        strongest_rules = _strongest(rules, max_rules)
        one_to_one = [r for r in rules if len(r[0]) == 1 and len(r[1]) == 1]
        count_rules = len(rules)
    else:
        strongest_rules = found.rules(found.strongest(max_rules))
        one_to_one = found.rules(found.one_to_one())
        count_rules = found.count
    count_frequent_items = sum(len(itemset) == 1 for itemset in counts)
    if not count_rules:
        return RuleMining(_empty_rules(), _empty_rules(), 0, count_frequent_items)
    names = dict(descriptions) if descriptions is not None else {}
    strongest = _describe_rules(strongest_rules, codes_of, names).head(max_rules)
    return RuleMining(
        strongest,
        _describe_rules(one_to_one, codes_of, names),
        count_rules,
        count_frequent_items,
    )


@dataclass
class _RuleArrays:
    """Every qualifying rule as arrays, computed itemset size by itemset size in numpy.

    Itemsets of one size are rows of an integer matrix; the baskets holding a rule's
    antecedent and consequent are looked up by an integer key of their sorted items
    (``sum(item * base ** position)``). Same arithmetic as :func:`_rules_from_counts`,
    so the same floats.
    """

    support: np.ndarray
    confidence: np.ndarray
    lift: np.ndarray
    block: np.ndarray  # which (itemsets, antecedent positions) block a rule comes from
    row: np.ndarray  # its itemset's row in that block's matrix
    blocks: list[tuple[np.ndarray, tuple[int, ...], tuple[int, ...]]]

    @property
    def count(self) -> int:
        return len(self.support)

    @classmethod
    def from_counts(
        cls, counts: dict[tuple, int], count_baskets: int, min_confidence: float, min_lift: float
    ) -> _RuleArrays | None:
        by_size: dict[int, list[tuple]] = {}
        for itemset in counts:
            by_size.setdefault(len(itemset), []).append(itemset)
        if not counts:
            return None
        matrices = {
            k: np.fromiter(chain.from_iterable(itemsets), np.int64, len(itemsets) * k).reshape(
                len(itemsets), k
            )
            for k, itemsets in by_size.items()
        }
        base = max(int(matrix.max()) for matrix in matrices.values()) + 1
        if base ** max(by_size) >= 2**62:
            return None
        weights = {k: base ** np.arange(k - 1, -1, -1, dtype=np.int64) for k in by_size}
        tables: dict[int, tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]] = {}
        for k, itemsets in by_size.items():
            matrix = matrices[k]
            keys = matrix @ weights[k]
            held = np.fromiter((counts[i] for i in itemsets), np.int64, len(itemsets))
            order = np.argsort(keys)
            tables[k] = (matrix, keys[order], held[order], held)

        def lookup(sub: np.ndarray) -> np.ndarray:
            _, keys, held, _ = tables[sub.shape[1]]
            return held[np.searchsorted(keys, sub @ weights[sub.shape[1]])]

        parts: list[tuple[np.ndarray, ...]] = []
        blocks: list[tuple[np.ndarray, tuple[int, ...], tuple[int, ...]]] = []
        for k in sorted(by_size):
            if k < 2:
                continue
            matrix, _, _, held = tables[k]
            support = held / count_baskets
            for size in range(1, k):
                for antecedent in combinations(range(k), size):
                    consequent = tuple(p for p in range(k) if p not in antecedent)
                    confidence = held / lookup(matrix[:, list(antecedent)])
                    lift = confidence / (lookup(matrix[:, list(consequent)]) / count_baskets)
                    rows = np.flatnonzero((confidence >= min_confidence) & (lift >= min_lift))
                    blocks.append((matrix, antecedent, consequent))
                    parts.append(
                        (
                            support[rows],
                            confidence[rows],
                            lift[rows],
                            np.full(len(rows), len(blocks) - 1),
                            rows,
                        )
                    )
        if not parts:
            empty = np.empty(0)
            return cls(empty, empty, empty, empty.astype(int), empty.astype(int), [])
        columns = [np.concatenate(c) for c in zip(*parts, strict=True)]
        return cls(*columns, blocks)

    def strongest(self, max_rules: int) -> np.ndarray:
        """Positions of the rules that can rank among the first ``max_rules`` (ties kept)."""
        if self.count <= max_rules:
            return np.arange(self.count)
        if max_rules == 0:
            return np.arange(0)
        lift, confidence = np.round(self.lift, 9), np.round(self.confidence, 9)
        # only rules with a lift of at least the max_rules-th largest can rank that high:
        # sort those few instead of millions (2011-01: 6.5M rules, 0.9 s -> 0.1 s)
        floor = np.partition(lift, self.count - max_rules)[self.count - max_rules]
        candidates = np.flatnonzero(lift >= floor)
        order = np.lexsort((-confidence[candidates], -lift[candidates]))
        last = candidates[order[max_rules - 1]]
        kept = (lift > lift[last]) | ((lift == lift[last]) & (confidence >= confidence[last]))
        return np.flatnonzero(kept)

    def one_to_one(self) -> np.ndarray:
        """Positions of the rules of one product to one product."""
        sizes = np.array([len(b[1]) + len(b[2]) for b in self.blocks], dtype=int)
        if not len(sizes):
            return np.arange(0)
        return np.flatnonzero(sizes[self.block] == 2)

    def rules(self, positions: np.ndarray) -> list[tuple]:
        """(antecedent, consequent, support, confidence, lift) of the rules at ``positions``."""
        out = []
        for p in positions:
            matrix, antecedent, consequent = self.blocks[self.block[p]]
            itemset = matrix[self.row[p]]
            out.append(
                (
                    tuple(int(itemset[i]) for i in antecedent),
                    tuple(int(itemset[i]) for i in consequent),
                    float(self.support[p]),
                    float(self.confidence[p]),
                    float(self.lift[p]),
                )
            )
        return out


def _strongest(rules: list[tuple], max_rules: int) -> list[tuple]:
    """The rules that can rank among the first ``max_rules``: ties on the numbers kept."""
    if len(rules) <= max_rules:
        return rules
    lift = np.round(np.fromiter((r[4] for r in rules), float, len(rules)), 9)
    confidence = np.round(np.fromiter((r[3] for r in rules), float, len(rules)), 9)
    order = np.lexsort((-confidence, -lift))
    if max_rules == 0:
        return []
    last = order[max_rules - 1]
    kept = (lift > lift[last]) | ((lift == lift[last]) & (confidence >= confidence[last]))
    return [rules[i] for i in np.flatnonzero(kept)]


def _describe_rules(rules: list[tuple], codes_of: list[str], names: dict[str, str]) -> pd.DataFrame:
    """Rules as text, sorted by lift, confidence, then codes (the order of every caller)."""
    if not rules:
        return _empty_rules()

    def codes(itemset: tuple[int, ...]) -> str:
        return "|".join(sorted(codes_of[i] for i in itemset))

    def described(itemset: tuple[int, ...]) -> str:
        return "|".join(names.get(code, code) for code in sorted(codes_of[i] for i in itemset))

    out = pd.DataFrame(
        {
            "antecedent_codes": [codes(r[0]) for r in rules],
            "consequent_codes": [codes(r[1]) for r in rules],
            "antecedents": [described(r[0]) for r in rules],
            "consequents": [described(r[1]) for r in rules],
            "support": [r[2] for r in rules],
            "confidence": [r[3] for r in rules],
            "lift": [r[4] for r in rules],
        }
    )
    # ties in lift or confidence (a pair's two directions have the same lift) are broken by
    # the codes, compared on values rounded far below any meaningful difference
    out["_lift"] = out["lift"].round(9)
    out["_confidence"] = out["confidence"].round(9)
    out = out.sort_values(
        ["_lift", "_confidence", "antecedent_codes", "consequent_codes"],
        ascending=[False, False, True, True],
        ignore_index=True,
    )
    return out[RULE_COLUMNS]


def frequent_itemsets(
    onehot: np.ndarray, min_count: int, max_len: int, budget: MiningBudget | None = None
) -> dict[tuple, int]:
    """Every itemset of up to ``max_len`` items held by at least ``min_count`` baskets.

    Parameters
    ----------
    onehot : ndarray of bool, shape (baskets, items)
    min_count, max_len : int
    budget : MiningBudget, optional
        What the mining may hold (default: from ``LGS_MEMORY_LIMIT``); the baskets are
        counted in blocks of its size.

    Returns
    -------
    dict
        Itemset (a sorted tuple of item columns) -> number of baskets holding it.

    Raises
    ------
    TooManyItemsets
        Past the budget.
    """
    budget = budget or MiningBudget.from_memory(get_settings().memory_limit, max_len)
    step = budget.block_baskets(onehot.shape[1])

    def blocks() -> Iterator[np.ndarray]:
        for start in range(0, len(onehot), step):
            yield onehot[start : start + step]

    return count_itemsets(blocks, onehot.shape[1], min_count, max_len, budget)


def _rules_from_counts(
    counts: dict[tuple, int], count_baskets: int, min_confidence: float, min_lift: float
) -> list[tuple[tuple, tuple, float, float, float]]:
    """(antecedent, consequent, support, confidence, lift) of every qualifying rule."""
    rules = []
    for itemset, count in counts.items():
        if len(itemset) < 2:
            continue
        support = count / count_baskets
        for size in range(1, len(itemset)):
            for antecedent in combinations(itemset, size):
                consequent = tuple(i for i in itemset if i not in antecedent)
                confidence = count / counts[antecedent]
                lift = confidence / (counts[consequent] / count_baskets)
                if confidence >= min_confidence and lift >= min_lift:
                    rules.append((antecedent, consequent, support, confidence, lift))
    return rules


def select_promotion_pairs(rules: pd.DataFrame, top_n: int = 10) -> pd.DataFrame:
    """One product to one product rules, one direction per pair (the more confident).

    Returns
    -------
    DataFrame
        The rows of ``rules`` (same columns) with a single antecedent and a single
        consequent, sorted by confidence then lift, at most ``top_n``.
    """
    _check_columns(rules, RULE_COLUMNS, "rules")
    single = rules[
        ~rules["antecedent_codes"].str.contains("|", regex=False)
        & ~rules["consequent_codes"].str.contains("|", regex=False)
    ].copy()
    single["pair"] = [
        "|".join(sorted((a, c)))
        for a, c in zip(single["antecedent_codes"], single["consequent_codes"], strict=True)
    ]
    single = single.sort_values(["confidence", "lift", "pair"], ascending=[False, False, True])
    best = single.drop_duplicates("pair").head(top_n)
    return best[RULE_COLUMNS].reset_index(drop=True)


def pick_segment_products(
    customer_products: pd.DataFrame,
    scored: pd.DataFrame,
    segments: list[str] | tuple[str, ...],
    rules: pd.DataFrame | None = None,
    descriptions: pd.Series | dict[str, str] | None = None,
    top_n: int = 5,
    min_buyer_share: float = 0.05,
) -> pd.DataFrame:
    """What each segment buys more than the other customers, and what to promote with it.

    For every segment, its ``top_n`` most bought products (by customers who bought
    them) among those that take a larger part of its purchases than of the other
    customers' (purchases being customer-product pairs: ``index_vs_others`` =
    ``purchase_share`` / ``others_purchase_share`` > 1) and that at least
    ``min_buyer_share`` of its customers bought. Each carries
    the product to promote alongside it: the most confident rule consequent (single
    product) whose antecedent is that product, when ``rules`` has one.

    Returns
    -------
    DataFrame
        Columns :data:`SEGMENT_PRODUCT_COLUMNS`; ``promote_*`` are empty without a rule.
    """
    _check_columns(customer_products, ["customer_id", "stock_code"], "customer products")
    _check_columns(scored, ["customer_id", "segment"], "scored customers")
    names = dict(descriptions) if descriptions is not None else {}
    bought = customer_products[["customer_id", "stock_code"]].drop_duplicates()
    bought = bought.merge(scored[["customer_id", "segment"]], on="customer_id", how="inner")
    sizes = scored["segment"].value_counts()
    all_buyers = bought.groupby("stock_code").size()
    cross_sell: dict[str, tuple[str, float]] = {}
    if rules is not None and not rules.empty:
        for row in select_promotion_pairs(rules, top_n=len(rules)).itertuples():
            cross_sell.setdefault(row.antecedent_codes, (row.consequent_codes, row.confidence))
        # a pair's other direction is a promotion too, when it qualified as a rule
        for row in rules.itertuples():
            if "|" not in row.antecedent_codes and "|" not in row.consequent_codes:
                cross_sell.setdefault(row.antecedent_codes, (row.consequent_codes, row.confidence))
    out = []
    for name in segments:
        size = int(sizes.get(name, 0))
        if size == 0:
            continue
        inside = bought["segment"] == name
        buyers = bought[inside].groupby("stock_code").size()
        elsewhere = (all_buyers.reindex(buyers.index) - buyers).astype("float64")
        frame = pd.DataFrame({"buyers": buyers})
        frame["buyer_share"] = frame["buyers"] / size
        # the product's part of the segment's purchases and of the other customers'
        # (purchases = customer-product pairs), so a segment that buys little still
        # compares fairly; the index is the ratio of these two shares
        pairs_in, pairs_out = int(inside.sum()), int((~inside).sum())
        frame["purchase_share"] = frame["buyers"] / pairs_in
        frame["others_purchase_share"] = elsewhere / pairs_out if pairs_out else np.nan
        frame["index_vs_others"] = frame["purchase_share"] / frame["others_purchase_share"].where(
            frame["others_purchase_share"] > 0
        )
        frame = frame[
            (frame["buyer_share"] >= min_buyer_share)
            & ((frame["index_vs_others"] > 1) | frame["index_vs_others"].isna())
        ]
        frame = frame.rename_axis("stock_code").reset_index()
        frame = frame.sort_values(["buyers", "stock_code"], ascending=[False, True]).head(top_n)
        frame["segment"] = name
        frame["description"] = frame["stock_code"].map(lambda c: names.get(c, c))
        promote = frame["stock_code"].map(lambda c: cross_sell.get(c, (None, np.nan)))
        frame["promote_stock_code"] = promote.map(lambda p: p[0])
        frame["promote_description"] = frame["promote_stock_code"].map(
            lambda c: names.get(c, c) if isinstance(c, str) else None
        )
        frame["promote_confidence"] = promote.map(lambda p: p[1]).astype("float64")
        out.append(frame)
    if not out:
        return pd.DataFrame({c: pd.Series(dtype="object") for c in SEGMENT_PRODUCT_COLUMNS})
    return pd.concat(out, ignore_index=True)[SEGMENT_PRODUCT_COLUMNS]
