"""Demo data: a deterministic generator of retail lines shaped like LGS's real data.

A fresh clone has an empty warehouse; :func:`ensure_data` fills it with
:func:`generate_demo` lines so that ``make report`` works at once. The data covers
2009-12-01 to 2011-12-09 (the span of Online Retail II) and has the real data's
traits: about 4,000 customers whose spend is heavy-tailed (a few wholesalers buy in
bulk and dominate revenue), about 90% UK lines, growth through the autumn and a peak in
November, invoices of many lines, partial ``C`` cancellations of earlier orders, a few
``A`` bad-debt adjustments, a quarter of the lines without a customer, the non-product
stock codes (POST, DOT, M, D, C2, BANK CHARGES, AMAZONFEE, CRUK), and product families
(colour or design variants) that are bought together.

How it is built: a *plan* holds one row per invoice (time, customer, number of lines),
drawn once with numpy; lines are then drawn block by block (a fixed number of invoices
per block, each block with its own seed) and emitted in invoice order in chunks of
``chunk_rows`` lines. The same ``seed`` and ``n_rows`` give the same lines whatever the
chunk size, and memory stays flat however many lines are asked for.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from sqlalchemy.engine import Connection, Engine

from ..log import logger
from ..warehouse import data_range, ensure_schema, get_engine, run_query
from .batches import LoadResult, load_batch
from .validate import QUARANTINE_COLUMNS, RETAIL_SCHEMA

__all__ = [
    "DEFAULT_ROWS",
    "GENERATOR_VERSION",
    "FIRST_DAY",
    "LAST_DAY",
    "generate_demo",
    "load_demo",
    "is_demo",
    "ensure_data",
]

DEFAULT_ROWS = 500_000
GENERATOR_VERSION = 1  # bump whenever the generated lines change, so a reload happens
FIRST_DAY = np.datetime64("2009-12-01")
LAST_DAY = np.datetime64("2011-12-09")

_MIN_PLAN_ROWS = 5_000  # smaller requests are cut from a plan of this size
_BLOCK_INVOICES = 2_048  # invoices whose lines are drawn together, with one seed per block
_FIRST_INVOICE_NO = 489_434  # where Online Retail II's numbering starts

# --- shape parameters ---------------------------------------------------------------------
_LINES_MEDIAN, _LINES_SIGMA, _LINES_MAX = 14.0, 0.85, 500  # product lines per invoice
_ANON_LINES_MEDIAN = 22.0  # invoices without a customer are longer (dotcom orders)
_ANON_INVOICE_SHARE = 0.17  # gives about 25% of lines without a customer
_DOTCOM_SHARE = 0.6  # anonymous invoices sold at web prices, with DOTCOM POSTAGE
_CANCEL_LINE_SHARE = 0.018  # lines of C invoices that cancel part of an earlier order
_CUSTOMERS_AT_DEFAULT = 4_000
# customer size z ~ N(0, 1): orders per year ~ exp(_FREQ_SIGMA z), pack multiple
# ~ exp(_QTY_SIGMA z); the largest _BIG_SHARE are wholesalers buying _BIG_QTY times more
_FREQ_SIGMA, _QTY_SIGMA, _BIG_SHARE, _BIG_QTY = 1.0, 0.35, 0.015, 2.5
_ZIPF_OFFSET, _ZIPF_POWER, _HEAD_BOOST = 25.0, 0.95, 1.0  # family popularity
_FAVOURITE_FLATTEN = 0.6  # favourites are drawn from popularity ** this: broader tastes
_UK_CUSTOMER_SHARE = 0.895
_P_FOLLOW = 0.62  # next line is another member of the previous line's product family
_P_FAVOURITE = 0.4  # a customer's line is one of the products they keep buying
_N_FAVOURITES = 30

# month -> weight of trade (1 = an ordinary month): quiet winter, busy autumn, November peak
_MONTH_WEIGHT = np.array([0.72, 0.72, 0.95, 0.82, 1.0, 0.95, 0.92, 0.92, 1.3, 1.45, 1.85, 1.1])
# Monday..Sunday; the shop takes no orders on Saturdays
_WEEKDAY_WEIGHT = np.array([1.0, 1.05, 1.0, 1.1, 0.85, 0.0, 0.65])
_HOUR_WEIGHT = {7: 0.4, 8: 9, 9: 34, 10: 49, 11: 58, 12: 79, 13: 72, 14: 67, 15: 77,
                16: 55, 17: 28, 18: 8, 19: 4, 20: 1}  # fmt: skip
# share of a month's lines that are Christmas goods
_XMAS_SHARE = np.array([0.01, 0.01, 0.01, 0.01, 0.02, 0.03, 0.05, 0.09, 0.16, 0.22, 0.24, 0.12])

# --- catalogue ------------------------------------------------------------------------------
# Hand-written families that every seed shares (the most popular ones), then generated
# ones. A family is a set of colour or design variants that customers buy together.
# (stock codes, descriptions, list price, wholesale pack, is Christmas)
_HEAD_FAMILIES: list[tuple[tuple[str, ...], tuple[str, ...], float, int, bool]] = [
    (("85123A", "85123B"),
     ("WHITE HANGING HEART T-LIGHT HOLDER", "RED HANGING HEART T-LIGHT HOLDER"), 2.95, 6, False),
    (("85099B", "85099C", "85099F"),
     ("JUMBO BAG RED RETROSPOT", "JUMBO BAG BAROQUE BLACK WHITE", "JUMBO BAG STRAWBERRY"),
     1.95, 10, False),
    (("22697", "22698", "22699"),
     ("GREEN REGENCY TEACUP AND SAUCER", "PINK REGENCY TEACUP AND SAUCER",
      "ROSES REGENCY TEACUP AND SAUCER"), 2.95, 6, False),
    (("20725", "20726", "20727", "20728"),
     ("LUNCH BAG RED RETROSPOT", "LUNCH BAG WOODLAND", "LUNCH BAG BLACK SKULL",
      "LUNCH BAG CARS BLUE"), 1.65, 10, False),
    (("22423",), ("REGENCY CAKESTAND 3 TIER",), 12.75, 2, False),
    (("47566",), ("PARTY BUNTING",), 4.95, 4, False),
    (("22726", "22727", "22728", "22729"),
     ("ALARM CLOCK BAKELIKE GREEN", "ALARM CLOCK BAKELIKE RED", "ALARM CLOCK BAKELIKE PINK",
      "ALARM CLOCK BAKELIKE IVORY"), 3.75, 4, False),
    (("84879",), ("ASSORTED COLOUR BIRD ORNAMENT",), 1.69, 8, False),
    (("21212", "21213"),
     ("PACK OF 72 RETROSPOT CAKE CASES", "PACK OF 72 SKULL CAKE CASES"), 0.55, 24, False),
    (("22086", "22085"),
     ("PAPER CHAIN KIT 50'S CHRISTMAS", "PAPER CHAIN KIT VINTAGE CHRISTMAS"), 2.95, 6, True),
]  # fmt: skip

# (description template, median list price, wholesale pack, is Christmas)
_ITEMS: list[tuple[str, float, int, bool]] = [
    ("JUMBO BAG {v}", 1.95, 10, False), ("LUNCH BAG {v}", 1.65, 10, False),
    ("{v} CHARLOTTE BAG", 0.85, 10, False), ("JUMBO SHOPPER {v}", 1.95, 10, False),
    ("{v} MUG", 1.25, 12, False), ("{v} TEACUP AND SAUCER", 2.95, 6, False),
    ("{v} CAKESTAND 3 TIER", 9.95, 2, False), ("PACK OF 72 {v} CAKE CASES", 0.55, 24, False),
    ("PACK OF 60 {v} CAKE CASES", 0.55, 24, False), ("PACK OF 20 {v} NAPKINS", 0.85, 12, False),
    ("{v} PAPER PLATES", 0.85, 12, False), ("{v} PAPER CUPS", 0.65, 12, False),
    ("{v} CHILDRENS APRON", 1.95, 8, False), ("APRON {v}", 4.95, 3, False),
    ("SET OF 3 {v} TEA TOWELS", 3.25, 6, False), ("{v} WALL CLOCK", 8.5, 2, False),
    ("ALARM CLOCK BAKELIKE {v}", 3.75, 4, False), ("DOORMAT {v}", 7.95, 2, False),
    ("{v} CUSHION COVER", 3.75, 4, False), ("HOT WATER BOTTLE {v}", 4.25, 4, False),
    ("{v} HANGING HEART T-LIGHT HOLDER", 2.95, 6, False),
    ("{v} GLASS T-LIGHT HOLDER", 1.25, 12, False), ("{v} LANTERN", 3.75, 4, False),
    ("{v} PARTY BUNTING", 4.95, 4, False), ("{v} WATER BOTTLE", 2.55, 6, False),
    ("SET OF 3 {v} STORAGE TINS", 4.95, 4, False),
    ("ROUND SNACK BOXES SET OF 4 {v}", 2.95, 6, False), ("{v} LUNCH BOX", 1.95, 12, False),
    ("{v} NOTEBOOK", 1.65, 12, False), ("GIFT WRAP {v}", 0.42, 25, False),
    ("WRAPPING PAPER {v}", 0.42, 25, False), ("{v} PICTURE FRAME", 2.55, 6, False),
    ("{v} PHOTO ALBUM", 3.75, 4, False), ("{v} BIRD ORNAMENT", 1.69, 12, False),
    ("PLASTERS IN TIN {v}", 1.65, 12, False), ("{v} STICKER SHEET", 0.85, 12, False),
    ("PLAYING CARDS {v}", 1.25, 12, False), ("{v} JIGSAW", 1.65, 12, False),
    ("{v} SCENTED CANDLE", 1.25, 12, False), ("{v} PARASOL", 2.95, 6, False),
    ("{v} WASHBAG", 2.55, 6, False), ("{v} PURSE", 2.1, 6, False),
    ("{v} KEY RING", 0.85, 12, False), ("{v} BRACELET", 8.95, 1, False),
    ("{v} NECKLACE", 6.35, 1, False), ("{v} EARRINGS", 5.95, 1, False),
    ("{v} PLATE", 1.69, 12, False), ("{v} BOWL", 1.25, 12, False),
    ("{v} BEAKER", 1.25, 12, False), ("{v} PEG BAG", 2.55, 6, False),
    ("CLOTHES PEGS {v} PACK 24", 1.25, 12, False), ("{v} METAL SIGN", 2.1, 12, False),
    ("{v} DOORSTOP", 4.25, 4, False), ("{v} HAND WARMER", 2.1, 12, False),
    ("{v} UMBRELLA", 4.95, 3, False), ("{v} FELTCRAFT DOLL", 4.25, 4, False),
    ("{v} SEWING KIT", 1.65, 12, False), ("{v} DRAWER KNOB", 1.25, 12, False),
    ("{v} COAT HANGER", 1.25, 12, False), ("{v} HAIR CLIPS", 0.85, 12, False),
    ("{v} RIBBONS", 1.65, 12, False), ("{v} GIFT BAG LARGE", 1.25, 12, False),
    ("{v} TRINKET BOX", 1.25, 12, False), ("{v} JAM JAR WITH LID", 0.85, 12, False),
    ("{v} RECIPE BOX", 2.95, 6, False), ("{v} OVEN GLOVE", 1.45, 12, False),
    ("{v} CHOPPING BOARD", 5.95, 2, False), ("{v} TISSUES", 0.39, 24, False),
    ("{v} PENCILS SET OF 6", 0.42, 24, False), ("{v} SPINNING TOP", 0.65, 24, False),
    ("{v} CHRISTMAS TREE DECORATION", 0.85, 12, True),
    ("BAUBLES SET OF 6 {v}", 1.65, 12, True), ("PAPER CHAIN KIT {v}", 2.95, 6, True),
    ("{v} ADVENT CALENDAR", 5.95, 3, True), ("{v} CHRISTMAS STOCKING", 2.95, 6, True),
    ("{v} HANGING STAR", 0.42, 24, True), ("CHRISTMAS CARDS {v} PACK OF 12", 1.25, 12, True),
    ("{v} CHRISTMAS GIFT BAG", 0.42, 24, True), ("{v} TINSEL GARLAND", 1.65, 12, True),
    ("{v} CHRISTMAS CRACKERS", 4.95, 4, True), ("{v} NATIVITY SET", 7.95, 2, True),
]  # fmt: skip
_DESIGNS = [
    "RED RETROSPOT", "PINK POLKADOT", "BLUE POLKADOT", "VINTAGE PAISLEY", "SPACEBOY",
    "DOLLY GIRL", "WOODLAND", "STRAWBERRY", "BLACK SKULL", "APPLES", "VINTAGE DOILY",
    "SCANDINAVIAN", "REGENCY", "BAROQUE", "LOVE HEART", "ENGLISH ROSE", "VINTAGE LEAF",
    "CIRCUS PARADE", "SUKI", "DAISY", "ALPHABET", "I LOVE LONDON", "UNION JACK",
    "FAIRY CAKE", "GINGHAM HEART", "SPOTTY", "CANDY STRIPE", "FLORAL", "PAISLEY PARK",
    "JAM MAKING", "ROSES", "BIRDS", "OWLS", "CARS", "DINOSAUR", "PIRATE", "BALLERINA",
    "MOROCCAN", "ORIENTAL", "TOADSTOOL", "BUTTERFLY", "RETRO", "PANTRY", "POPPY",
    "FRENCH", "VINTAGE KID", "SKULLS", "HEN HOUSE", "WILD FLOWER", "PEACE", "RABBIT",
    "CHERRY BLOSSOM", "NAUTICAL", "SEASIDE", "TEA PARTY", "VICTORIAN", "GARDEN",
]  # fmt: skip
_XMAS_DESIGNS = [
    "VINTAGE CHRISTMAS", "SNOWFLAKE", "REINDEER", "ROBIN", "SANTA", "GINGERBREAD MAN",
    "NORDIC", "STAR", "ANGEL", "HOLLY", "CHRISTMAS TREE", "SNOWMAN", "50'S CHRISTMAS",
    "ZINC", "GLITTER", "WOODEN", "FROSTED", "SCANDINAVIAN", "TARTAN", "CANDY CANE",
]  # fmt: skip
_COLOURS = [
    "RED", "PINK", "BLUE", "GREEN", "IVORY", "WHITE", "BLACK", "CREAM", "PURPLE",
    "YELLOW", "ORANGE", "LILAC", "SILVER", "GOLD", "TURQUOISE",
]  # fmt: skip
_PRICE_LADDER = np.array([
    0.19, 0.21, 0.29, 0.39, 0.42, 0.55, 0.65, 0.72, 0.79, 0.85, 0.95, 1.06, 1.25, 1.45, 1.65,
    1.69, 1.85, 1.95, 2.1, 2.46, 2.55, 2.95, 3.25, 3.39, 3.75, 4.15, 4.25, 4.65, 4.95, 5.45,
    5.95, 6.35, 6.75, 7.5, 7.95, 8.5, 8.95, 9.95, 10.95, 12.75, 14.95, 16.95, 19.95, 24.95,
])  # fmt: skip
_TARGET_PRODUCTS = 3_600

# Non-product stock codes with their real descriptions.
_SERVICE_CODES = [
    ("POST", "POSTAGE"), ("DOT", "DOTCOM POSTAGE"), ("M", "Manual"), ("D", "Discount"),
    ("C2", "CARRIAGE"), ("BANK CHARGES", "Bank Charges"), ("AMAZONFEE", "AMAZON FEE"),
    ("CRUK", "CRUK Commission"), ("B", "Adjust bad debt"),
]  # fmt: skip
_POST, _DOT, _MANUAL, _DISCOUNT, _CARRIAGE, _BANK, _AMAZON, _CRUK, _BAD_DEBT = range(9)
# single-line C invoices: (service, count per 500,000 lines, median price, price spread)
_FEE_INVOICES = [
    (_DISCOUNT, 60, 20.0, 0.8), (_MANUAL, 60, 10.0, 1.0), (_BANK, 15, 15.0, 0.0),
    (_AMAZON, 20, 1_500.0, 0.7), (_CRUK, 12, 200.0, 0.8),
]  # fmt: skip

_UK = "United Kingdom"
# other countries of identified customers, with weights (real shares of non-UK lines)
_COUNTRIES = [
    ("Germany", 17), ("France", 16), ("EIRE", 15), ("Spain", 5), ("Netherlands", 4.5),
    ("Belgium", 4), ("Switzerland", 4), ("Portugal", 3), ("Australia", 2.5), ("Norway", 2),
    ("Italy", 1.5), ("Channel Islands", 1.5), ("Finland", 1.3), ("Cyprus", 1.2),
    ("Sweden", 1), ("Austria", 0.8), ("Denmark", 0.8), ("Japan", 0.7), ("Poland", 0.7),
    ("USA", 0.6), ("Israel", 0.5), ("Unspecified", 0.4), ("Singapore", 0.4),
    ("Iceland", 0.3), ("Canada", 0.3), ("Greece", 0.3), ("Malta", 0.2), ("Lithuania", 0.1),
    ("United Arab Emirates", 0.1), ("European Community", 0.1), ("RSA", 0.1),
    ("Lebanon", 0.1), ("Brazil", 0.1), ("Czech Republic", 0.1), ("Bahrain", 0.1),
    ("Saudi Arabia", 0.1), ("Hong Kong", 0.2),
]  # fmt: skip
_NEAR = {"Germany", "France", "Spain", "Netherlands", "Belgium", "Switzerland", "Portugal",
         "Italy", "Finland", "Sweden", "Austria", "Denmark", "Poland", "Norway", "Lithuania",
         "Czech Republic", "European Community", "Unspecified"}  # fmt: skip
_CARRIAGE_COUNTRIES = {"EIRE", "Channel Islands"}


# --- calendar and catalogue (fixed, shared by every seed) ----------------------------------


@dataclass(frozen=True)
class _Calendar:
    days: np.ndarray  # datetime64[D] of the shop days
    cdf: np.ndarray  # cumulative share of trade up to and including each day
    month: np.ndarray  # month of each day, 0..11


@lru_cache(maxsize=1)
def _calendar() -> _Calendar:
    days = np.arange(FIRST_DAY, LAST_DAY + np.timedelta64(1, "D"), dtype="datetime64[D]")
    stamp = pd.DatetimeIndex(days)
    month = stamp.month.to_numpy() - 1
    closed = ((stamp.month == 12) & (stamp.day >= 24)) | ((stamp.month == 1) & (stamp.day <= 3))
    weight = _MONTH_WEIGHT[month] * _WEEKDAY_WEIGHT[stamp.day_of_week.to_numpy()]
    years = (days - FIRST_DAY).astype(np.int64) / 365.25
    weight = weight * (1.0 + 0.12 * years)  # the business grows
    keep = (weight > 0) & ~closed
    weight = weight[keep]
    cdf = np.cumsum(weight) / weight.sum()
    cdf[-1] = 1.0
    return _Calendar(days[keep], cdf, month[keep])


@dataclass(frozen=True)
class _Catalogue:
    codes: pa.Array  # stock code per item (products first, then service codes)
    descriptions: pa.Array
    price: np.ndarray  # list price per product
    pack: np.ndarray  # wholesale pack per product
    family_start: np.ndarray  # first product of each product's family
    family_size: np.ndarray
    regular_cdf: np.ndarray  # popularity over regular products (cumulative)
    regular_ids: np.ndarray
    favourite_cdf: np.ndarray  # the same, flatter
    xmas_cdf: np.ndarray
    xmas_ids: np.ndarray
    n_products: int


def _snap_price(price: np.ndarray) -> np.ndarray:
    idx = np.clip(np.searchsorted(_PRICE_LADDER, price), 1, len(_PRICE_LADDER) - 1)
    lower, upper = _PRICE_LADDER[idx - 1], _PRICE_LADDER[idx]
    return np.where(np.log(price / lower) < np.log(upper / price), lower, upper)


@lru_cache(maxsize=1)
def _catalogue() -> _Catalogue:
    rng = np.random.default_rng(20091201)
    families: list[tuple[list[str], list[str], float, int, bool]] = [
        (list(c), list(d), p, k, x) for c, d, p, k, x in _HEAD_FAMILIES
    ]
    seen = {d for fam in families for d in fam[1]}
    used_numbers = {int(c[:5]) for fam in families for c in fam[0]}
    pool = iter(n for n in rng.permutation(np.arange(20_000, 90_000)) if n not in used_numbers)
    count = sum(len(f[0]) for f in families)
    while count < _TARGET_PRODUCTS:
        template, median, pack, xmas = _ITEMS[rng.integers(len(_ITEMS))]
        size = int(rng.choice([1, 2, 3, 4, 5, 6], p=[0.34, 0.2, 0.2, 0.15, 0.08, 0.03]))
        designs = _XMAS_DESIGNS if xmas else _DESIGNS
        if rng.random() < 0.55:  # variants of design
            variants = [designs[i] for i in rng.choice(len(designs), size, replace=False)]
        else:  # colours of one design
            design = designs[rng.integers(len(designs))]
            variants = [f"{_COLOURS[i]} {design}" for i in rng.choice(len(_COLOURS), size, False)]
        names = [template.format(v=v) for v in variants if template.format(v=v) not in seen]
        if not names:
            continue
        seen.update(names)
        if len(names) > 1 and rng.random() < 0.45:
            base = next(pool)
            codes = [f"{base}{chr(65 + i)}" for i in range(len(names))]
        else:
            codes = [str(next(pool)) for _ in names]
        price = float(_snap_price(np.array([median * rng.lognormal(0.0, 0.3)]))[0])
        families.append((codes, names, price, pack, xmas))
        count += len(names)

    sizes = np.array([len(f[0]) for f in families])
    starts = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    n_fam = len(families)
    # Zipf-like family popularity; the hand-written families are the best sellers.
    rank = np.concatenate(
        [
            np.arange(len(_HEAD_FAMILIES)),
            len(_HEAD_FAMILIES) + rng.permutation(n_fam - len(_HEAD_FAMILIES)),
        ]
    )
    family_weight = 1.0 / (rank + _ZIPF_OFFSET) ** _ZIPF_POWER
    family_weight[: len(_HEAD_FAMILIES)] *= _HEAD_BOOST
    is_xmas = np.repeat([f[4] for f in families], sizes)
    weight = np.repeat(family_weight / sizes**0.5, sizes) * rng.uniform(0.6, 1.4, sizes.sum())
    regular_ids = np.flatnonzero(~is_xmas)
    xmas_ids = np.flatnonzero(is_xmas)

    def cdf(ids: np.ndarray, power: float = 1.0) -> np.ndarray:
        c = np.cumsum(weight[ids] ** power)
        return c / c[-1]

    codes = [c for f in families for c in f[0]] + [c for c, _ in _SERVICE_CODES]
    descriptions = [d for f in families for d in f[1]] + [d for _, d in _SERVICE_CODES]
    return _Catalogue(
        codes=pa.array(codes, pa.string()),
        descriptions=pa.array(descriptions, pa.string()),
        price=np.repeat([f[2] for f in families], sizes),
        pack=np.repeat([f[3] for f in families], sizes),
        family_start=np.repeat(starts, sizes),
        family_size=np.repeat(sizes, sizes),
        regular_cdf=cdf(regular_ids),
        favourite_cdf=cdf(regular_ids, _FAVOURITE_FLATTEN),
        regular_ids=regular_ids,
        xmas_cdf=cdf(xmas_ids),
        xmas_ids=xmas_ids,
        n_products=int(sizes.sum()),
    )


def _draw(rng: np.random.Generator, cdf: np.ndarray, ids: np.ndarray, n: int) -> np.ndarray:
    return ids[np.minimum(np.searchsorted(cdf, rng.random(n), side="right"), len(ids) - 1)]


# --- the plan: one row per invoice -----------------------------------------------------------


@dataclass
class _Plan:
    # customers
    customer_ids: np.ndarray  # 5-digit ids
    customer_country: np.ndarray  # index into countries
    small_share: np.ndarray  # share of a customer's lines in small retail quantities
    qty_scale: np.ndarray  # multiple of the wholesale pack a customer buys
    favourites: np.ndarray  # (customers, _N_FAVOURITES) product ids
    # invoices, in global (time) order
    invoice_no: pa.Array  # strings
    invoice_at: np.ndarray  # datetime64[us]
    invoice_customer: np.ndarray  # customer index or -1
    invoice_country: np.ndarray
    # normal invoices (index n), in time order
    normal_global: np.ndarray  # global index of each normal invoice
    normal_lines: np.ndarray  # product lines
    normal_extra: np.ndarray  # service line added to the invoice, or -1
    normal_dotcom: np.ndarray  # sold at web prices
    normal_month: np.ndarray
    cancel_global: np.ndarray  # global index of the C invoice cancelling part of it, or -1
    cancel_lines: np.ndarray  # how many of its first lines that C invoice cancels
    # single-line invoices (fees, A adjustments), in global order
    single_global: np.ndarray
    single_item: np.ndarray  # service code
    single_quantity: np.ndarray
    single_price: np.ndarray
    countries: pa.Array
    country_names: np.ndarray


def _hours(rng: np.random.Generator, n: int) -> np.ndarray:
    hours = np.array(list(_HOUR_WEIGHT))
    weight = np.array(list(_HOUR_WEIGHT.values()), dtype=float)
    return rng.choice(hours, n, p=weight / weight.sum())


def _minutes_of_day(rng: np.random.Generator, day: np.ndarray, last_day: int) -> np.ndarray:
    hour = _hours(rng, len(day))
    hour = np.where(day == last_day, 8 + hour % 5, hour)  # the data ends at lunchtime
    return hour * 60 + rng.integers(0, 60, len(day))


def _fit_lines(
    rng: np.random.Generator, lines: np.ndarray, floor: np.ndarray, surplus: int
) -> np.ndarray:
    """Add (surplus > 0) or remove lines at random invoices so the total is exact."""
    if surplus > 0:
        np.add.at(lines, rng.integers(0, len(lines), surplus), 1)
        return lines
    need = -surplus
    while need > 0:
        candidates = np.flatnonzero(lines > floor)
        if len(candidates) == 0:
            raise ValueError("cannot fit the demo plan to the requested number of rows")
        take = rng.choice(candidates, min(need, len(candidates)), replace=False)
        lines[take] -= 1
        need -= len(take)
    return lines


@dataclass(frozen=True)
class _Customers:
    size: np.ndarray  # z ~ N(0, 1)
    frequency: np.ndarray  # relative orders per unit of time
    qty_scale: np.ndarray  # multiple of the wholesale pack
    small_share: np.ndarray  # share of lines in small retail quantities
    ids: np.ndarray  # 5-digit ids
    country: np.ndarray  # index into _country_names()
    favourites: np.ndarray  # (customers, _N_FAVOURITES) product ids
    joined: np.ndarray  # lifetime, in shares of the span's trade
    left: np.ndarray


def _country_names() -> list[str]:
    return [_UK] + [c for c, _ in _COUNTRIES]


def _draw_customers(rng: np.random.Generator, n_cust: int) -> _Customers:
    """Customers of heavy-tailed size: the big ones order often and in bulk."""
    cat = _catalogue()
    size = rng.standard_normal(n_cust)
    frequency = np.exp(_FREQ_SIGMA * size)
    big = size > np.quantile(size, 1 - _BIG_SHARE)
    qty_scale = np.exp(_QTY_SIGMA * size + 0.3 * rng.standard_normal(n_cust))
    qty_scale *= np.where(big, _BIG_QTY, 1.0)
    small_share = np.clip(0.7 - 0.25 * size, 0.05, 0.95)
    span = min(int(n_cust * 1.45) + 1, 99_999 - 12_346 + 1)
    customer_ids = rng.choice(span, n_cust, replace=False) + 12_346
    country_weight = np.array([w for _, w in _COUNTRIES])
    foreign = rng.choice(len(_COUNTRIES), n_cust, p=country_weight / country_weight.sum()) + 1
    customer_country = np.where(rng.random(n_cust) < _UK_CUSTOMER_SHARE, 0, foreign)
    favourites = _draw(rng, cat.favourite_cdf, cat.regular_ids, n_cust * _N_FAVOURITES)
    favourites = favourites.reshape(n_cust, _N_FAVOURITES)
    # lifetimes, in shares of the span's trade: some were customers from the start,
    # others join later; some lapse (the big ones who lapse are the "Can't Lose")
    joined = np.where(rng.random(n_cust) < 0.45, 0.0, rng.random(n_cust))
    lapsed = rng.random(n_cust) < 0.45
    left = np.where(lapsed, joined + (1 - joined) * rng.random(n_cust), 1.0)
    left = np.maximum(left, np.minimum(joined + 0.03, 1.0))
    joined = np.minimum(joined, left - 0.03)

    return _Customers(
        size=size,
        frequency=frequency,
        qty_scale=qty_scale,
        small_share=small_share,
        ids=customer_ids.astype(np.int64),
        country=customer_country,
        favourites=favourites,
        joined=joined,
        left=left,
    )


def _draw_single_invoices(
    rng: np.random.Generator, n_rows: int, customers: _Customers
) -> dict[str, np.ndarray]:
    """Single-line invoices: C fees and discounts, and A bad-debt adjustments in threes
    (a debt booked, then written off twice, as in the real data)."""
    cal = _calendar()
    n_days = len(cal.days)
    n_cust = len(customers.ids)
    single_item, single_qty, single_price, single_cust = [], [], [], []
    for item, per_default, median, spread in _FEE_INVOICES:
        k = max(2, int(round(per_default * n_rows / DEFAULT_ROWS)))
        single_item.append(np.full(k, item))
        single_price.append(median * rng.lognormal(0.0, spread, k))
        single_qty.append(np.full(k, -1))
        if item == _AMAZON:
            single_cust.append(np.full(k, -1))
        elif item == _CRUK:  # one charity partner
            single_cust.append(np.full(k, int(np.argmax(customers.size < 0))))
        else:
            single_cust.append(
                rng.choice(n_cust, k, p=customers.frequency / customers.frequency.sum())
            )
    n_fee = sum(len(a) for a in single_item)
    n_events = max(1, int(round(n_rows / 1_000_000)))
    adjust_amount = np.repeat(rng.uniform(2_000, 15_000, n_events), 3)
    adjust_sign = np.tile([1.0, -1.0, -1.0], n_events)
    single_item.append(np.full(3 * n_events, _BAD_DEBT))
    single_qty.append(np.ones(3 * n_events, dtype=np.int64))
    single_price.append(adjust_amount * adjust_sign)
    single_cust.append(np.full(3 * n_events, -1))
    single_item = np.concatenate(single_item)
    single_qty = np.concatenate(single_qty).astype(np.int64)
    single_price = np.round(np.concatenate(single_price), 2)
    single_cust = np.concatenate(single_cust).astype(np.int64)
    n_single = len(single_item)
    s_day = np.searchsorted(cal.cdf, rng.random(n_single), side="right")
    event_day = np.searchsorted(cal.cdf, rng.uniform(0.3, 0.9, n_events), side="right")
    s_day[n_fee:] = np.repeat(event_day, 3)
    s_day = np.clip(s_day, 0, n_days - 1)
    s_minute = _minutes_of_day(rng, s_day, n_days - 1)
    s_minute[n_fee:] = np.repeat(s_minute[n_fee::3], 3)

    return {
        "item": single_item,
        "quantity": single_qty,
        "price": single_price,
        "customer": single_cust,
        "day": s_day,
        "minute": s_minute,
    }


def _build_plan(n_rows: int, seed: int) -> _Plan:
    rng = np.random.default_rng([seed, GENERATOR_VERSION, 0])
    cal = _calendar()
    n_days = len(cal.days)

    n_cust = int(round(_CUSTOMERS_AT_DEFAULT * np.sqrt(n_rows / DEFAULT_ROWS)))

    # normal invoices and their product lines
    mean_id = _LINES_MEDIAN * np.exp(_LINES_SIGMA**2 / 2)
    mean_anon = _ANON_LINES_MEDIAN * np.exp(_LINES_SIGMA**2 / 2)
    mean_lines = (1 - _ANON_INVOICE_SHARE) * mean_id + _ANON_INVOICE_SHARE * mean_anon
    n_normal = max(2, int(round(n_rows * (1 - _CANCEL_LINE_SHARE - 0.004) / (mean_lines + 0.16))))
    anonymous = rng.random(n_normal) < _ANON_INVOICE_SHARE
    anonymous[:2] = True  # these two open and close the span
    n_ident = int((~anonymous).sum())
    median = np.where(anonymous, _ANON_LINES_MEDIAN, _LINES_MEDIAN)
    lines = np.clip(np.rint(median * rng.lognormal(0.0, _LINES_SIGMA, n_normal)), 1, _LINES_MAX)
    lines = lines.astype(np.int64)

    customers = _draw_customers(rng, max(1, min(n_cust, n_ident // 3)))
    n_cust = len(customers.ids)
    joined, left, frequency = customers.joined, customers.left, customers.frequency
    customer_country = customers.country

    # every customer has at least one invoice; the rest go by frequency over the lifetime
    lifetime = frequency * (left - joined)
    per_customer = 1 + rng.multinomial(n_ident - n_cust, lifetime / lifetime.sum())
    normal_customer = np.full(n_normal, -1, dtype=np.int64)
    normal_customer[~anonymous] = rng.permutation(np.repeat(np.arange(n_cust), per_customer))
    ident = ~anonymous
    c = normal_customer[ident]
    u = joined[c] + rng.random(n_ident) * (left[c] - joined[c])
    day = np.empty(n_normal, dtype=np.int64)
    day[ident] = np.searchsorted(cal.cdf, u, side="right")
    day[anonymous] = np.searchsorted(cal.cdf, rng.random(int(anonymous.sum())), side="right")
    day = np.clip(day, 0, n_days - 1)
    day[0], day[1] = 0, n_days - 1
    minute = _minutes_of_day(rng, day, n_days - 1)

    country = np.where(ident, customer_country[np.maximum(normal_customer, 0)], 0)
    anon_foreign = anonymous & (rng.random(n_normal) < 0.04)
    web_abroad = [_country_names().index(c) for c in ("EIRE", "Germany", "France", "Hong Kong")]
    country[anon_foreign] = rng.choice(web_abroad, int(anon_foreign.sum()))
    dotcom = anonymous & (rng.random(n_normal) < _DOTCOM_SHARE)

    # one service line on some invoices: postage abroad, carriage to Ireland, dotcom postage
    country_names = _country_names()
    names = np.array(country_names, dtype=object)
    is_carriage_country = np.isin(names[country], list(_CARRIAGE_COUNTRIES))
    extra = np.full(n_normal, -1, dtype=np.int64)
    r = rng.random(n_normal)
    extra[ident & (country != 0) & ~is_carriage_country & (r < 0.65)] = _POST
    extra[ident & is_carriage_country & (r < 0.5)] = _CARRIAGE
    extra[dotcom & (r < 0.95)] = _DOT
    extra[ident & (country == 0) & (r > 0.994)] = _MANUAL

    # C invoices cancelling the first lines of an earlier order of the same customer
    propensity = np.where(ident, np.exp(0.3 * customers.size[np.maximum(normal_customer, 0)]), 0.0)
    propensity *= np.where(rng.random(n_normal) < 0.2, 3.0, 1.0)
    n_cancel_target = _CANCEL_LINE_SHARE * n_rows / 2.2
    p_cancel = np.minimum(propensity * n_cancel_target / max(propensity.sum(), 1e-9), 0.9)
    cancelled = rng.random(n_normal) < p_cancel
    cancel_lines = np.where(cancelled, np.minimum(rng.geometric(0.45, n_normal), lines), 0)
    n_c = int(cancelled.sum())
    c_day = np.minimum(day[cancelled] + rng.geometric(0.25, n_c) - 1, n_days - 1)
    same_day = c_day == day[cancelled]
    c_minute = np.where(
        same_day,
        np.minimum(minute[cancelled] + rng.integers(5, 90, n_c), 21 * 60 - 1),
        _minutes_of_day(rng, c_day, n_days - 1),
    )

    single = _draw_single_invoices(rng, n_rows, customers)
    single_item, single_qty, single_price = single["item"], single["quantity"], single["price"]
    single_cust, s_day, s_minute = single["customer"], single["day"], single["minute"]
    s_country = np.where(single_cust >= 0, customer_country[np.maximum(single_cust, 0)], 0)
    n_single = len(single_item)

    # exact row count: spread the difference over the normal invoices
    fixed = int((extra >= 0).sum() + cancel_lines.sum() + n_single)
    lines = _fit_lines(rng, lines, np.maximum(cancel_lines, 1), n_rows - fixed - int(lines.sum()))

    # every invoice in time order gets the next number
    all_day = np.concatenate([day, c_day, s_day])
    all_minute = np.concatenate([minute, c_minute, s_minute])
    at_minute = (cal.days[all_day] - FIRST_DAY).astype(np.int64) * 1440 + all_minute
    tiebreak = rng.random(len(all_day))
    tiebreak[n_normal : n_normal + n_c] += 1.0  # a cancellation follows its order
    order = np.lexsort((tiebreak, at_minute))
    position = np.empty_like(order)
    position[order] = np.arange(len(order))
    step = 1 + (rng.random(len(order)) < 0.03) * rng.integers(1, 4, len(order))
    numbers = np.cumsum(step)
    start = max(100_000, min(_FIRST_INVOICE_NO, 1_000_000 - int(numbers[-1])))  # 6 digits
    numbers = pa.array(start + numbers - 1, pa.int64())
    prefix_code = np.concatenate(
        [
            np.zeros(n_normal, np.int64),
            np.ones(n_c, np.int64),
            np.where(single_item == _BAD_DEBT, 2, 1),
        ]
    )
    prefix = np.array(["", "C", "A"])[prefix_code[order]]
    invoice_no = pc.binary_join_element_wise(
        pa.array(prefix, pa.string()), pc.cast(numbers, pa.string()), ""
    )
    invoice_customer = np.concatenate([normal_customer, normal_customer[cancelled], single_cust])
    countries = np.concatenate([country, country[cancelled], s_country])
    offset = at_minute[order].astype("timedelta64[m]").astype("timedelta64[us]")
    invoice_at = FIRST_DAY.astype("datetime64[us]") + offset

    normal_order = np.argsort(position[:n_normal], kind="stable")
    cancel_global = np.full(n_normal, -1, dtype=np.int64)
    cancel_global[cancelled] = position[n_normal : n_normal + n_c]
    single_global = position[n_normal + n_c :]
    single_order = np.argsort(single_global, kind="stable")
    return _Plan(
        customer_ids=customers.ids,
        customer_country=customer_country,
        small_share=customers.small_share,
        qty_scale=customers.qty_scale,
        favourites=customers.favourites,
        invoice_no=invoice_no,
        invoice_at=invoice_at,
        invoice_customer=invoice_customer[order],
        invoice_country=countries[order],
        normal_global=position[:n_normal][normal_order],
        normal_lines=lines[normal_order],
        normal_extra=extra[normal_order],
        normal_dotcom=dotcom[normal_order],
        normal_month=cal.month[day][normal_order],
        cancel_global=cancel_global[normal_order],
        cancel_lines=cancel_lines[normal_order],
        single_global=single_global[single_order],
        single_item=single_item[single_order],
        single_quantity=single_qty[single_order],
        single_price=single_price[single_order],
        countries=pa.array(country_names, pa.string()),
        country_names=names,
    )


# --- lines, block by block ------------------------------------------------------------------


def _block_lines(plan: _Plan, block: int, seed: int) -> dict[str, np.ndarray]:
    """Lines of one block of normal invoices, of the C invoices that cancel part of
    them, and of the single-line invoices that fall between them."""
    rng = np.random.default_rng([seed, GENERATOR_VERSION, 1, block])
    cat = _catalogue()
    lo, hi = block * _BLOCK_INVOICES, min((block + 1) * _BLOCK_INVOICES, len(plan.normal_lines))
    lines = plan.normal_lines[lo:hi]
    n_inv = hi - lo
    invoice = np.repeat(np.arange(n_inv), lines)
    offsets = np.concatenate([[0], np.cumsum(lines)[:-1]])
    n = len(invoice)
    position = np.arange(n) - offsets[invoice]
    global_of_invoice = plan.normal_global[lo:hi]
    customer = plan.invoice_customer[global_of_invoice][invoice]
    ident = customer >= 0
    month = plan.normal_month[lo:hi][invoice]

    # the product that starts each run of a family: a favourite, Christmas goods or any
    favourite = ident & (rng.random(n) < _P_FAVOURITE)
    xmas = ~favourite & (rng.random(n) < _XMAS_SHARE[month])
    root = _draw(rng, cat.regular_cdf, cat.regular_ids, n)
    root[xmas] = _draw(rng, cat.xmas_cdf, cat.xmas_ids, int(xmas.sum()))
    pick = rng.integers(0, _N_FAVOURITES, n)
    root[favourite] = plan.favourites[customer[favourite], pick[favourite]]
    # runs: a line continues the previous line's family while the family lasts
    start = (position == 0) | (rng.random(n) >= _P_FOLLOW)
    for _ in range(10):
        first = np.flatnonzero(start)
        run = np.cumsum(start) - 1
        head = root[first][run]
        step = np.arange(n) - first[run]
        too_far = step >= cat.family_size[head]
        if not too_far.any():
            break
        start |= too_far
    family_start = cat.family_start[head]
    item = family_start + (head - family_start + step) % cat.family_size[head]

    # quantities: small retail quantities, or multiples of the wholesale pack
    safe = np.maximum(customer, 0)
    small = rng.random(n) < np.where(ident, plan.small_share[safe], 1.0)
    small_qty = np.array([1, 2, 3, 4, 6])[
        np.searchsorted([0.3, 0.55, 0.7, 0.85, 1.0], rng.random(n), side="right").clip(0, 4)
    ]
    multiple = np.maximum(1, np.rint(plan.qty_scale[safe] * rng.lognormal(0.0, 0.45, n)))
    anon_qty = np.minimum(rng.geometric(0.55, n), 24)
    quantity = np.where(small, small_qty, cat.pack[item] * multiple).astype(np.int64)
    quantity = np.where(ident, quantity, anon_qty)
    price = cat.price[item]
    price = np.where(ident & ~small & (multiple >= 5), np.round(price * 0.85, 2), price)
    dotcom = plan.normal_dotcom[lo:hi][invoice]
    price = np.where(dotcom, np.round(price * 1.65, 2), price)

    # service lines at the end of some invoices
    extra = plan.normal_extra[lo:hi]
    with_extra = np.flatnonzero(extra >= 0)
    subtotal = np.bincount(invoice, weights=quantity * price, minlength=n_inv)
    kind = extra[with_extra]
    country_name = plan.country_names[plan.invoice_country[global_of_invoice[with_extra]]]
    near = np.isin(country_name, list(_NEAR))
    e_qty = np.where(kind == _POST, rng.choice([1, 1, 1, 2, 2, 3], len(kind)), 1)
    e_qty = np.where(kind == _MANUAL, rng.choice([1, 2, 6, 12], len(kind)), e_qty)
    e_price = np.select(
        [kind == _POST, kind == _CARRIAGE, kind == _DOT],
        [
            np.where(near, 18.0, 40.0),
            50.0,
            np.round(np.maximum(0.08 * subtotal[with_extra], 2.5), 2),
        ],
        np.round(rng.lognormal(np.log(2.5), 1.0, len(kind)), 2),
    )

    # C invoices: the first lines of the cancelled order, all or part of the quantity
    cancelled = np.flatnonzero(plan.cancel_lines[lo:hi] > 0)
    c_count = plan.cancel_lines[lo:hi][cancelled]
    c_invoice = np.repeat(plan.cancel_global[lo:hi][cancelled], c_count)
    c_line = np.repeat(offsets[cancelled], c_count) + (
        np.arange(c_count.sum()) - np.repeat(np.cumsum(c_count) - c_count, c_count)
    )
    c_qty = quantity[c_line]
    partial = rng.random(len(c_line)) < 0.35
    c_qty = -np.where(partial, np.maximum(1, np.ceil(c_qty * rng.random(len(c_line)))), c_qty)

    # single-line invoices between this block's first invoice and the next block's
    g_lo = 0 if block == 0 else int(plan.normal_global[lo])
    g_hi = int(plan.normal_global[hi]) if hi < len(plan.normal_global) else np.iinfo(np.int64).max
    s = slice(*np.searchsorted(plan.single_global, [g_lo, g_hi]))

    service = cat.n_products  # service codes follow the products in the catalogue
    invoices = [global_of_invoice[invoice], global_of_invoice[with_extra], c_invoice]
    return {
        "invoice": np.concatenate([*invoices, plan.single_global[s]]),
        "item": np.concatenate([item, service + kind, item[c_line], service + plan.single_item[s]]),
        "quantity": np.concatenate([quantity, e_qty, c_qty, plan.single_quantity[s]]).astype(
            np.int64
        ),
        "price": np.concatenate([price, e_price, price[c_line], plan.single_price[s]]),
    }


def _to_table(plan: _Plan, rows: dict[str, np.ndarray]) -> pa.Table:
    cat = _catalogue()
    invoice = pa.array(rows["invoice"])
    item = pa.array(rows["item"])
    customer = plan.invoice_customer[rows["invoice"]]
    return pa.table(
        {
            "invoice_no": plan.invoice_no.take(invoice),
            "stock_code": cat.codes.take(item),
            "description": cat.descriptions.take(item),
            "quantity": pa.array(rows["quantity"], pa.int64()),
            "invoice_date": pa.array(plan.invoice_at[rows["invoice"]], pa.timestamp("us")),
            "unit_price": pa.array(np.round(rows["price"], 2), pa.float64()),
            "customer_id": pa.array(
                plan.customer_ids[np.maximum(customer, 0)], pa.int64(), mask=customer < 0
            ),
            "country": plan.countries.take(pa.array(plan.invoice_country[rows["invoice"]])),
        },
        schema=RETAIL_SCHEMA,
    )


def _concat(parts: list[dict[str, np.ndarray]]) -> dict[str, np.ndarray]:
    return {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}


def _take(rows: dict[str, np.ndarray], index: np.ndarray | slice) -> dict[str, np.ndarray]:
    return {k: v[index] for k, v in rows.items()}


def generate_demo(
    n_rows: int = DEFAULT_ROWS, seed: int = 42, chunk_rows: int = 500_000
) -> Iterator[pa.Table]:
    """Generate demo retail lines, in invoice order, as Arrow chunks.

    Parameters
    ----------
    n_rows : int
        Exactly how many lines to generate (default: ``DEFAULT_ROWS``).
    seed : int
        The same seed and ``n_rows`` give the same lines, whatever ``chunk_rows``.
    chunk_rows : int
        Most lines per chunk (default: 500,000); memory stays flat for any ``n_rows``.

    Yields
    ------
    pyarrow.Table
        Lines typed as :data:`lgs_analysis.validate.RETAIL_SCHEMA`.

    Raises
    ------
    ValueError
        If ``n_rows`` or ``chunk_rows`` is below 1.
    """
    if n_rows < 1:
        raise ValueError(f"n_rows must be at least 1, got {n_rows}")
    if chunk_rows < 1:
        raise ValueError(f"chunk_rows must be at least 1, got {chunk_rows}")
    plan = _build_plan(max(n_rows, _MIN_PLAN_ROWS), seed)
    n_normal = len(plan.normal_lines)
    n_blocks = -(-n_normal // _BLOCK_INVOICES)
    pending: dict[str, np.ndarray] | None = None  # C lines of later invoices
    ready: list[dict[str, np.ndarray]] = []
    count_ready = emitted = 0
    for block in range(n_blocks):
        rows = _block_lines(plan, block, seed)
        rows = rows if pending is None else _concat([pending, rows])
        rows = _take(rows, np.argsort(rows["invoice"], kind="stable"))
        following = (block + 1) * _BLOCK_INVOICES
        last = following >= n_normal
        cut = len(rows["invoice"])
        if not last:  # lines of invoices up to the next block's first are complete
            cut = int(np.searchsorted(rows["invoice"], plan.normal_global[following]))
        pending = _take(rows, slice(cut, None))
        ready.append(_take(rows, slice(0, cut)))
        count_ready += cut
        if count_ready < chunk_rows and not last:
            continue
        rows, done = _concat(ready), 0
        while count_ready - done >= chunk_rows or (last and done < count_ready):
            size = min(chunk_rows, count_ready - done, n_rows - emitted)
            yield _to_table(plan, _take(rows, slice(done, done + size)))
            done += size
            emitted += size
            if emitted >= n_rows:
                return
        ready, count_ready = [_take(rows, slice(done, None))], count_ready - done


# --- warehouse ----------------------------------------------------------------------------


def load_demo(
    engine: Engine | None = None, n_rows: int = DEFAULT_ROWS, seed: int = 42
) -> LoadResult:
    """Load demo data into the warehouse as the batch named ``demo``.

    Loading the same ``n_rows`` and ``seed`` again is a no-op; another size or seed
    replaces the earlier demo batch.

    Parameters
    ----------
    engine : Engine, optional
        The warehouse (default: ``LGS_DATABASE_URL``).
    n_rows, seed : int
        As for :func:`generate_demo`.
    """
    engine = engine or get_engine()
    empty = pd.DataFrame(columns=QUARANTINE_COLUMNS)
    return load_batch(
        engine,
        source_kind="demo",
        source_name="demo",
        fingerprint=f"demo:{n_rows}:{seed}:v{GENERATOR_VERSION}",
        chunks=((chunk, empty) for chunk in generate_demo(n_rows, seed)),
    )


def is_demo(conn: Connection | Engine) -> bool:
    """Whether any of the warehouse's retail lines come from a demo batch.

    The warehouse schema must exist (see :func:`lgs_analysis.warehouse.ensure_schema`).
    """
    return int(run_query(conn, "ingest/demo_batches")["count_demo_batches"].iloc[0]) > 0


def ensure_data(engine: Engine) -> bool:
    """Fill an empty warehouse with demo data.

    Returns
    -------
    bool
        True when the warehouse holds demo data (loaded now or before).
    """
    ensure_schema(engine)
    with engine.connect() as conn:
        count_lines = data_range(conn)[2]
    if count_lines == 0:
        result = load_demo(engine)
        message = f"warehouse is empty: loaded {result.count_loaded:,} rows of demo data"
        logger.warning(message)
        return True
    with engine.connect() as conn:
        return is_demo(conn)
