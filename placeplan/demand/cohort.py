"""Cohort arithmetic over arrays of plans indexed ``[..., age, need]``.

Pure functions: no I/O, no randomness. Ages run 0–25 (SEN2 age at 31 August);
leading dimensions (e.g. replications) broadcast.
"""

from __future__ import annotations

import numpy as np
from numba import njit

__all__ = ["cohort_step", "expected_referrals", "project", "specialist_share"]

_TINY = 1e-9
"""Counts below this many plans are treated as zero [plans]."""


def cohort_step(
    stock: np.ndarray,
    cease_rate: np.ndarray,
    new: np.ndarray,
    recode_mix: np.ndarray | None = None,
    recode_share: float | np.ndarray = 0.0,
) -> tuple[np.ndarray, np.ndarray]:
    """Advance the stock of plans by one year.

    Parameters
    ----------
    stock : numpy.ndarray
        Plans in January, ``[..., age, need]`` [plans].
    cease_rate : numpy.ndarray
        Share of plans at each age that cease during the year, ``[..., age]``
        [per year]. Plans at the oldest age all cease (they leave the 0–25 range).
    new : numpy.ndarray
        New plans made during the year, by the age at which they appear in the next
        January, ``[..., age, need]`` [plans].
    recode_mix : numpy.ndarray, optional
        Need mix of each age, ``[..., age, need]`` (rows summing to 1), towards which the
        recorded needs of plans that age move [1].
    recode_share : float or numpy.ndarray
        Share of each age's continuing plans whose recorded need is re-recorded
        each year (one per leading index, ``[...]``, or one for all), following
        ``recode_mix`` of their new age [per year]. Recording changes only the need
        of a plan, never the number of plans.

    Returns
    -------
    next_stock, ceased : numpy.ndarray
        Plans next January and plans ceased during the year [plans]; always
        ``next_stock.sum() == stock.sum() + new.sum() - ceased.sum()``.

    """
    rate = np.clip(np.asarray(cease_rate, dtype=float), 0.0, 1.0)[..., :, None]
    ceased = stock * rate
    ceased[..., -1, :] = stock[..., -1, :]
    survivors = stock - ceased
    aged = np.zeros_like(stock)
    aged[..., 1:, :] = survivors[..., :-1, :]
    share = np.clip(np.asarray(recode_share, dtype=float), 0.0, 1.0)[..., None, None]
    if recode_mix is not None and np.any(share > 0):
        totals = aged.sum(axis=-1, keepdims=True)
        aged = (1.0 - share) * aged + share * totals * recode_mix
    return aged + new, ceased


def project(
    stock0: np.ndarray,
    cease_rate: np.ndarray,
    new_by_year: np.ndarray,
    recode_mix: np.ndarray | None = None,
    recode_share: float | np.ndarray = 0.0,
    cease_factor: np.ndarray | None = None,
) -> np.ndarray:
    """Project the stock of plans over several years.

    Parameters
    ----------
    stock0 : numpy.ndarray
        Plans in the base January, ``[..., age, need]`` [plans].
    cease_rate : numpy.ndarray
        ``[..., age]`` [per year].
    new_by_year : numpy.ndarray
        New plans in each projected year, ``[..., year, age, need]`` [plans].
    recode_mix, recode_share
        Re-recording of needs as plans age (see :func:`cohort_step`).
    cease_factor : numpy.ndarray, optional
        ``[..., year]`` multiplier of every age's ceasing rate in each projected year
        (a year's deviation of ceasing) [1]; 1 if omitted.

    Returns
    -------
    numpy.ndarray
        Plans each January from the base on, ``[..., year + 1, age, need]`` [plans].

    """
    years = new_by_year.shape[-3]
    rate = np.asarray(cease_rate, dtype=float)
    if (
        np.ndim(stock0) == 2
        and np.ndim(new_by_year) == 3
        and rate.ndim == 1
        and (cease_factor is None or np.ndim(cease_factor) == 1)
        and np.ndim(recode_share) == 0
    ):  # one projection (a replication's): compiled, the same arithmetic in the same order
        share = min(max(float(recode_share), 0.0), 1.0)
        return _project_one(
            np.ascontiguousarray(stock0, dtype=float),
            rate,
            np.ones(years) if cease_factor is None else np.asarray(cease_factor, dtype=float),
            np.ascontiguousarray(new_by_year, dtype=float),
            np.zeros((0, 0)) if recode_mix is None else np.asarray(recode_mix, dtype=float),
            share if recode_mix is not None else 0.0,
        )
    lead = np.broadcast_shapes(stock0.shape[:-2], new_by_year.shape[:-3])
    out = np.empty((*lead, years + 1, *stock0.shape[-2:]))
    out[..., 0, :, :] = stock0
    for y in range(years):
        year_rate = rate if cease_factor is None else rate * cease_factor[..., y, None]
        out[..., y + 1, :, :], _ = cohort_step(
            out[..., y, :, :], year_rate, new_by_year[..., y, :, :], recode_mix, recode_share
        )
    return out


