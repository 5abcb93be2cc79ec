import warnings

import pandas as pd
import pytest
from pandas.testing import assert_frame_equal

from lgs_analysis.analyses.rfm import (
    RFM_COLUMNS,
    SEGMENT_COLUMNS,
    SEGMENT_ORDER,
    assign_segments,
    score_rfm,
    summarize_segments,
)


def _basis(recency, frequency, monetary):
    return pd.DataFrame(
        {
            "customer_id": range(1, len(recency) + 1),
            "recency": recency,
            "frequency": frequency,
            "monetary": monetary,
        }
    )


class TestScoreRfm:
    def test_quintiles_on_ten_distinct_customers(self):
        basis = _basis(list(range(10, 0, -1)), list(range(1, 11)), [float(x) for x in range(1, 11)])
        scored = score_rfm(basis)
        # customer 1: oldest, least frequent, least value -> 1,1,1; customer 10 -> 5,5,5
        assert scored[["r", "f", "m"]].iloc[0].tolist() == [1, 1, 1]
        assert scored[["r", "f", "m"]].iloc[-1].tolist() == [5, 5, 5]
        assert scored["r"].value_counts().tolist() == [2] * 5
        assert scored.loc[0, "segment"] == "Hibernating"
        assert scored.loc[9, "segment"] == "Champions"

    def test_frequency_ties_broken_by_rank_first(self):
        basis = _basis([1, 2, 3, 4, 5], [1, 1, 1, 1, 1], [1.0, 2.0, 3.0, 4.0, 5.0])
        scored = score_rfm(basis)
        assert scored["f"].tolist() == [1, 2, 3, 4, 5]

    def test_recency_ties_fall_back_to_ranks_with_warning(self):
        basis = _basis([1, 1, 1, 1, 1, 1, 2], list(range(1, 8)), [float(x) for x in range(7)])
        with pytest.warns(UserWarning, match="recency"):
            scored = score_rfm(basis)
        assert scored["r"].between(1, 5).all()

    @pytest.mark.parametrize("n", [1, 2, 3, 4], ids=lambda n: f"{n}-customers")
    def test_tiny_period_does_not_crash(self, n):
        basis = _basis(list(range(1, n + 1)), [1] * n, [10.0] * n)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            scored = score_rfm(basis)
        assert len(scored) == n
        assert scored["segment"].notna().all()

    def test_empty_returns_fixed_columns(self):
        scored = score_rfm(_basis([], [], []))
        assert list(scored.columns) == RFM_COLUMNS
        assert scored.empty

    def test_custom_column_names(self):
        basis = pd.DataFrame(
            {
                "cid": [1, 2, 3, 4, 5],
                "days": [5, 4, 3, 2, 1],
                "orders": [1, 2, 3, 4, 5],
                "value": [1.0, 2, 3, 4, 5],
            }
        )
        scored = score_rfm(
            basis,
            customer_id_col="cid",
            recency_col="days",
            frequency_col="orders",
            monetary_col="value",
        )
        assert scored["customer_id"].tolist() == [1, 2, 3, 4, 5]

    def test_missing_column_is_named(self):
        with pytest.raises(ValueError, match="monetary_col='monetary'"):
            score_rfm(pd.DataFrame({"customer_id": [1], "recency": [1], "frequency": [1]}))


@pytest.mark.parametrize(
    ("r", "f", "segment"),
    [
        (5, 5, "Champions"),
        (5, 4, "Champions"),
        (4, 5, "Loyal Customers"),
        (3, 4, "Loyal Customers"),
        (5, 2, "Potential Loyalists"),
        (4, 3, "Potential Loyalists"),
        (5, 1, "New Customers"),
        (4, 1, "Promising"),
        (3, 3, "Need Attention"),
        (3, 1, "About to Sleep"),
        (3, 2, "About to Sleep"),
        (2, 3, "At Risk"),
        (1, 4, "At Risk"),
        (1, 5, "Can't Lose"),
        (2, 5, "Can't Lose"),
        (1, 1, "Hibernating"),
        (2, 2, "Hibernating"),
    ],
)
def test_assign_segments_standard_map(r, f, segment):
    assert assign_segments(pd.Series([r]), pd.Series([f])).iloc[0] == segment


def test_assign_segments_override():
    out = assign_segments(pd.Series([1]), pd.Series([5]), {"[1-2]5": "Whales Drifting"})
    assert out.iloc[0] == "Whales Drifting"


def test_assign_segments_rejects_incomplete_map():
    with pytest.raises(ValueError, match="without a segment"):
        assign_segments(pd.Series([1]), pd.Series([1]), {"[1-2][1-2]": None})


def test_summarize_segments_hand_computed():
    scored = pd.DataFrame(
        {
            "customer_id": [1, 2, 3, 4],
            "recency": [10, 20, 300, 100],
            "frequency": [10, 8, 1, 2],
            "monetary": [500.0, 300.0, 100.0, 100.0],
            "r": [5, 5, 1, 2],
            "f": [5, 4, 1, 2],
            "m": [5, 4, 1, 1],
            "segment": ["Champions", "Champions", "Hibernating", "Hibernating"],
        }
    )
    table = summarize_segments(scored)
    assert list(table.columns) == SEGMENT_COLUMNS
    assert table["segment"].tolist() == SEGMENT_ORDER
    got = table.set_index("segment").loc[["Champions", "Hibernating"]].reset_index()
    expected = pd.DataFrame(
        {
            "segment": ["Champions", "Hibernating"],
            "customers": [2, 2],
            "customer_share": [0.5, 0.5],
            "revenue": [800.0, 200.0],
            "revenue_share": [0.8, 0.2],
            "mean_recency": [15.0, 200.0],
            "mean_frequency": [9.0, 1.5],
            "mean_monetary": [400.0, 100.0],
        }
    )
    assert_frame_equal(got, expected, check_dtype=False)
    assert table.set_index("segment").loc["Can't Lose", "customers"] == 0
