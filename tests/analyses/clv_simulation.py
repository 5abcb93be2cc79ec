"""Customer bases drawn from known BG/NBD and Gamma-Gamma parameters, for the CLV tests and
`make bench clv`: nothing here calls the package's fitting code."""

from __future__ import annotations

import numpy as np
import pandas as pd

# in days, near the real data's fit, but with a dropout the data can identify
BGNBD = (0.8, 70.0, 0.5, 10.0)  # r, alpha, a, b
GAMMA_GAMMA = (2.0, 3.5, 500.0)  # p, q, v


def simulate_base(
    customers: int,
    rng: np.random.Generator,
    bgnbd: tuple[float, ...] = BGNBD,
    gamma_gamma: tuple[float, ...] = GAMMA_GAMMA,
    max_age: float = 365.0,
) -> pd.DataFrame:
    """A customer base as :func:`lgs_analysis.analyses.clv.fetch_clv_summary` returns it:
    each customer's first purchase 30 to ``max_age`` days before the end, purchases a
    Poisson process at rate lambda ~ Gamma(r, alpha), dropping out after each purchase
    with probability p ~ Beta(a, b) (no dropout when a = 0); spend per purchase Gamma(p,
    nu) with nu ~ Gamma(q, v)."""
    r, alpha, a, b = bgnbd
    p, q, v = gamma_gamma
    rate = rng.gamma(r, 1 / alpha, customers)
    drop = rng.beta(a, b, customers) if a > 0 else np.zeros(customers)
    age = rng.uniform(30, max_age, customers)
    time = np.zeros(customers)
    count = np.zeros(customers, dtype="int64")
    last = np.zeros(customers)
    alive = np.ones(customers, dtype=bool)
    while alive.any():
        time = time + rng.exponential(1 / rate)
        buying = alive & (time < age)
        count[buying] += 1
        last[buying] = time[buying]
        alive = buying & (rng.random(customers) >= drop)
    nu = rng.gamma(q, 1 / v, customers)
    repeat = count > 0
    mean_spend = np.zeros(customers)
    mean_spend[repeat] = rng.gamma(p * count[repeat], 1 / (nu[repeat] * count[repeat]))
    return pd.DataFrame(
        {
            "customer_id": np.arange(1, customers + 1),
            "frequency": count,
            "recency": last,
            "age": age,
            "monetary_value": mean_spend,
        }
    )
