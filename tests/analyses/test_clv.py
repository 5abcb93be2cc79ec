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