@njit(cache=True)
def pairwise_sum(a: np.ndarray) -> float:  # pragma: no cover - compiled
    """The sum of a 1-D array in the order numpy's ``sum`` adds a contiguous row.

    Blocks of up to 128 are summed with eight running sums, combined as
    ``((r0 + r1) + (r2 + r3)) + ((r4 + r5) + (r6 + r7))``, then the remainder one by
    one; longer rows are split in two (at a multiple of 8) and each half summed so.
    Fewer than eight values are added one by one from 0. Compiled code that sums
    the way numpy does gives the same bits (tested against numpy).
    """
    n = a.shape[0]
    if n < 8:
        res = 0.0
        for i in range(n):
            res += a[i]
        return res
    if n <= 128:
        r0, r1, r2, r3 = a[0], a[1], a[2], a[3]
        r4, r5, r6, r7 = a[4], a[5], a[6], a[7]
        i = 8
        while i < n - (n % 8):
            r0 += a[i]
            r1 += a[i + 1]
            r2 += a[i + 2]
            r3 += a[i + 3]
            r4 += a[i + 4]
            r5 += a[i + 5]
            r6 += a[i + 6]
            r7 += a[i + 7]
            i += 8
        res = ((r0 + r1) + (r2 + r3)) + ((r4 + r5) + (r6 + r7))
        while i < n:
            res += a[i]
            i += 1
        return res
    half = n // 2
    half -= half % 8
    return pairwise_sum(a[:half]) + pairwise_sum(a[half:])


@njit(cache=True)
def _project_one(stock0, rate, cease_factor, new_by_year, recode_mix, share):  # pragma: no cover
    """:func:`project` of one stock, compiled: :func:`cohort_step`'s operations, in its order.

    ``cease_factor`` is ``[year]`` (ones when there is none: ``x * 1.0 == x``);
    ``share`` the clipped re-recording share, 0 for none.
    """
    years, n_ages, n_needs = new_by_year.shape
    out = np.empty((years + 1, n_ages, n_needs))
    out[0] = stock0
    aged = np.empty((n_ages, n_needs))
    for y in range(years):
        stock = out[y]
        for a in range(n_ages):
            r = min(max(rate[a] * cease_factor[y], 0.0), 1.0)
            for j in range(n_needs):
                if a == n_ages - 1:
                    aged[0, j] = 0.0  # the oldest all cease; nobody ages into the youngest
                    continue
                ceased = stock[a, j] * r
                aged[a + 1, j] = stock[a, j] - ceased
        if share > 0:
            for a in range(n_ages):
                total = pairwise_sum(aged[a])
                for j in range(n_needs):
                    aged[a, j] = (1.0 - share) * aged[a, j] + share * total * recode_mix[a, j]
        for a in range(n_ages):
            for j in range(n_needs):
                out[y + 1, a, j] = aged[a, j] + new_by_year[y, a, j]
    return out


