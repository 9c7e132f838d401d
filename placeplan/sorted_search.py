"""``numpy.searchsorted`` of many sorted values in a short table, by cutting the values.

A replication looks up tens of thousands of instants (children's referrals, in time
order) in short sorted tables: Septembers, term starts, panel meetings, snapshots.
A binary search per instant costs a few cache-missing comparisons each; when the
instants are themselves sorted, finding where each table entry cuts them (one
binary search per entry that falls among them) and repeating each index over its
run of instants gives the very same indices for a fraction of the work.
"""

from __future__ import annotations

from typing import Literal

import numpy as np

__all__ = ["ascending", "searchsorted"]

_SHORT = 64
"""Below this many values the plain binary searches are as quick [1]."""


def ascending(values: np.ndarray) -> bool:
    """Whether ``values`` never decrease (NaN anywhere: not known to, so False)."""
    values = np.asarray(values)
    if len(values) < 2:
        return not (values.dtype.kind == "f" and np.isnan(values).any())
    return bool((values[1:] >= values[:-1]).all())


def searchsorted(
    table: np.ndarray, values: np.ndarray, side: Literal["left", "right"] = "left"
) -> np.ndarray:
    """``numpy.searchsorted(table, values, side)``, the same indices, quicker for sorted values.

    Parameters
    ----------
    table : numpy.ndarray
        Sorted 1-D array.
    values : numpy.ndarray
        1-D values to place; cut through when they never decrease (and hold no NaN),
        searched one by one otherwise.
    side : {"left", "right"}
        As for :func:`numpy.searchsorted`.

    Returns
    -------
    numpy.ndarray
        For each value, the number of table entries below it (``left``) or at most it
        (``right``), as ``intp``.

    Notes
    -----
    With ``values`` sorted, every entry of ``table`` below ``values[0]`` counts for
    each value and none from the first entry past ``values[-1]`` does; each entry in
    between counts from the first value it is below (``left``: ``entry < value``) or
    at most (``right``) on, so each value's index is the entries before the range plus
    the cuts it has passed.
    """
    table, values = np.asarray(table), np.asarray(values)
    n = len(values)
    if n < _SHORT or not ascending(values):
        return np.searchsorted(table, values, side=side)
    lo = int(np.searchsorted(table, values[0], side=side))
    hi = int(np.searchsorted(table, values[-1], side=side))
    cuts = np.searchsorted(values, table[lo:hi], side="right" if side == "left" else "left")
    bounds = np.empty(len(cuts) + 2, dtype=np.intp)
    bounds[0], bounds[1:-1], bounds[-1] = 0, cuts, n
    return lo + np.repeat(np.arange(hi - lo + 1, dtype=np.intp), bounds[1:] - bounds[:-1])
