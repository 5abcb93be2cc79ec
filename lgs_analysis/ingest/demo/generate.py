"""Draw demo retail lines shaped like LGS's real data, deterministically.

The data covers
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

Customers grow as the square root of lines by default (the demo stays a shop of LGS's
size). ``linear_customers=True`` gives the shape of a bigger shop of the same kind, for
benchmarks: one customer per :data:`LINES_PER_CUSTOMER` lines of the span, so that a
year holds about 120 lines per customer active in it, as the real 2011 does.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ..validate import RETAIL_SCHEMA
from .shop import (
    AMAZON,
    BAD_DEBT,
    CARRIAGE,
    CARRIAGE_COUNTRIES,
    COUNTRIES,
    CRUK,
    DOT,
    FEE_INVOICES,
    FIRST_DAY,
    MANUAL,
    NEAR,
    POST,
    UK,
    XMAS_SHARE,
    catalogue,
    draw,
    minutes_of_day,
    trading_calendar,
)

__all__ = ["DEFAULT_ROWS", "GENERATOR_VERSION", "LINES_PER_CUSTOMER", "generate_demo"]

DEFAULT_ROWS = 500_000
GENERATOR_VERSION = 1  # bump whenever the generated lines change, so a reload happens

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
# linear_customers: lines of the whole two-year span per customer. Customers join and
# lapse within it, so 2011 holds about 120 lines per customer active in it (the real 2011:
# 117.7 lines per identified customer; 2M generated lines measured 86 at 124 per customer)
LINES_PER_CUSTOMER = 175.0
# customer size z ~ N(0, 1): orders per year ~ exp(_FREQ_SIGMA z), pack multiple
# ~ exp(_QTY_SIGMA z); the largest _BIG_SHARE are wholesalers buying _BIG_QTY times more
_FREQ_SIGMA, _QTY_SIGMA, _BIG_SHARE, _BIG_QTY = 1.0, 0.35, 0.015, 2.5
_UK_CUSTOMER_SHARE = 0.895
_P_FOLLOW = 0.62  # next line is another member of the previous line's product family
_P_FAVOURITE = 0.4  # a customer's line is one of the products they keep buying
_N_FAVOURITES = 30

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
    return [UK] + [c for c, _ in COUNTRIES]


def _draw_customers(rng: np.random.Generator, n_cust: int, wide_ids: bool) -> _Customers:
    """Customers of heavy-tailed size: the big ones order often and in bulk."""
    cat = catalogue()
    size = rng.standard_normal(n_cust)
    frequency = np.exp(_FREQ_SIGMA * size)
    big = size > np.quantile(size, 1 - _BIG_SHARE)
    qty_scale = np.exp(_QTY_SIGMA * size + 0.3 * rng.standard_normal(n_cust))
    qty_scale *= np.where(big, _BIG_QTY, 1.0)
    small_share = np.clip(0.7 - 0.25 * size, 0.05, 0.95)
    span = int(n_cust * 1.45) + 1  # 5-digit ids, as LGS's, unless the shop is bigger
    span = span if wide_ids else min(span, 99_999 - 12_346 + 1)
    customer_ids = rng.choice(span, n_cust, replace=False) + 12_346
    country_weight = np.array([w for _, w in COUNTRIES])
    foreign = rng.choice(len(COUNTRIES), n_cust, p=country_weight / country_weight.sum()) + 1
    customer_country = np.where(rng.random(n_cust) < _UK_CUSTOMER_SHARE, 0, foreign)
    favourites = draw(rng, cat.favourite_cdf, cat.regular_ids, n_cust * _N_FAVOURITES)
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
    cal = trading_calendar()
    n_days = len(cal.days)
    n_cust = len(customers.ids)
    single_item, single_qty, single_price, single_cust = [], [], [], []
    for item, per_default, median, spread in FEE_INVOICES:
        k = max(2, int(round(per_default * n_rows / DEFAULT_ROWS)))
        single_item.append(np.full(k, item))
        single_price.append(median * rng.lognormal(0.0, spread, k))
        single_qty.append(np.full(k, -1))
        if item == AMAZON:
            single_cust.append(np.full(k, -1))
        elif item == CRUK:  # one charity partner
            single_cust.append(np.full(k, int(np.argmax(customers.size < 0))))
        else:
            single_cust.append(
                rng.choice(n_cust, k, p=customers.frequency / customers.frequency.sum())
            )
    n_fee = sum(len(a) for a in single_item)
    n_events = max(1, int(round(n_rows / 1_000_000)))
    adjust_amount = np.repeat(rng.uniform(2_000, 15_000, n_events), 3)
    adjust_sign = np.tile([1.0, -1.0, -1.0], n_events)
    single_item.append(np.full(3 * n_events, BAD_DEBT))
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
    s_minute = minutes_of_day(rng, s_day, n_days - 1)
    s_minute[n_fee:] = np.repeat(s_minute[n_fee::3], 3)

    return {
        "item": single_item,
        "quantity": single_qty,
        "price": single_price,
        "customer": single_cust,
        "day": s_day,
        "minute": s_minute,
    }


def _build_plan(n_rows: int, seed: int, linear_customers: bool = False) -> _Plan:
    rng = np.random.default_rng([seed, GENERATOR_VERSION, 0])
    cal = trading_calendar()
    n_days = len(cal.days)

    if linear_customers:
        n_cust = int(round(n_rows / LINES_PER_CUSTOMER))
    else:
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

    customers = _draw_customers(rng, max(1, min(n_cust, n_ident // 3)), linear_customers)
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
    minute = minutes_of_day(rng, day, n_days - 1)

    country = np.where(ident, customer_country[np.maximum(normal_customer, 0)], 0)
    anon_foreign = anonymous & (rng.random(n_normal) < 0.04)
    web_abroad = [_country_names().index(c) for c in ("EIRE", "Germany", "France", "Hong Kong")]
    country[anon_foreign] = rng.choice(web_abroad, int(anon_foreign.sum()))
    dotcom = anonymous & (rng.random(n_normal) < _DOTCOM_SHARE)

    # one service line on some invoices: postage abroad, carriage to Ireland, dotcom postage
    country_names = _country_names()
    names = np.array(country_names, dtype=object)
    is_carriage_country = np.isin(names[country], list(CARRIAGE_COUNTRIES))
    extra = np.full(n_normal, -1, dtype=np.int64)
    r = rng.random(n_normal)
    extra[ident & (country != 0) & ~is_carriage_country & (r < 0.65)] = POST
    extra[ident & is_carriage_country & (r < 0.5)] = CARRIAGE
    extra[dotcom & (r < 0.95)] = DOT
    extra[ident & (country == 0) & (r > 0.994)] = MANUAL

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
        minutes_of_day(rng, c_day, n_days - 1),
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
            np.where(single_item == BAD_DEBT, 2, 1),
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
    cat = catalogue()
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
    xmas = ~favourite & (rng.random(n) < XMAS_SHARE[month])
    root = draw(rng, cat.regular_cdf, cat.regular_ids, n)
    root[xmas] = draw(rng, cat.xmas_cdf, cat.xmas_ids, int(xmas.sum()))
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
    near = np.isin(country_name, list(NEAR))
    e_qty = np.where(kind == POST, rng.choice([1, 1, 1, 2, 2, 3], len(kind)), 1)
    e_qty = np.where(kind == MANUAL, rng.choice([1, 2, 6, 12], len(kind)), e_qty)
    e_price = np.select(
        [kind == POST, kind == CARRIAGE, kind == DOT],
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
    cat = catalogue()
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
    n_rows: int = DEFAULT_ROWS,
    seed: int = 42,
    chunk_rows: int = 500_000,
    linear_customers: bool = False,
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
    linear_customers : bool (default: False)
        One customer per :data:`LINES_PER_CUSTOMER` lines (a bigger shop's shape, for
        benchmarks) instead of customers growing as the square root of lines.

    Yields
    ------
    pyarrow.Table
        Lines typed as :data:`lgs_analysis.ingest.validate.RETAIL_SCHEMA`.

    Raises
    ------
    ValueError
        If ``n_rows`` or ``chunk_rows`` is below 1.
    """
    if n_rows < 1:
        raise ValueError(f"n_rows must be at least 1, got {n_rows}")
    if chunk_rows < 1:
        raise ValueError(f"chunk_rows must be at least 1, got {chunk_rows}")
    plan = _build_plan(max(n_rows, _MIN_PLAN_ROWS), seed, linear_customers)
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
