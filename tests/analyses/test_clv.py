"""CLV: the likelihoods on hand-made customers, and the fit on real data."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import pytest
from scipy.special import gammaln

from lgs_analysis.analyses import clv, clv_holdout
from lgs_analysis.warehouse import get_engine


def test_bgnbd_log_likelihood_one_time_buyer_closed_form():
    # x = 0: LL = r log(alpha / (alpha + T)) (the customer never repurchased)
    params = np.array([0.5, 10.0, 1.0, 2.0])
    got = clv._bgnbd_log_likelihood(params, np.array([0.0]), np.array([0.0]), np.array([30.0]))
    assert got[0] == pytest.approx(0.5 * np.log(10 / 40))


def test_gamma_gamma_log_likelihood_single_purchase_is_gamma_density():
    # x = 1: m ~ Gamma(p, nu), nu ~ Gamma(q, v) -> compound density at m
    p, q, v, m = 2.0, 3.0, 50.0, 20.0
    got = clv._gamma_gamma_log_likelihood(np.array([p, q, v]), np.array([1.0]), np.array([m]))
    expected = (
        gammaln(p + q)
        - gammaln(p)
        - gammaln(q)
        + q * np.log(v)
        + (p - 1) * np.log(m)
        - (p + q) * np.log(m + v)
    )
    assert got[0] == pytest.approx(expected)


def test_fit_clv_too_few_customers():
    tiny = pd.DataFrame(
        {"customer_id": [1], "frequency": [0], "recency": [0], "age": [5], "monetary_value": [0.0]}
    )
    with pytest.raises(clv.ClvModelError, match="too few customers"):
        clv.fit_clv(tiny)


@pytest.fixture(scope="module")
def real_fit(real_duckdb_url):
    with get_engine(real_duckdb_url).connect() as conn:
        summary = clv.fetch_clv_summary(conn, date(2011, 12, 10))
        holdout = clv_holdout.evaluate_holdout(conn, date(2011, 12, 10), 3).check
    return summary, clv.fit_clv(summary), holdout


def test_fetch_clv_summary_real_matches_raw_purchase_days(real_fit, real_frame):
    summary, _, _ = real_fit
    raw = real_frame[
        (real_frame["CustomerID"] != "")
        & ~real_frame["InvoiceNo"].str.startswith(("C", "A"))
        & (real_frame["Quantity"].astype(int) > 0)
        & (real_frame["UnitPrice"].astype(float) > 0)
    ]
    days = pd.to_datetime(raw["InvoiceDate"], format="mixed").dt.normalize()
    per_customer = days.groupby(raw["CustomerID"].astype(float).astype(int)).nunique()
    got = summary.set_index("customer_id")["frequency"] + 1
    assert len(got) == len(per_customer)
    assert (got.sort_index().to_numpy() == per_customer.sort_index().to_numpy()).all()


def test_predict_clv_real_non_negative_and_fit_reported(real_fit):
    summary, fit, holdout = real_fit
    predicted = clv.predict_clv(summary, fit)
    assert len(predicted) == len(summary) == fit.customers
    assert (predicted["predicted_clv_12m"] >= 0).all()
    assert predicted["predicted_clv_12m"].sum() > 0
    assert all(np.isfinite(v) and v > 0 for v in fit.params.values())
    assert all(np.isfinite(v) for v in fit.log_likelihood.values())
    # the fitted BG/NBD beats a clearly worse parameter set
    x, t_x, T = (summary[c].to_numpy(dtype=float) for c in ("frequency", "recency", "age"))
    worse = clv._bgnbd_log_likelihood(fit.bgnbd * np.array([2, 0.5, 1, 1]), x, t_x, T).sum()
    assert fit.log_likelihood["bgnbd"] > worse
    # holdout: repeat purchases predicted within a factor of 2 of what happened
    assert 0.5 < holdout["predicted_to_actual"] < 2


# --- the probability of buying, the P(alive) rule, the intervals -----------------------------


def _no_purchase_by_integration(params, days, x, t_x, age) -> float:
    """P(no purchase in the next ``days``) from the BG/NBD story, integrated numerically
    over the purchase rate (scipy quad) with the dropout probability's Beta moments: a
    customer alive at ``age`` buys nothing in (age, age + days] with e^(-lambda days); one
    who dropped out after their x-th purchase never buys again."""
    from scipy import integrate, stats
    from scipy.special import betaln

    r, alpha, a, b = params

    def rate_moment(s: float) -> float:  # E[lambda^x e^(-lambda s)], lambda ~ Gamma(r, alpha)
        def f(lam):
            return stats.gamma.pdf(lam, r, scale=1 / alpha) * lam**x * np.exp(-lam * s)

        return integrate.quad(f, 0, np.inf, epsabs=0, epsrel=1e-11, limit=200)[0]

    still = np.exp(betaln(a, b + x) - betaln(a, b))  # E[(1 - p)^x]
    dropped = np.exp(betaln(a + 1, b + x - 1) - betaln(a, b)) if x > 0 else 0.0
    silent_after = dropped * rate_moment(t_x)
    return (still * rate_moment(age + days) + silent_after) / (
        still * rate_moment(age) + silent_after
    )


@pytest.mark.parametrize(
    "params",
    [(0.8, 70.0, 0.5, 10.0), (0.835, 71.5, 0.000484, 450.0), (0.3, 20.0, 2.0, 3.0)],
    ids=["dropout", "real-ridge", "strong-dropout"],
)
def test_probability_purchase_matches_numerical_integration(params):
    fit = clv.ClvFit(np.array(params), np.array([2.0, 3.0, 500.0]), 0, 0)
    customers = [(0, 0, 200), (1, 300, 310), (3, 150, 300), (10, 40, 350), (25, 360, 365)]
    x, t_x, age = (np.array(c, dtype=float) for c in zip(*customers, strict=True))
    got = clv.probability_purchase(fit, 90, x, t_x, age)
    want = [1 - _no_purchase_by_integration(params, 90, *c) for c in customers]
    assert got == pytest.approx(want, rel=1e-6)


def test_dropout_rule_identifies_simulated_dropout_only(real_fit):
    from tests.analyses.clv_simulation import simulate_base

    rng = np.random.default_rng(7)
    dropping = simulate_base(2_000, rng, bgnbd=(0.8, 70.0, 1.0, 5.0))
    staying = simulate_base(2_000, rng, bgnbd=(0.8, 70.0, 0.0, 1.0))  # nobody drops out
    fitted = clv.fit_clv(dropping)
    found = clv.identify_dropout(dropping, fitted)
    assert found["identified"] and found["p_value"] < 0.01
    shown = clv.predict_clv(dropping, fitted, dropout_identified=True)["p_alive"]
    assert shown.notna().all() and shown.between(0, 1).all() and shown.min() < 0.5
    assert not clv.identify_dropout(staying, clv.fit_clv(staying))["identified"]
    # the real data's 12 months cannot tell: the fit sits on the ridge, P(alive) is ~1 for all
    summary, fit, _ = real_fit
    real = clv.identify_dropout(summary, fit)
    assert not real["identified"] and real["p_value"] > 0.5
    silent = summary[summary["age"] - summary["recency"] > 200]
    alive = clv.probability_alive(fit, silent["frequency"], silent["recency"], silent["age"])
    assert np.median(alive) > 0.99  # what P(alive) would say of customers silent 200 days
    shown = clv.predict_clv(summary, fit, dropout_identified=real["identified"])
    assert shown["p_alive"].isna().all()


def test_interval_covers_the_true_expected_total_small():
    """The suite's small version of `make bench clv` (200 bases of 3,000 customers)."""
    from tests.bench.clv import coverage

    result = coverage(bases=8, customers=500, seed=5)
    assert result["covered"] >= 5  # P(<= 4 of 8) is 6% at a true 80%
    assert 0 < result["mean_width"] < 0.5


def test_likelihoods_by_draw_equal_the_fits_likelihoods():
    from lgs_analysis.analyses import clv_intervals

    rng = np.random.default_rng(3)
    x = rng.integers(0, 12, 300).astype(float)
    age = rng.uniform(30, 365, 300)
    t_x = np.where(x > 0, rng.uniform(0, 1, 300) * age, 0)
    m = rng.gamma(2, 100, 300)
    bg = np.array([[0.8, 70.0, 0.5, 10.0], [0.3, 20.0, 0.001, 400.0]])
    gg = np.array([[2.0, 3.5, 500.0], [1.0, 6.0, 100.0]])
    got = clv_intervals._bgnbd_by_draw(x, t_x, age)(bg.T[..., None])
    for row, params in enumerate(bg):
        assert got[row] == pytest.approx(clv._bgnbd_log_likelihood(params, x, t_x, age))
    repeat = x > 0
    got = clv_intervals._gamma_gamma_by_draw(x[repeat], m[repeat])(gg.T[..., None])
    for row, params in enumerate(gg):
        want = clv._gamma_gamma_log_likelihood(params, x[repeat], m[repeat])
        assert got[row] == pytest.approx(want)
