"""One account of need: the children the cohort projection says need a special school place.

The projection gives a *target* each January: the plans of each age and primary need
times the share of them needing a special school place (in one, placed elsewhere, or
waiting for one). The queue model follows children one by one, so the target has to
be reached by flows a child can make:

- a child needing a place in January ``y`` at age ``a`` still needs one in January
  ``y + 1`` (at ``a + 1``) unless their plan ceases (the SEN2 ceasing rate of their
  age) or, where the target of the older age is below the survivors, they stop
  needing a special school place (the share by age falls: leavers at 16, 19);
- where the target is above the survivors, the gap is children newly needing a
  place: referrals, at the ages at which children are referred.

:func:`need_path` turns the target into those flows and into the expected number
needing a place each January (``need``). It is the *only* source of leaving for the
children of the queue model (:func:`need_exits`): the continuation probabilities
that take ``need[y]`` to ``need[y + 1]`` in expectation are the ones each child's
exit is drawn from. Pure functions: no I/O; randomness only from the generator given.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numba import njit

from placeplan.demand.pcg64 import advance, jumps, next_double, read_state, write_state

__all__ = ["NeedPath", "need_exits", "need_path"]


@dataclass(frozen=True)
class NeedPath:
    """The projection's children needing a place, and the flows that make them.

    Attributes
    ----------
    need : numpy.ndarray
        ``[year + 1, age, need]`` expected children needing a special school place
        each January from the base January [children].
    stay : numpy.ndarray
        ``[year, age, need]`` probability that a child needing a place in January
        ``y`` at ``age`` still needs one in January ``y + 1`` [1]; 0 at the oldest age.
    inflow : numpy.ndarray
        ``[year, age, need]`` expected children newly needing a place between January
        ``y`` and ``y + 1``, by their age in January ``y + 1`` [children].
    """

    need: np.ndarray
    stay: np.ndarray
    inflow: np.ndarray


def need_path(
    target: np.ndarray,
    cease_rate: np.ndarray,
    ages: tuple[int, int],
    inflow_factor: np.ndarray | None = None,
) -> NeedPath:
    """The flows that carry the children needing a place towards the projection's target.

    Parameters
    ----------
    target : numpy.ndarray
        ``[year + 1, age, need]`` children the projection says need a place each
        January (plans × share needing a place) [children]; ``target[0]`` is the
        state at the start.
    cease_rate : numpy.ndarray
        ``[age]`` share of plans ceasing within a year (SEN2) [per year].
    ages : tuple of int
        Youngest and oldest SEN2 age, in the later January, at which children are
        newly referred [years].
    inflow_factor : numpy.ndarray, optional
        ``[year]`` multiplier of the children newly needing a place in each year (a
        dated policy lever), applied to the flows found without it; those already
        needing a place continue with the same probabilities, so the path departs
        from the target by exactly the children not referred.

    Returns
    -------
    NeedPath
        ``need[0] == target[0]``; at every later January ``need`` equals the target
        wherever the target can be reached (no referral is needed outside the
        referral ages, no child has to be added where survivors exceed it), and
        always ``need[y + 1, a + 1] == need[y, a] * stay[y, a] + inflow[y, a + 1]``.
    """
    target = np.asarray(target, dtype=float)
    years = target.shape[0] - 1
    n_ages = target.shape[1]
    survive = 1.0 - np.clip(np.asarray(cease_rate, dtype=float), 0.0, 1.0)
    admissible = np.zeros(n_ages, dtype=bool)
    admissible[ages[0] : ages[1] + 1] = True
    factor = np.ones(years) if inflow_factor is None else np.asarray(inflow_factor, dtype=float)
    need, stay, inflow = _need_path(
        np.ascontiguousarray(target), survive, admissible, factor, inflow_factor is not None
    )
    return NeedPath(need=need, stay=stay, inflow=inflow)


@njit(cache=True)
def _need_path(target, survive, admissible, factor, scaled):  # pragma: no cover - compiled
    """:func:`need_path`'s flows, compiled: each value by the same operations in the same order.

    Year by year, at each age ``a`` of the earlier January and need: survivors
    ``now × survive``; ``stay = survive × min(later / survivors, 1)`` (``survive``
    where survivors are below 1e-9); ``inflow = max(later − survivors, 0)`` at
    referral ages; then ``need[y + 1, a + 1] = now × stay + inflow``. With ``scaled``,
    the inflows are multiplied by ``factor[y]`` and ``need`` is carried again from
    the same ``stay``.
    """
    years = target.shape[0] - 1
    n_ages, n_needs = target.shape[1], target.shape[2]
    need = np.zeros_like(target)
    need[0] = target[0]
    stay = np.zeros((years, n_ages, n_needs))
    inflow = np.zeros((years, n_ages, n_needs))
    for y in range(years):
        for a in range(n_ages - 1):
            for j in range(n_needs):
                now = need[y, a, j]
                survivors = now * survive[a]
                later = target[y + 1, a + 1, j]
                keep = later / survivors if survivors > 1e-9 else 1.0
                stay[y, a, j] = survive[a] * min(keep, 1.0)
                inflow[y, a + 1, j] = max(later - survivors, 0.0) if admissible[a + 1] else 0.0
                need[y + 1, a + 1, j] = now * stay[y, a, j] + inflow[y, a + 1, j]
        for j in range(n_needs):
            inflow[y, 0, j] = target[y + 1, 0, j] if admissible[0] else 0.0
            need[y + 1, 0, j] = inflow[y, 0, j]
    if scaled:  # fewer newly in need; those in need continue as before
        for y in range(years):
            for a in range(n_ages):
                for j in range(n_needs):
                    inflow[y, a, j] = inflow[y, a, j] * factor[y]
        for y in range(years):
            for a in range(n_ages - 1):
                for j in range(n_needs):
                    need[y + 1, a + 1, j] = need[y, a, j] * stay[y, a, j] + inflow[y, a + 1, j]
            for j in range(n_needs):
                need[y + 1, 0, j] = inflow[y, 0, j]
    return need, stay, inflow


def need_exits(
    rng: np.random.Generator,
    first_january: np.ndarray,
    age: np.ndarray,
    need: np.ndarray,
    stay: np.ndarray,
    base_year: int,
) -> np.ndarray:
    """When each child stops needing a place: 1 September after their last January in need.

    A child counted in January ``base_year + first_january`` at ``age`` stays to each
    next January with the probability :attr:`NeedPath.stay` of that year, age and
    need (past the projection's last year, the last year's), and otherwise leaves at
    the end of that academic year.

    Parameters
    ----------
    rng : numpy.random.Generator
        One ``(n, 26)`` block of uniforms is drawn: each child reads its row up to the
        January it leaves (for many children the rest of the row is jumped over, not
        generated: :mod:`placeplan.demand.pcg64`; the same numbers either way).
    first_january : numpy.ndarray
        Index (0 = the base January) of the first January the child is counted in.
    age : numpy.ndarray
        SEN2 age in that January [years].
    need : numpy.ndarray
        Primary need index of each child.
    stay : numpy.ndarray
        ``[year, age, need]`` continuation probabilities (:func:`need_path`).
    base_year : int
        Calendar year of the base January.

    Returns
    -------
    numpy.ndarray
        Day ordinal of 1 September of the year the child leaves [days].
    """
    first_january = np.asarray(first_january, dtype=np.int64)
    age = np.asarray(age, dtype=np.int64)
    need = np.asarray(need, dtype=np.int64)
    n = len(age)
    stay = np.ascontiguousarray(stay, dtype=float)
    state = read_state(rng) if n >= _STEPPED else None
    if state is None:  # few children (or not PCG64): draw the block whole
        u = rng.random((n, stay.shape[1]))
        last = _last_januaries(first_january, age, need, stay, u)
    else:  # the same uniforms, stepped in compiled code; those never read are jumped
        table = jumps(state[2], state[3], stay.shape[1])
        last, hi, lo = _last_januaries_stepped(
            first_january, age, need, stay, state[0], state[1], table
        )
        write_state(rng, hi, lo)
    return _septembers(base_year + first_january + last)


_STEPPED = 256
"""From this many children, exits are drawn by stepping the stream (:mod:`.pcg64`) [1]."""


@njit(cache=True)
def _last_januaries_stepped(first_january, age, need, stay, hi, lo, table):  # pragma: no cover
    """:func:`_last_januaries` drawing each child's uniforms from the PCG64 state itself.

    Child ``i`` reads uniforms ``u[i, 0], u[i, 1], …`` of its block of ``n_ages`` until
    it leaves; the rest of the block is jumped over, so the state returned is the one
    drawing the whole ``(n, n_ages)`` block leaves.
    """
    n_ages = stay.shape[1]
    out = np.zeros(age.shape[0], dtype=np.int64)
    for i in range(age.shape[0]):
        read = n_ages
        for k in range(n_ages):
            hi, lo, u = next_double(hi, lo, table)
            if u >= _continuing(stay, first_january[i], age[i], need[i], k):
                out[i] = k
                read = k + 1
                break
        if read < n_ages:
            hi, lo = advance(hi, lo, table, n_ages - read)
    return out, hi, lo


@njit(cache=True)
def _last_januaries(first_january, age, need, stay, u):  # pragma: no cover - compiled
    """Januaries after its first that each child is last counted in need (compiled).

    The first ``k`` with ``u[i, k] >= p``, ``p`` the chance of continuing from that
    January (0 past the oldest age); 0 if there is none, as ``argmax`` of no leave gives.
    """
    out = np.zeros(age.shape[0], dtype=np.int64)
    for i in range(age.shape[0]):
        for k in range(stay.shape[1]):
            if u[i, k] >= _continuing(stay, first_january[i], age[i], need[i], k):
                out[i] = k
                break
    return out


@njit(cache=True, inline="always")
def _continuing(stay, first_january, age, need, k):  # pragma: no cover - compiled
    """The chance a child still in need ``k`` Januaries after its first stays to the next.

    ``stay`` of that year (past the projection's last, the last year's), age and need;
    0 past the oldest age.
    """
    n_years, n_ages = stay.shape[0], stay.shape[1]
    a = age + k
    if a < n_ages and n_years > 0:
        return stay[min(first_january + k, n_years - 1), a, need]
    return 0.0


def _septembers(years: np.ndarray) -> np.ndarray:
    """1 September of each calendar year [days]; ``inf`` past 2401 (beyond any forecast)."""
    from placeplan.placement.rules import leaving_septembers  # (placement imports demand)

    return leaving_septembers(np.asarray(years, dtype=np.int64))
