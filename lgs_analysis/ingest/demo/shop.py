"""The fixed shop behind the demo data, shared by every seed: its catalogue of products
(families of colour and design variants, prices, packs), its non-product codes, its
customers' countries and its trading calendar."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import pandas as pd
import pyarrow as pa

__all__ = ["Calendar", "Catalogue", "trading_calendar", "catalogue", "draw", "minutes_of_day"]

FIRST_DAY = np.datetime64("2009-12-01")
LAST_DAY = np.datetime64("2011-12-09")

_ZIPF_OFFSET, _ZIPF_POWER, _HEAD_BOOST = 25.0, 0.95, 1.0  # family popularity
_FAVOURITE_FLATTEN = 0.6  # favourites are drawn from popularity ** this: broader tastes

# month -> weight of trade (1 = an ordinary month): quiet winter, busy autumn, November peak
_MONTH_WEIGHT = np.array([0.72, 0.72, 0.95, 0.82, 1.0, 0.95, 0.92, 0.92, 1.3, 1.45, 1.85, 1.1])
# Monday..Sunday; the shop takes no orders on Saturdays
_WEEKDAY_WEIGHT = np.array([1.0, 1.05, 1.0, 1.1, 0.85, 0.0, 0.65])
_HOUR_WEIGHT = {7: 0.4, 8: 9, 9: 34, 10: 49, 11: 58, 12: 79, 13: 72, 14: 67, 15: 77,
                16: 55, 17: 28, 18: 8, 19: 4, 20: 1}  # fmt: skip
# share of a month's lines that are Christmas goods
XMAS_SHARE = np.array([0.01, 0.01, 0.01, 0.01, 0.02, 0.03, 0.05, 0.09, 0.16, 0.22, 0.24, 0.12])

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
POST, DOT, MANUAL, DISCOUNT, CARRIAGE, BANK, AMAZON, CRUK, BAD_DEBT = range(9)
# single-line C invoices: (service, count per 500,000 lines, median price, price spread)
FEE_INVOICES = [
    (DISCOUNT, 60, 20.0, 0.8), (MANUAL, 60, 10.0, 1.0), (BANK, 15, 15.0, 0.0),
    (AMAZON, 20, 1_500.0, 0.7), (CRUK, 12, 200.0, 0.8),
]  # fmt: skip

UK = "United Kingdom"
# other countries of identified customers, with weights (real shares of non-UK lines)
COUNTRIES = [
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
NEAR = {"Germany", "France", "Spain", "Netherlands", "Belgium", "Switzerland", "Portugal",
         "Italy", "Finland", "Sweden", "Austria", "Denmark", "Poland", "Norway", "Lithuania",
         "Czech Republic", "European Community", "Unspecified"}  # fmt: skip
CARRIAGE_COUNTRIES = {"EIRE", "Channel Islands"}


# --- calendar and catalogue (fixed, shared by every seed) ----------------------------------


@dataclass(frozen=True)
class Calendar:
    days: np.ndarray  # datetime64[D] of the shop days
    cdf: np.ndarray  # cumulative share of trade up to and including each day
    month: np.ndarray  # month of each day, 0..11


@lru_cache(maxsize=1)
def trading_calendar() -> Calendar:
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
    return Calendar(days[keep], cdf, month[keep])


@dataclass(frozen=True)
class Catalogue:
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
def catalogue() -> Catalogue:
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
    return Catalogue(
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


def draw(rng: np.random.Generator, cdf: np.ndarray, ids: np.ndarray, n: int) -> np.ndarray:
    return ids[np.minimum(np.searchsorted(cdf, rng.random(n), side="right"), len(ids) - 1)]


def _hours(rng: np.random.Generator, n: int) -> np.ndarray:
    hours = np.array(list(_HOUR_WEIGHT))
    weight = np.array(list(_HOUR_WEIGHT.values()), dtype=float)
    return rng.choice(hours, n, p=weight / weight.sum())


def minutes_of_day(rng: np.random.Generator, day: np.ndarray, last_day: int) -> np.ndarray:
    hour = _hours(rng, len(day))
    hour = np.where(day == last_day, 8 + hour % 5, hour)  # the data ends at lunchtime
    return hour * 60 + rng.integers(0, 60, len(day))
