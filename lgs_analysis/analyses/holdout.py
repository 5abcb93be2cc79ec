"""The persistent random holdout: every customer's bucket, and who is held out.

Each customer has a stable **bucket**, 0 to 9,999: the first 8 hex digits of
``md5("<salt>:<customer id>")`` read as a number, modulo 10,000. A customer is **held out**
(a control: never mailed) when ``bucket < holdout_share × 10,000``. The bucket depends only
on the salt and the customer id, so with the same salt a customer held out this month is
held out next month, in every segment, as in a global control group (Braze, Klaviyo).

This module is the one definition of the hash. ``sql/analyses/holdout_buckets.sql``
writes it in SQL, so the warehouse gives the same bucket on DuckDB, PostgreSQL and Spark
(tests check all three against :func:`holdout_buckets`). md5 is chosen because every
engine has it and it is spread evenly, not for secrecy; Python's ``hash()`` changes per
process and is never used.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from datetime import date, datetime

import numpy as np
import pandas as pd
from sqlalchemy.engine import Connection, Engine

from ..warehouse import run_query

__all__ = [
    "BUCKETS",
    "SALT_PATTERN",
    "check_salt",
    "holdout_buckets",
    "holdout_limit",
    "fetch_holdout_buckets",
    "assign_groups",
]

BUCKETS = 10_000
# plain ASCII, so that every engine hashes the same bytes
SALT_PATTERN = re.compile(r"^[A-Za-z0-9 ._:-]{1,64}$")


def check_salt(salt: str) -> str:
    """Return ``salt`` if it is 1 to 64 letters, digits, spaces or ``. _ : -``.

    Raises
    ------
    ValueError
        Naming the rule, for any other text.
    """
    if not isinstance(salt, str) or not SALT_PATTERN.match(salt):
        raise ValueError(
            f"holdout salt {salt!r} must be 1 to 64 letters, digits, spaces or . _ : -"
        )
    return salt


def holdout_buckets(customer_ids: Iterable[int], salt: str) -> np.ndarray:
    """The bucket (0 to 9,999) of each customer id under ``salt``, in the given order."""
    check_salt(salt)
    prefix = f"{salt}:".encode()
    md5 = hashlib.md5
    return np.fromiter(
        (
            int(md5(prefix + str(int(c)).encode(), usedforsecurity=False).hexdigest()[:8], 16)
            % BUCKETS
            for c in customer_ids
        ),
        dtype=np.int64,
    )


def holdout_limit(share: float) -> int:
    """The first bucket that is *not* held out: ``round(share × 10,000)``."""
    return int(round(float(share) * BUCKETS))


def _dt(day: date) -> datetime:
    return datetime(day.year, day.month, day.day)


def fetch_holdout_buckets(
    conn: Connection | Engine, start: date, end: date, salt: str
) -> pd.Series:
    """customer_id -> bucket, computed in the warehouse, for the customers with a purchase
    line in [start, end) (the RFM window's customers)."""
    raw = run_query(
        conn, "analyses/holdout_buckets", start=_dt(start), end=_dt(end), salt=check_salt(salt)
    )
    return pd.Series(
        raw["bucket"].astype("int64").to_numpy(),
        index=raw["customer_id"].astype("int64").to_numpy(),
        name="bucket",
    )


def assign_groups(buckets: pd.Series | np.ndarray, share: float) -> np.ndarray:
    """``"holdout"`` where the bucket lies below the share's limit, else ``"target"``."""
    values = np.asarray(buckets, dtype=np.int64)
    return np.where(values < holdout_limit(share), "holdout", "target").astype(object)