def specialist_share(
    stock: np.ndarray,
    special_by_age: np.ndarray,
    special_by_need: np.ndarray,
    iterations: int = 200,
) -> np.ndarray:
    """Share of plans in special schools by age and need, fitted to both margins.

    SEN2 publishes special school plans by age and by need, not crossed. Starting
    from the stock of plans, iterative proportional fitting finds the table of
    special school plans closest to the stock's shape whose age and need totals
    match the published ones; its ratio to the stock is the share.

    Parameters
    ----------
    stock : numpy.ndarray
        All plans ``[age, need]`` [plans].
    special_by_age, special_by_need : numpy.ndarray
        Special school plans by age ``[age]`` and by need ``[need]`` [plans].
        Their totals are made equal (the need margin is scaled to the age total).
    iterations : int
        Rounds of fitting.

    Returns
    -------
    numpy.ndarray
        ``[age, need]`` shares in [0, 1] (0 where there are no plans).

    """
    stock = np.asarray(stock, dtype=float)
    stock = np.where(stock > _TINY, stock, 0.0)  # fractions of a plan this small are none
    by_age = np.minimum(np.asarray(special_by_age, dtype=float), stock.sum(axis=1))
    by_need = np.asarray(special_by_need, dtype=float)
    if by_need.sum() > 0:
        by_need = by_need * by_age.sum() / by_need.sum()
    table = stock.copy()
    for _ in range(iterations):
        rows = table.sum(axis=1)
        table *= np.divide(by_age, rows, out=np.zeros_like(rows), where=rows > _TINY)[:, None]
        cols = table.sum(axis=0)
        table *= np.divide(by_need, cols, out=np.zeros_like(cols), where=cols > _TINY)[None, :]
        table = np.minimum(table, stock)
    return np.divide(table, stock, out=np.zeros_like(stock), where=stock > 0)


def expected_referrals(
    specialist: np.ndarray, cease_rate: np.ndarray, ages: tuple[int, int]
) -> np.ndarray:
    """Children newly needing a special school place in each year of a projection.

    The specialist demand of a cohort (children born in the same year) grows as
    its plans grow and as the share needing a special school rises with age; each
    year's growth of a cohort's specialist demand, after ceasing, is the flow of
    children newly referred for a place. At the youngest referral age, every child
    needing a place is a new referral (nobody younger is referred).

    Parameters
    ----------
    specialist : numpy.ndarray
        Children needing a special school place each January, ``[..., year, age, need]``
        [children].
    cease_rate : numpy.ndarray
        ``[..., age]`` [per year].
    ages : tuple of int
        Youngest and oldest age (in the later January) at which children are referred.

    Returns
    -------
    numpy.ndarray
        ``[..., year - 1, age, need]``: referrals between January ``y`` and ``y + 1``
        of children aged ``age`` in January ``y + 1`` [children per year], never negative.

    """
    survive = (1.0 - np.clip(np.asarray(cease_rate, dtype=float), 0.0, 1.0))[..., :-1, None]
    survive = np.expand_dims(survive, -3)  # [..., 1 (year), age - 1, 1 (need)]
    flow = np.zeros(specialist[..., 1:, :, :].shape)
    flow[..., 1:, :] = specialist[..., 1:, 1:, :] - specialist[..., :-1, :-1, :] * survive
    flow[..., 0, :] = specialist[..., 1:, 0, :]
    lo, hi = ages
    # Nobody younger than the youngest referral age has been referred, so every child
    # of that age needing a place is a new referral.
    flow[..., lo, :] = specialist[..., 1:, lo, :]
    mask = np.zeros(specialist.shape[-2], dtype=bool)
    mask[lo : hi + 1] = True
    return np.where(mask[:, None], np.maximum(flow, 0.0), 0.0)
