"""The epoch engine's matching, compiled (numba).

One decision epoch of :mod:`placeplan.placement.epoch`: free the places whose pupils
have left, then offer the free places of every designation step by step, first come
first served within priority class. It is the loop the engine ran in Python, on
arrays, compiled once per machine (numba's cache). The placement rules are not
written again here: :func:`placeplan.placement.rules.first_free_pool` and
:func:`placeplan.placement.rules.leaves_place` are compiled as they are written, and
the per-child reference engine calls the same functions as Python. The tests check
that both engines place every child identically.

State lives in arrays the engine owns (children's offers, starts and pools; each
pool's places and places held; the instants places free up, as one binary heap of
``(instant, pool)``; pointers into the waiting lists); a call changes them in place.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from placeplan.placement import rules

__all__ = ["match_epoch", "match_epochs", "span_counts"]

_first_free_pool = njit(cache=True)(rules.first_free_pool)
_leaves_place = njit(cache=True)(rules.leaves_place)


@njit(cache=True)
def _heap_push(times, pools, size, when, pool):
    """Push ``(when, pool)`` on the min-heap of ``size[0]`` entries (by instant)."""
    k = size[0]
    size[0] = k + 1
    while k > 0:
        parent = (k - 1) >> 1
        if times[parent] <= when:
            break
        times[k] = times[parent]
        pools[k] = pools[parent]
        k = parent
    times[k] = when
    pools[k] = pool


@njit(cache=True)
def _heap_pop(times, pools, size):
    """Remove the earliest entry; return its pool."""
    top = pools[0]
    n = size[0] - 1
    size[0] = n
    when = times[n]
    pool = pools[n]
    k = 0
    while True:
        child = 2 * k + 1
        if child >= n:
            break
        if child + 1 < n and times[child + 1] < times[child]:
            child += 1
        if times[child] >= when:
            break
        times[k] = times[child]
        pools[k] = pools[child]
        k = child
    if n > 0:
        times[k] = when
        pools[k] = pool
    return top


@njit(cache=True)
def match_epoch(
    now,
    take_up,
    year,
    decided,
    leaves,
    offered,
    started,
    pool_of,
    age_base,
    locality,
    stay,
    age_out,
    school_out,
    school_out_row,
    capacity,
    held,
    free,
    youngest,
    oldest,
    pool_designation,
    pref_flat,
    pref_start,
    pref_len,
    occ_time,
    occ_pool,
    occ_next,
    heap_time,
    heap_pool,
    heap_size,
    step_designation,
    step_first_list,
    step_last_list,
    list_start,
    list_end,
    rows,
    pointers,
    totals,
    frees_out,
):  # pragma: no cover - compiled; covered through the engine's tests
    """One decision epoch: release, then offer places step by step.

    Parameters
    ----------
    now, take_up : float
        The epoch and when places offered at it are taken up [days].
    year : int
        Academic year of ``take_up`` (a child's age there is ``age_base + year``).
    decided : numpy.ndarray
        When each child is decided by a panel, ascending [days]: the children decided
        by ``now`` (``0 .. agreed - 1``) may be offered places.
    leaves, offered, started, pool_of, age_base, locality, stay, age_out : numpy.ndarray
        Per child: leaves the list [days]; offered and took up a place [days] (inf:
        not yet), in pool (-1: none); age less academic year; locality; mid-year stay
        and leaving by age [days].
    school_out, school_out_row : numpy.ndarray
        ``school_out[school_out_row[q], i]``: when child ``i`` would leave pool ``q``'s
        school at its oldest age [days].
    capacity, held, free, youngest, oldest, pool_designation : numpy.ndarray
        Per pool: places, places held, free places (written), ages taken, designation.
    pref_flat, pref_start, pref_len : numpy.ndarray
        ``pref_flat[pref_start[l, d] : pref_start[l, d] + pref_len[l, d]]``: the pools
        offered to a child of locality ``l`` and designation ``d``, in order.
    occ_time, occ_pool, occ_next : numpy.ndarray
        Pupils at the start: when each leaves (sorted) and its pool; ``occ_next[0]``
        the first not yet gone.
    heap_time, heap_pool, heap_size : numpy.ndarray
        The instants places taken up during the run free up, a heap of
        ``heap_size[0]`` entries.
    step_designation, step_first_list, step_last_list : numpy.ndarray
        Per step: the designation offered and its waiting lists (one per priority
        class, in order).
    list_start, list_end, rows, pointers : numpy.ndarray
        ``rows[list_start[k] : list_end[k]]``: list ``k``'s children in order of
        referral; ``pointers[k]``: its first child not yet known placed or gone.
    totals : numpy.ndarray
        Free places of each designation (scratch).
    frees_out : numpy.ndarray
        Written: when each place offered now frees up (finite ones), for continuous
        mode to wake at.

    Returns
    -------
    int
        How many instants were written to ``frees_out``.
    """
    agreed = np.searchsorted(decided, now, side="right")
    # release the places whose pupils have left by now
    k = occ_next[0]
    while k < occ_time.shape[0] and occ_time[k] <= now:
        held[occ_pool[k]] -= 1
        k += 1
    occ_next[0] = k
    while heap_size[0] > 0 and heap_time[0] <= now:
        q = _heap_pop(heap_time, heap_pool, heap_size)
        held[q] -= 1
    totals[:] = 0
    for q in range(capacity.shape[0]):
        free[q] = capacity[q] - held[q]
        if free[q] > 0:
            totals[pool_designation[q]] += free[q]
    n_frees = 0
    for s in range(step_designation.shape[0]):
        d = step_designation[s]
        total = totals[d]
        if total <= 0:
            continue
        for lst in range(step_first_list[s], step_last_list[s]):
            if total <= 0:
                break
            j = pointers[lst]
            end = list_end[lst]
            first_waiting = -1
            while total > 0 and j < end:
                i = rows[j]
                if i >= agreed:
                    break
                j += 1
                if offered[i] < np.inf or leaves[i] <= take_up:
                    continue  # placed, or will have left the list: never offered again
                age = age_base[i] + year
                at = pref_start[locality[i], d]
                order = pref_flat[at : at + pref_len[locality[i], d]]
                q = _first_free_pool(order, free, youngest, oldest, age)
                if q < 0:
                    if first_waiting < 0:
                        first_waiting = j - 1
                    continue  # no free place this child can take: waits on
                offered[i] = now
                started[i] = take_up
                pool_of[i] = q
                out = school_out[school_out_row[q], i]
                frees = _leaves_place(take_up, stay[i], age_out[i], out)
                _heap_push(heap_time, heap_pool, heap_size, frees, q)
                held[q] += 1
                free[q] -= 1
                total -= 1
                if frees < np.inf:
                    frees_out[n_frees] = frees
                    n_frees += 1
            pointers[lst] = first_waiting if first_waiting >= 0 else j
        totals[d] = total
    return n_frees


@njit(cache=True)
def match_epochs(times, take_ups, years, first, last, *state):  # pragma: no cover - compiled
    """Decision epochs ``first .. last - 1`` in turn (:func:`match_epoch` each).

    For epochs between which nothing else happens (no change of places): the engine
    hands over the run of epochs up to the next opening in one call. ``times``,
    ``take_ups`` and ``years`` give each epoch's instant, take-up and academic year;
    ``state`` is the rest of :func:`match_epoch`'s arguments, in its order.
    """
    for e in range(first, last):
        match_epoch(times[e], take_ups[e], years[e], *state)


@njit(cache=True)
def span_counts(k_from, k_to, where, snapshots, n):  # pragma: no cover - compiled
    """``[snapshot, category]`` counts of items counted at snapshots ``k_from <= k < k_to``.

    Parameters
    ----------
    k_from, k_to : numpy.ndarray
        Each item's first snapshot and the snapshot after its last (snapshot indices).
    where : numpy.ndarray
        Each item's category (designation or locality index).
    snapshots, n : int
        Number of snapshots and of categories.

    Returns
    -------
    numpy.ndarray
        ``int64 [snapshots, n]``.
    """
    steps = np.zeros((snapshots + 1, n), dtype=np.int64)
    for i in range(k_from.shape[0]):
        a, b = k_from[i], k_to[i]
        if a < b:
            steps[a, where[i]] += 1
            steps[b, where[i]] -= 1
    out = np.zeros((snapshots, n), dtype=np.int64)
    running = np.zeros(n, dtype=np.int64)
    for k in range(snapshots):
        for j in range(n):
            running[j] += steps[k, j]
            out[k, j] = running[j]
    return out


def day_starts(times: np.ndarray) -> tuple[int, np.ndarray]:
    """Lookup table for :func:`snapshot_index`: the first snapshot on or after each day.

    Parameters
    ----------
    times : numpy.ndarray
        Snapshot instants, ascending [days].

    Returns
    -------
    first_day : int
        The day of the first snapshot (``floor``) [days].
    starts : numpy.ndarray
        ``starts[d]``: how many snapshots fall before day ``first_day + d`` begins, for
        each day up to that of the last snapshot.
    """
    if len(times) == 0:
        return 0, np.zeros(1, dtype=np.int64)
    first_day = int(np.floor(times[0]))
    days = np.arange(first_day, int(np.floor(times[-1])) + 1, dtype=float)
    return first_day, np.searchsorted(times, days, side="left").astype(np.int64)


@njit(cache=True)
def snapshot_index(times, first_day, starts, when):  # pragma: no cover - compiled
    """Index of the first snapshot at or after each instant: ``searchsorted(times, when)``.

    The same numbers as :func:`numpy.searchsorted` with ``side="left"`` (``NaN`` after
    every snapshot), found from the day's entry of :func:`day_starts` instead of a
    binary search: a run's instants are many and its snapshots few.
    """
    n = times.shape[0]
    out = np.empty(when.shape[0], dtype=np.int64)
    for i in range(when.shape[0]):
        x = when[i]
        if n == 0 or x <= times[0]:
            out[i] = 0
        elif not x <= times[n - 1]:  # after the last, or NaN
            out[i] = n
        else:
            j = starts[int(np.floor(x)) - first_day]
            while times[j] < x:
                j += 1
            out[i] = j
    return out
