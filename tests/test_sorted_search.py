"""placeplan.sorted_search gives numpy.searchsorted's indices, whatever the values."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from placeplan.sorted_search import searchsorted

_numbers = st.integers(-50, 50).map(float) | st.floats(-60, 60) | st.just(np.inf)


@settings(max_examples=300, deadline=None)
@given(
    st.lists(_numbers, max_size=40),
    st.lists(_numbers | st.just(np.nan), min_size=0, max_size=400),
    st.booleans(),
    st.sampled_from(["left", "right"]),
    st.integers(0, 2**32),
)
def test_the_indices_are_numpys(table, values, sort, side, seed):
    """Ties with the table, repeated entries, NaN, unsorted values and short ones too.

    Half the cases add a long run of whole numbers, most of them equal to entries of
    the table, so the quick path meets ties on both sides.
    """
    table = np.sort(np.array(table, dtype=float))
    values = np.array(values, dtype=float)
    if seed % 2:
        values = np.concatenate([values, np.random.default_rng(seed).integers(-55, 55, 200)])
    if sort:
        values = np.sort(values)
    got = searchsorted(table, values, side)
    want = np.searchsorted(table, values, side=side)
    assert got.dtype == want.dtype
    assert np.array_equal(got, want)


def test_long_sorted_values_are_cut_not_searched_one_by_one(monkeypatch):
    """The quick path is the one taken (a mutant that always searches would pass the above)."""
    calls = []
    real = np.searchsorted

    def counting(a, v, side="left", sorter=None):
        calls.append(np.size(v))
        return real(a, v, side=side, sorter=sorter)

    monkeypatch.setattr(np, "searchsorted", counting)
    values = np.arange(10_000, dtype=float) / 7
    table = np.array([100.0, 200.0, 300.0, 5000.0])
    got = searchsorted(table, values, "right")
    assert max(calls) < len(values)  # never a search of every value
    assert np.array_equal(got, real(table, values, side="right"))
